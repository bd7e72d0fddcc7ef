/*
 * The hub's event loop (see hub_loop.h).
 *
 * Why not lws's own loop by default: lws 4.1 poll()s every socket on each wakeup and
 * walks the whole pollfd array after it, a cost that grows with the connections held.
 * libev waits with epoll, which reports only the sockets that are ready.
 *
 * Why libev and not libuv (both epoll, both shipped as lws event-lib plugins by Debian,
 * measured alike; BENCHMARKS.md): with lws 4.1.6 on a foreign libuv loop, lws closes
 * its handles asynchronously, so the context needs two destroy calls with loop passes
 * between them, and destroying its wake-up pipe closes that descriptor twice (once at
 * once, once from libuv's close callback a loop pass later), which in a process with
 * other threads can close a descriptor one of them has just opened. With libev every
 * close is synchronous: one lws_context_destroy() takes everything down, each
 * descriptor closed once.
 */
#include "hub/hub_loop.h"

#include <ev.h>
#include <stdio.h>
#include <string.h>

int hub_loop_kind_parse(const char *name)
{
    if (strcmp(name, "epoll") == 0)
        return HUB_LOOP_EPOLL;
    if (strcmp(name, "poll") == 0)
        return HUB_LOOP_POLL;
    return -1;
}

int hub_loop_prepare(hub_loop *l, hub_loop_kind kind, struct lws_context_creation_info *info,
                     char *err, size_t n)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    if (kind == HUB_LOOP_POLL)
        return 0;
    /* NOSIGMASK: the hub's signals are blocked in every thread and taken by sigwait(). */
    l->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    if (!l->ev) {
        snprintf(err, n, "cannot create the epoll event loop");
        return -1;
    }
    l->foreign[0] = l->ev;
    info->foreign_loops = l->foreign;
    info->options |= LWS_SERVER_OPTION_LIBEV;
    return 0;
}

int hub_loop_run_once(hub_loop *l, struct lws_context *ctx)
{
    if (l->kind == HUB_LOOP_POLL)
        return lws_service(ctx, 0) < 0 ? -1 : 0;
    ev_run(l->ev, EVRUN_ONCE);
    return 0;
}

void hub_loop_destroy(hub_loop *l, struct lws_context *ctx)
{
    if (ctx)
        lws_context_destroy(ctx);
    if (l->ev)
        ev_loop_destroy(l->ev);
    l->ev = NULL;
}
