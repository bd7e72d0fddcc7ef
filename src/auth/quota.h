/*
 * Connection quotas (pure: no sockets, time passed in). Who may hold how many
 * connections, the policy of protocol/limits.md, "Connections", in one place:
 *
 *   - a TCP connection is *pending* from its accept until it becomes an authenticated
 *     WebSocket (HTTP requests, keep-alive, upgrades in progress); at most
 *     `max_pending` at once, and `max_pending_addr` per client address. Beyond them a
 *     new connection is refused at its accept;
 *   - WebSockets: at most `max_conns` at once, `max_conns_addr` per client address and
 *     `max_conns_principal` per principal. Beyond them the upgrade is refused;
 *   - handshake deadline: a pending connection must have sent its request (headers, and
 *     its body when it has one) within `handshake_ms` of its accept, or of the start of
 *     a later request's body; after that the hub closes it (auth_quota_expired). A
 *     connection whose request is complete waits for its answer without a deadline.
 *
 * So one address can hold at most max_pending_addr + max_conns_addr descriptors, and
 * one principal max_conns_principal WebSockets, whatever else happens.
 *
 * Ownership: the table owns every auth_quota_conn from accept to auth_quota_close;
 * `owner` is the caller's handle, never touched here.
 */
#ifndef KONSIL_AUTH_QUOTA_H
#define KONSIL_AUTH_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct auth_quota_config {
    size_t max_pending, max_pending_addr;
    size_t max_conns, max_conns_addr, max_conns_principal;
    int64_t handshake_ms;
} auth_quota_config;

typedef enum auth_quota_verdict {
    AUTH_QUOTA_OK = 0,
    AUTH_QUOTA_PENDING_FULL,        /* max_pending reached */
    AUTH_QUOTA_PENDING_ADDR,        /* max_pending_addr reached for this address */
    AUTH_QUOTA_CONNS_FULL,          /* max_conns reached */
    AUTH_QUOTA_CONNS_ADDR,          /* max_conns_addr reached for this address */
    AUTH_QUOTA_CONNS_PRINCIPAL,     /* max_conns_principal reached for this principal */
    AUTH_QUOTA_NO_MEMORY,
} auth_quota_verdict;

typedef struct auth_quota auth_quota;
typedef struct auth_quota_conn auth_quota_conn;

auth_quota *auth_quota_new(const auth_quota_config *cfg);
/* Frees the table; every connection must have been closed (auth_quota_close) first. */
void auth_quota_free(auth_quota *q);

/* A TCP connection from addr was accepted now: counted as pending with its handshake
 * deadline, or refused (NULL, *why set). */
auth_quota_conn *auth_quota_accept(auth_quota *q, const char *addr, int64_t now,
                                   auth_quota_verdict *why);
void auth_quota_set_owner(auth_quota_conn *c, void *owner);
void *auth_quota_owner(const auth_quota_conn *c);
const char *auth_quota_addr(const auth_quota_conn *c);

/* Its upgrade to a WebSocket for principal: within the quotas it stops being pending
 * (no deadline any more) and counts as a WebSocket; otherwise nothing changes. */
auth_quota_verdict auth_quota_upgrade(auth_quota *q, auth_quota_conn *c, const char *principal);

/* A request's headers are in: with a body to come, the deadline runs (from now, if none
 * was running); without one the request is complete and the deadline stops. */
void auth_quota_request(auth_quota *q, auth_quota_conn *c, bool body, int64_t now);
/* The request is complete (its body is in): the deadline stops. */
void auth_quota_complete(auth_quota *q, auth_quota_conn *c);

/* The connection is gone: its counts are released and c is freed. */
void auth_quota_close(auth_quota *q, auth_quota_conn *c);

/* The owner of a connection whose deadline has passed, which stops being watched (so
 * each is returned once); NULL when none. */
void *auth_quota_expired(auth_quota *q, int64_t now);

size_t auth_quota_pending(const auth_quota *q);
size_t auth_quota_websockets(const auth_quota *q);
/* Pending connections and WebSockets of one address. */
void auth_quota_of_addr(const auth_quota *q, const char *addr, size_t *pending,
                        size_t *websockets);

#endif
