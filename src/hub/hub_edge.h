/*
 * The hub's edge: every TCP connection from its accept to its end, counted against the
 * connection quotas (auth/quota.h), and the descriptor budget of the process.
 *
 *   - accept (LWS_CALLBACK_FILTER_NETWORK_CONNECTION): a connection over the pending
 *     quotas is closed at once, after a best-effort `503` answer on plain HTTP;
 *   - the quota entry is bound to its lws connection when lws instantiates it
 *     (SERVER_NEW_CLIENT_INSTANTIATED) and released when lws destroys it (WSI_DESTROY);
 *   - the upgrade (HTTP_CONFIRM_UPGRADE) is checked against the WebSocket quotas;
 *   - every request's headers (FILTER_HTTP_CONNECTION) and body (BODY_COMPLETION) move
 *     the handshake deadline; the tick closes connections past it.
 *
 * Descriptors: at start the soft RLIMIT_NOFILE is raised to the hard limit, and
 * --max-conns and --max-pending are lowered (with a notice) when they do not fit in it
 * beside HUB_FD_RESERVE descriptors and one file per pending connection, so the server
 * refuses connections by its own rules before it could run out of descriptors.
 */
#ifndef KONSIL_HUB_EDGE_H
#define KONSIL_HUB_EDGE_H

#include <stdbool.h>

#include <libwebsockets.h>

#include "hub/hub.h"

typedef struct hub hub;

/* Descriptors kept for everything but client sockets: SQLite files, the listening
 * socket, lws's event pipe, standard streams, templates being read. */
#define HUB_FD_RESERVE 64

/* Raises the descriptor limit and fits the connection limits of c into it; a line on
 * stderr says what was lowered. -1 when not even a handful of connections fit. */
int hub_edge_fit_descriptors(hub_config *c, char *err, size_t n);

int hub_edge_init(hub *h);
/* After the lws context is gone (every connection closed). */
void hub_edge_free(hub *h);

/* 0 to accept the new socket, nonzero to close it. */
int hub_edge_accept(hub *h, const struct lws_filter_network_conn_args *a);
void hub_edge_bind(hub *h, struct lws *wsi);
void hub_edge_destroyed(hub *h, struct lws *wsi);
/* The upgrade for principal: 0, or the HTTP status to refuse it with (code and message
 * set). */
int hub_edge_upgrade(hub *h, struct lws *wsi, const char *principal, const char **code,
                     const char **message);
/* A request's headers are in (FILTER_HTTP_CONNECTION); it is complete (its body is in
 * too). */
void hub_edge_request(hub *h, struct lws *wsi);
void hub_edge_complete(hub *h, struct lws *wsi);
/* From the tick: closes connections past their handshake deadline. */
void hub_edge_tick(hub *h);

#endif
