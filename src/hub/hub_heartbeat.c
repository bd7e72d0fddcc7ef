/*
 * The heartbeat rule (see hub_heartbeat.h). Invariant: a connection is judged only while
 * the server reads from it; pausing and resuming counts as having heard it.
 */
#include "hub/hub_heartbeat.h"

void hub_heartbeat_heard(hub_conn *c, int ping, int64_t now_ms)
{
    c->heard_ms = now_ms;
    if (ping)
        c->heartbeat = 1;
}

void hub_heartbeat_sweep(hub *h, int64_t now_ms)
{
    int64_t window = (int64_t)h->cfg.heartbeat_secs * 1000;

    for (hub_conn *c = h->conns; c; c = c->next) {
        if (!c->heartbeat || !c->wsi || c->close_code)
            continue;
        if (c->rx_paused) {
            c->heard_ms = now_ms;
            continue;
        }
        if (now_ms - c->heard_ms > window) {
            c->heartbeat = 0;
            c->peer.dead = 1;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
}
