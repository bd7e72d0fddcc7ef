/*
 * The hub's edge: connection quotas on lws's connection lifecycle and the descriptor
 * budget (see hub_edge.h).
 */
#include "hub/hub_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "auth/quota.h"
#include "hub/hub_edge.h"
#include "util/klog.h"

/* The fewest connections worth serving. */
#define MIN_CONNS 8

int hub_edge_fit_descriptors(hub_config *c, char *err, size_t n)
{
    struct rlimit rl;
    size_t have, pending = c->max_pending, conns = c->max_conns;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, n, "cannot read the open-file limit: %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    have = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)1 << 24 ?
           (size_t)1 << 24 : (size_t)rl.rlim_cur;
    if (have < HUB_FD_RESERVE + 3 * MIN_CONNS) {
        snprintf(err, n, "the open-file limit (%zu) leaves no room for connections", have);
        return -1;
    }
    have -= HUB_FD_RESERVE;
    /* A pending connection may hold a file it serves besides its socket. */
    if (conns + 2 * pending <= have)
        return 0;
    if (2 * pending > have / 2)
        pending = have / 4;
    if (conns + 2 * pending > have)
        conns = have - 2 * pending;
    snprintf(err, n, "%zu open files allowed: --max-conns %zu -> %zu, --max-pending %zu -> "
             "%zu", have + HUB_FD_RESERVE, c->max_conns, conns, c->max_pending, pending);
    klog(KLOG_WARN, "hub", err);
    err[0] = '\0';
    c->max_conns = conns;
    c->max_pending = pending;
    return 0;
}

int hub_edge_init(hub *h)
{
    auth_quota_config qc = {
        .max_pending = h->cfg.max_pending,
        .max_pending_addr = h->cfg.max_pending_addr,
        .max_conns = h->cfg.max_conns,
        .max_conns_addr = h->cfg.max_conns_addr,
        .max_conns_principal = h->cfg.max_conns_principal,
        .handshake_ms = (int64_t)h->cfg.handshake_secs * 1000,
    };

    h->quota = auth_quota_new(&qc);
    return h->quota ? 0 : -1;
}

void hub_edge_free(hub *h)
{
    if (h->admitting)
        auth_quota_close(h->quota, h->admitting);
    h->admitting = NULL;
    auth_quota_free(h->quota);
    h->quota = NULL;
}

/* The answer to a connection refused at its accept, written before its request. */
static int refusal(char *out, size_t n)
{
    static const char body[] = "{\"error\":{\"code\":\"too_many_connections\",\"message\":"
                               "\"too many connections; try again later\"}}";

    return snprintf(out, n, "HTTP/1.1 503 Service Unavailable\r\ncontent-type: "
                    "application/json\r\ncache-control: no-store\r\nconnection: close\r\n"
                    "content-length: %zu\r\n\r\n%s", sizeof body - 1, body);
}

int hub_edge_accept(hub *h, const struct lws_filter_network_conn_args *a)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    auth_quota_verdict why;
    auth_quota_conn *c;

    /* An accepted socket whose lws connection never came (adoption failed). */
    if (h->admitting) {
        auth_quota_close(h->quota, h->admitting);
        h->admitting = NULL;
    }
    if (a->cli_addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->cli_addr)->sin_addr, addr,
                  sizeof addr);
    else if (a->cli_addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->cli_addr)->sin6_addr, addr,
                  sizeof addr);
    c = auth_quota_accept(h->quota, addr, hub_now_ms(), &why);
    if (!c) {
        hub_metrics_limit(h, why == AUTH_QUOTA_PENDING_ADDR ? HUB_LIMIT_MAX_PENDING_ADDR :
                          HUB_LIMIT_MAX_PENDING);
        /* Best effort, before any request: a client that reads sees why. */
        char text[400];
        int len = refusal(text, sizeof text);
        if (!h->cfg.tls_cert && len > 0 && (size_t)len < sizeof text)
            (void)!send(a->accept_fd, text, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
        return 1;
    }
    h->admitting = c;
    return 0;
}

void hub_edge_bind(hub *h, struct lws *wsi)
{
    if (!h->admitting)
        return;
    auth_quota_set_owner(h->admitting, wsi);
    lws_set_opaque_user_data(wsi, h->admitting);
    h->admitting = NULL;
}

void hub_edge_destroyed(hub *h, struct lws *wsi)
{
    auth_quota_conn *c = lws_get_opaque_user_data(wsi);

    if (!c || !h->quota)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    auth_quota_close(h->quota, c);
}

int hub_edge_upgrade(hub *h, struct lws *wsi, const char *principal, const char **code,
                     const char **message)
{
    auth_quota_conn *c = lws_get_opaque_user_data(wsi);

    if (!c)
        return 0;
    switch (auth_quota_upgrade(h->quota, c, principal)) {
    case AUTH_QUOTA_OK:
        return 0;
    case AUTH_QUOTA_CONNS_PRINCIPAL:
        hub_metrics_limit(h, HUB_LIMIT_MAX_CONNS_PRINCIPAL);
        *code = "too_many_connections";
        *message = "this login has too many connections open";
        return 429;
    case AUTH_QUOTA_CONNS_ADDR:
        hub_metrics_limit(h, HUB_LIMIT_MAX_CONNS_ADDR);
        *code = "too_many_connections";
        *message = "too many connections from this address";
        return 429;
    default:
        hub_metrics_limit(h, HUB_LIMIT_MAX_CONNS);
        *code = "server_full";
        *message = "the server has no room for another connection; try again later";
        return 503;
    }
}

void hub_edge_request(hub *h, struct lws *wsi)
{
    auth_quota_conn *c = lws_get_opaque_user_data(wsi);
    char cl[32];
    bool body;

    if (!c)
        return;
    /* A body follows when announced, and lws waits for one on a POST, PUT or PATCH
     * that announces none. */
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        body = strtoull(cl, NULL, 10) > 0;
    else
        body = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 ||
               lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0 ||
               lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0;
    auth_quota_request(h->quota, c, body, hub_now_ms());
}

void hub_edge_complete(hub *h, struct lws *wsi)
{
    auth_quota_conn *c = lws_get_opaque_user_data(wsi);

    if (c)
        auth_quota_complete(h->quota, c);
}

void hub_edge_tick(hub *h)
{
    struct lws *wsi;
    int64_t now = hub_now_ms();

    while ((wsi = auth_quota_expired(h->quota, now))) {
        hub_metrics_limit(h, HUB_LIMIT_HANDSHAKE);
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}
