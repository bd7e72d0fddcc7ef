/*
 * The event loop the hub's libwebsockets context runs in (`konsil serve --event-loop`):
 * a libev loop (epoll) that the hub owns and lws joins as a foreign loop, or lws's own
 * poll() loop. The hub runs one loop pass at a time and checks its stop condition
 * between passes.
 *
 * Ownership: the hub_loop is embedded in the hub context; hub_loop_prepare() fills the
 * creation info before lws_create_context(), hub_loop_destroy() destroys the lws
 * context (if any) and then the loop.
 */
#ifndef KONSIL_HUB_LOOP_H
#define KONSIL_HUB_LOOP_H

#include <stddef.h>

#include <libwebsockets.h>

typedef enum hub_loop_kind {
    HUB_LOOP_EPOLL = 0,         /* libev's loop with its epoll backend: the default */
    HUB_LOOP_POLL,              /* lws's own poll() loop */
} hub_loop_kind;

typedef struct hub_loop {
    hub_loop_kind kind;
    struct ev_loop *ev;         /* NULL for poll */
    void *foreign[1];           /* lws reads this during lws_create_context() */
} hub_loop;

/* The kind named `name` ("epoll" or "poll"); -1 for another name. */
int hub_loop_kind_parse(const char *name);

/* Creates the loop and points `info` at it. 0, or -1 with a message in err. */
int hub_loop_prepare(hub_loop *l, hub_loop_kind kind, struct lws_context_creation_info *info,
                     char *err, size_t n);

/* Runs one pass: waits for an event or a timer and serves what is ready. 0, or -1 when
 * the loop cannot go on. */
int hub_loop_run_once(hub_loop *l, struct lws_context *ctx);

/* Destroys ctx (may be NULL) and then the loop. */
void hub_loop_destroy(hub_loop *l, struct lws_context *ctx);

#endif
