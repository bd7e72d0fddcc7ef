/*
 * The hub's event loop (see hub_loop.h).
 *
 * Why not lws's own loop by default: lws 4.1 poll()s every socket on each wakeup and
 * walks the whole pollfd array after it, a cost that grows with the connections held.
 * libuv and libev wait with epoll, which reports only the sockets that are ready.
 *
 * How lws 4.1.6 takes a context down on a foreign loop (lib/core/context.c,
 * lib/event-libs/libuv/libuv.c): the first lws_context_destroy() closes every
 * connection, but with libuv a handle is closed only when the loop has run its close
 * callback, so it returns with the context half destroyed; the loop must run until
 * those callbacks (and then those of lws's timer and idle handles) have run, and a
 * second lws_context_destroy() frees the context. libev closes synchronously, so one
 * call does it all. The hub's close frames are sent before any of this: the hub keeps
 * serving after SIGTERM until every client has answered its 1001 (hub.c), so the
 * context destroy only closes the listening socket and lws's wake-up pipe.
 */
#include "hub/hub_loop.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char *const names[] = {"libuv", "libev", "poll"};

int hub_loop_kind_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *hub_loop_kind_name(hub_loop_kind kind)
{
    return names[kind];
}

int hub_loop_prepare(hub_loop *l, hub_loop_kind kind, struct lws_context_creation_info *info,
                     char *err, size_t n)
{
    uv_loop_t *uv;

    memset(l, 0, sizeof *l);
    l->kind = kind;
    switch (kind) {
    case HUB_LOOP_LIBUV:
        uv = calloc(1, sizeof *uv);
        if (!uv || uv_loop_init(uv) != 0) {
            free(uv);
            snprintf(err, n, "cannot create the libuv loop");
            return -1;
        }
        l->loop = uv;
        info->options |= LWS_SERVER_OPTION_LIBUV;
        break;
    case HUB_LOOP_LIBEV:
        l->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!l->loop) {
            snprintf(err, n, "cannot create the libev loop");
            return -1;
        }
        info->options |= LWS_SERVER_OPTION_LIBEV;
        break;
    case HUB_LOOP_POLL:
        return 0;
    }
    l->foreign[0] = l->loop;
    info->foreign_loops = l->foreign;
    return 0;
}

int hub_loop_run_once(hub_loop *l, struct lws_context *ctx)
{
    switch (l->kind) {
    case HUB_LOOP_LIBUV:
        uv_run(l->loop, UV_RUN_ONCE);
        return 0;
    case HUB_LOOP_LIBEV:
        ev_run(l->loop, EVRUN_ONCE);
        return 0;
    case HUB_LOOP_POLL:
        break;
    }
    return lws_service(ctx, 0) < 0 ? -1 : 0;
}

void hub_loop_destroy(hub_loop *l, struct lws_context *ctx)
{
    switch (l->kind) {
    case HUB_LOOP_LIBUV:
        if (ctx) {
            lws_context_destroy(ctx);       /* closes every handle lws holds... */
            uv_run(l->loop, UV_RUN_DEFAULT); /* ...which is done when the loop has run */
            lws_context_destroy(ctx);       /* frees the context */
        }
        if (l->loop) {
            uv_run(l->loop, UV_RUN_DEFAULT);
            uv_loop_close(l->loop);
            free(l->loop);
        }
        break;
    case HUB_LOOP_LIBEV:
        if (ctx)
            lws_context_destroy(ctx);
        if (l->loop)
            ev_loop_destroy(l->loop);
        break;
    case HUB_LOOP_POLL:
        if (ctx)
            lws_context_destroy(ctx);
        break;
    }
    l->loop = NULL;
}
