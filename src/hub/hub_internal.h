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

#include "auth/principal.h"
#include "auth/template.h"
#include "hub/hub.h"
#include "hub/hub_auth.h"
#include "hub/hub_http.h"
#include "hub/hub_identity.h"
#include "hub/hub_metrics.h"
#include "hub/hub_loop.h"
#include "proto/proto.h"
#include "room/room.h"
#include "store/store.h"

typedef struct hub hub;

/* Erasures of the same millisecond told apart (hub_retention.c). */
#define HUB_ERASURES_SEEN 64

/* One WebSocket connection. Refcounted: the lws session holds one reference until
 * LWS_CALLBACK_CLOSED, and each store job or bulk request waiting to answer it holds
 * one; `wsi` is NULL once the socket is gone. */
typedef struct hub_conn {
    room_peer peer;
    hub *hub;
    struct lws *wsi;
    unsigned refs;
    auth_principal principal;   /* from the login session of the upgrade's cookie */
    char bound_session[AUTH_ID_MAX];    /* a client's one session, else "" */
    char bound_case[AUTH_ID_MAX];       /* that session's case, else "" */
    char login_hash[AUTH_TOKEN_HASH_LEN + 1];
    char **reads;               /* sessions it has read (audited open/close) */
    size_t n_reads;
    char **meetings;            /* cases whose meeting channel it watches (hub_meeting.c) */
    size_t n_meetings;
    char id[33];                /* the id this server gave it (init) */
    char *src;                  /* its ShareDB id: the hs id it claimed (owned), else
                                   `id` itself */
    char *rx;                   /* a message spanning callbacks, being reassembled;
                                   NULL between messages */
    size_t rx_len, rx_cap;
    int rx_refuse;              /* nonzero: the message is refused with this close code
                                   once its last fragment is in; until then it is read
                                   and dropped */
    size_t rx_dropped;
    int close_code;             /* nonzero: close with this code at the next writeable */
    const char *close_reason;
    int close_sent;             /* the close is handed to lws, which sends the frame and
                                   waits for the client's; later writeables are spurious */
    int rx_paused;              /* RX_ flags */
    int64_t heard_ms;           /* when its last whole message arrived (hub_heartbeat.h) */
    int heartbeat;              /* it has pinged: silence hangs up on it */
    unsigned busy;              /* nf/nt and bulk requests being answered: reading pauses
                                   meanwhile (hub_conn_busy) */
    double tokens;              /* op-rate bucket */
    int64_t tokens_at;          /* ms */
    int flush_queued;           /* in the hub's flush list (holds a reference) */
    struct hub_conn *flush_next;
    struct hub_conn *prev, *next;
} hub_conn;

enum { RX_RATE = 1, RX_BACKPRESSURE = 2, RX_BUSY = 4 };

/* WebSocket close code "try again later": the connection fell behind or the server is
 * full; the client reconnects and catches up. */
#define HUB_CLOSE_TRY_AGAIN_LATER 1013
/* Konsil's own close codes (protocol/sharedb-wire.md): the principal no longer reaches
 * a case it had open (removed from the team, its session ended), or its rights there
 * changed (the lead handed over, the case closed) and it should open the case again. */
#define HUB_CLOSE_ACCESS_ENDED 4001
#define HUB_CLOSE_ACCESS_CHANGED 4002

/* Paths the hub answers itself when --web serves the rest. */
#define HUB_CALLBACK_MOUNTS 5

struct hub {
    hub_config cfg;
    struct lws_context *ctx;
    hub_loop loop;              /* the event loop ctx runs in */
    struct lws_vhost *vhost;
    store *store;
    room_set *rooms;
    hub_conn *conns;
    hub_conn *flush_list;       /* connections with messages for the end of the pass */
    size_t n_conns;
    proto_limits limits;
    lws_sorted_usec_list_t tick;
    lws_sorted_usec_list_t commit_kick; /* wakes the writer once per service pass */
    int commit_kick_armed;
    atomic_int stop_requested;  /* set by the signal thread */
    int stopping;               /* shutdown began: clients are being closed */
    int64_t stop_deadline;      /* ms: stop waiting for clients after this */
    int failed;                 /* the store failed: exit 1 */
    int done;                   /* leave the service loop */
    lws_retry_bo_t retry;
    struct lws_protocols protocols[2];  /* lws keeps pointers to these and to retry */
    struct lws_http_mount mounts[HUB_CALLBACK_MOUNTS]; /* /api, /j, /metrics, /healthz,
                                           /readyz (callback), then --web's */
    struct lws_protocol_vhost_options headers[6];   /* security headers, every response */
    char web_origin[4001];              /* --web as an absolute path */
    int secure;                         /* browsers reach it over https: --tls-cert, or an
                                           https --public-origin (a proxy terminates TLS) */
    const char *cookie;                 /* the login cookie's name: HUB_COOKIE_SECURE when
                                           secure, else HUB_COOKIE */
    room_map logins;                    /* hub_login by token hash (hub_auth.c) */
    struct auth_throttle *throttle;     /* login attempts (auth/throttle.h), owned */
    struct auth_quota *quota;           /* connections (auth/quota.h, hub_edge.c), owned */
    struct auth_quota_conn *admitting;  /* accepted, its lws connection not bound yet */
    struct auth_budget *budgets;        /* growth and creation budgets (auth/budget.h,
                                           hub_limits.c), owned */
    int auth_refreshing;
    int64_t auth_refresh_at;
    /* retention (hub_retention.c) */
    int retention_running;              /* the retention job's calls are out */
    int64_t retention_next_at;          /* ms: when the job runs next */
    int erasures_refreshing;
    int64_t erasures_refresh_at;
    int64_t erasures_since;             /* erasures up to here (ms) have reached the rooms */
    char erasures_seen[HUB_ERASURES_SEEN][AUTH_ID_MAX];   /* those of erasures_since */
    int n_erasures_seen;
    struct { char id[AUTH_ID_MAX]; int64_t at; } dropped[16]; /* hub_auth_drop_principal */
    size_t n_dropped;
    hub_metrics metrics;                /* the service thread's counters (/metrics) */
    int64_t meeting_pv;                 /* the last meeting-channel presence version sent */
    unsigned meeting_epoch;             /* meeting changes so far (hub_meeting.c) */
};

/* A principal from {id, name, role, specialty?} (hub_auth.c). */
int hub_principal_from_json(const cJSON *j, auth_principal *out);
/* Appends an audit entry through the writer (fire and forget). */
void hub_audit(hub *h, const char *actor, const char *action, const char *session);

/* hub_conn.c: the lws protocol callback for /ws and HTTP. */
int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len);
void hub_conn_unref(hub_conn *c);
/* Messages were queued for c: they are written at the end of the loop pass. */
void hub_conn_wake(hub *h, hub_conn *c);
/* Writes the queues of the connections woken during the pass (see hub_conn.c). */
void hub_conn_flush(hub *h);
/* The connection reads session id: audited once per connection (open), and closed when
 * the connection ends. */
void hub_conn_note_read(hub_conn *c, const char *session);
void hub_conn_close(hub_conn *c, int code, const char *reason);
/* Takes `cost` ops from the connection's budget (0 just refills). */
void hub_conn_spend(hub_conn *c, double cost);
/* A request whose answer is built outside the rooms (nf/nt, bulk) starts (+1) or is
 * answered (-1): reading pauses while one is in flight, so a connection has at most
 * one such answer being built, beside its queue. */
void hub_conn_busy(hub_conn *c, int delta);
/* hub.c: the store or the signal thread woke the service thread. */
void hub_on_wake(hub *h);
int64_t hub_now_ms(void);

/* hub_dispatch.c: one complete text message from a connection. */
void hub_dispatch(hub *h, hub_conn *c, const char *text, size_t len);

/* hub_case.c: a case's changes reach its loaded room's policy and the connections
 * that had it open at once. Each runs after the store call that made the change
 * committed. */
/* user_id joined the team with its team role. */
void hub_case_member_added(hub *h, const char *case_id, const char *user_id,
                           const char *team_role);
/* user_id left the team: its connections that had the case open close (4001). */
void hub_case_member_removed(hub *h, const char *case_id, const char *user_id);
/* The lead passed from `from` to `to`: both their connections that had the case open
 * close (4002), so they open it again with their new rights. */
void hub_case_lead_changed(hub *h, const char *case_id, const char *from, const char *to);
/* A session started: its clients reach the document. */
void hub_case_session_started(hub *h, const char *case_id, const char *session);
/* A session ended: its clients' connections close (4001) and their logins reach
 * nothing more. */
void hub_case_session_ended(hub *h, const char *case_id, const char *session);
/* A client was removed from its session of case_id: its login sessions end (the store
 * deleted them), its connections close (4001). */
void hub_case_client_removed(hub *h, const char *case_id, const char *client_id);
/* Someone started waiting in the lobby of a session of case_id, or a decision let them
 * in or turned them away. */
void hub_case_lobby_changed(hub *h, const char *case_id);
/* The case closed (its sessions, listed in case view `view`, ended): read-only from now
 * on; every connection that had it open closes (4002), clients' for good (4001). */
void hub_case_closed(hub *h, const char *case_id, const cJSON *sessions);
/* The case was restricted (lead: its lead; ended: the sessions that ended with it): its
 * clients lose it (4001), so does everyone but its lead and admins (4001); the lead's
 * connections close with 4002 (read-only from now on). */
void hub_case_restricted(hub *h, const char *case_id, const char *lead, const cJSON *ended);
/* The restriction was lifted; the case is `status` again: every connection that had it
 * open closes (4002) to open it with the rights it has now. */
void hub_case_unrestricted(hub *h, const char *case_id, const char *status);
/* The case was erased (erasure: store_erase_case's out, {case_id, sessions, clients}):
 * nobody reaches it any more; every connection that had it open and every connection of
 * its clients closes (4001), its clients' login sessions end, its room goes; the WAL is
 * checkpointed and truncated (on the worker) so no copy of its pages stays there. */
void hub_case_erased(hub *h, const cJSON *erasure);

/* hub_retention.c: the retention job and erasures made elsewhere, from the tick; and,
 * before the server listens, the erasure of cases whose key is gone (a database restored
 * from a backup taken before their erasure). 0 or -1 with err. */
int hub_retention_start(hub *h, char *err, size_t n);
void hub_retention_tick(hub *h);

/* hub_limits.c: the rooms' limit hooks (room_env.may_open, limits, grew, spend), and
 * the creation budget of the REST API. */
int hub_limits_init(hub *h);
void hub_limits_free(hub *h);
void hub_limits_env(room_env *env);
/* Whether account user_id may create one more case, session or link now: 0, or -1 with
 * *retry_secs until it may. */
int hub_limits_create(hub *h, const char *user_id, int64_t *retry_secs);

/* hub_store.c: the room environment on top of the store, and job completions. */
void hub_store_env(hub *h, room_env *env);
void hub_store_drain(hub *h);
/* nf/nt: answered from the reader thread's rebuild. */
void hub_store_snapshot(hub *h, hub_conn *c, proto_msg *msg);

#endif
