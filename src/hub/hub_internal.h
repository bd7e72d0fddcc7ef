/*
 * What the hub's files share: the hub context (the only mutable state of the server,
 * owned by hub_run()) and the per-connection state. Everything here is touched by the
 * service thread only, except `stop_requested` (set by the signal thread) and the
 * lws context pointer used for lws_cancel_service() by the store's threads.
 */
#ifndef KONSIL_HUB_INTERNAL_H
#define KONSIL_HUB_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>

#include <libwebsockets.h>

#include "hub/hub.h"
#include "hub/hub_identity.h"
#include "proto/proto.h"
#include "room/room.h"
#include "store/store.h"

typedef struct hub hub;

/* One WebSocket connection. Refcounted: the lws session holds one reference until
 * LWS_CALLBACK_CLOSED, and each store job or bulk request waiting to answer it holds
 * one; `wsi` is NULL once the socket is gone. */
typedef struct hub_conn {
    room_peer peer;
    hub *hub;
    struct lws *wsi;
    unsigned refs;
    hub_principal principal;
    char id[33];                /* the id this server gave it (init) */
    char *src;                  /* its ShareDB id: the hs id it claimed, else `id` */
    char *rx;                   /* the message being reassembled */
    size_t rx_len, rx_cap;
    int rx_refuse;              /* nonzero: the message is refused with this close code
                                   once its last fragment is in; until then it is read
                                   and dropped */
    size_t rx_dropped;
    int close_code;             /* nonzero: close with this code at the next writeable */
    const char *close_reason;
    int rx_paused;              /* RX_ flags */
    double tokens;              /* op-rate bucket */
    int64_t tokens_at;          /* ms */
    struct hub_conn *prev, *next;
} hub_conn;

enum { RX_RATE = 1, RX_BACKPRESSURE = 2 };

/* WebSocket close code "try again later": the connection fell behind or the server is
 * full; the client reconnects and catches up. */
#define HUB_CLOSE_TRY_AGAIN_LATER 1013

struct hub {
    hub_config cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    store *store;
    room_set *rooms;
    hub_conn *conns;
    size_t n_conns;
    proto_limits limits;
    lws_sorted_usec_list_t tick;
    atomic_int stop_requested;  /* set by the signal thread */
    int stopping;               /* shutdown began: clients are being closed */
    int64_t stop_deadline;      /* ms: stop waiting for clients after this */
    int failed;                 /* the store failed: exit 1 */
    int done;                   /* leave the service loop */
    lws_retry_bo_t retry;
    struct lws_protocols protocols[2];  /* lws keeps pointers to these and to retry */
};

/* hub_conn.c: the lws protocol callback for /ws and HTTP. */
int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len);
void hub_conn_unref(hub_conn *c);
void hub_conn_close(hub_conn *c, int code, const char *reason);
/* Takes `cost` ops from the connection's budget (0 just refills). */
void hub_conn_spend(hub_conn *c, double cost);
/* hub.c: the store or the signal thread woke the service thread. */
void hub_on_wake(hub *h);
int64_t hub_now_ms(void);

/* hub_dispatch.c: one complete text message from a connection. */
void hub_dispatch(hub *h, hub_conn *c, const char *text, size_t len);

/* hub_store.c: the room environment on top of the store, and job completions. */
void hub_store_env(hub *h, room_env *env);
void hub_store_drain(hub *h);
/* nf/nt: answered from the reader thread's rebuild. */
void hub_store_snapshot(hub *h, hub_conn *c, proto_msg *msg);

#endif
