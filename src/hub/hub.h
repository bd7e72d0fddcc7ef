/*
 * The hub: `konsil serve`. One libwebsockets service thread serves static files and
 * the ShareDB WebSocket on one port; rooms (src/room) hold the live documents; the
 * store (src/store) makes every op durable before anyone hears of it.
 *
 * hub_run() returns the process exit status: 0 after a clean SIGINT/SIGTERM shutdown
 * (clients closed with 1001, every queued commit written), 1 when it cannot start or
 * when the store fails (it stops rather than ack what it could not write).
 */
#ifndef KONSIL_HUB_H
#define KONSIL_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "auth/netmask.h"

typedef struct hub_config {
    char host[256];
    int port;
    const char *db_path;
    const char *web_dir;            /* NULL: no static files */
    const char *tls_cert, *tls_key; /* both or neither */
    char public_origin[320];        /* --public-origin, normalised (auth/csrf.h); "" when
                                       the Host header and the scheme served name it */
    size_t max_message;             /* bytes of one incoming message (close 1009 above) */
    size_t max_outq;                /* bytes queued for one connection (close 1013 above) */
    double op_rate;                 /* ops per second per connection, sustained */
    double op_burst;                /* ops a connection may send at once */
    int ping_secs;                  /* idle seconds before the server pings */
    int idle_secs;                  /* idle seconds before the server hangs up */
    int heartbeat_secs;             /* silence after which a pinging connection is dropped */
    size_t max_conns;               /* WebSockets at once */
    size_t max_conns_addr;          /* WebSockets per client address */
    size_t max_conns_principal;     /* WebSockets per principal (one login) */
    size_t max_pending;             /* connections not (yet) WebSockets, at once */
    size_t max_pending_addr;        /* the same per client address */
    int handshake_secs;             /* a request must arrive within this of the accept */
    size_t max_rooms;
    int room_idle_secs;             /* an unused room stays loaded this long */
    size_t tail_ops, tail_bytes;    /* recent ops kept in memory per room */
    int64_t milestone_every;        /* versions between stored snapshots */
    size_t read_chunk;              /* ops per history read */
    size_t history_page;            /* ops per page of GET .../history */
    size_t history_page_bytes;      /* bytes of stored ops per page (one op always fits) */
    size_t max_name;                /* bytes of ids, src, channel names */
    size_t max_bulk;                /* documents in one bf/bs/bu */
    size_t max_presence_channels;   /* per connection */
    size_t max_presences;           /* per connection */
    size_t max_batch;               /* ops per group commit */
    size_t commit_wait_us;          /* most an op waits for others to share its commit */
    size_t tx_packet;               /* bytes per send() and per outgoing frame */
    size_t rx_buffer;               /* bytes per receive callback (lws allocates this much
                                       per connection; >= HUB_RX_BUFFER_MIN) */
    int shutdown_grace_secs;        /* wait this long for clients to close */
    int event_loop;                 /* a hub_loop_kind (hub_loop.h); 0 = epoll */
    const char *templates_dir;      /* more case-sheet templates (*.json), or NULL */
    const char *master_key_file;    /* the master key: case data and second factors
                                       encrypted at rest; NULL: not encrypted, no second
                                       factor (protocol/keystore.md) */
    const char *keys_path;          /* the key store; NULL: the database's path + ".keys" */
    int retention_interval_secs;    /* between runs of the retention job */
    size_t inactive_days;           /* an open case without activity this long is listed
                                       for its lead */
    size_t deletion_notice_days;    /* deletions this close are shown to the lead */
    size_t max_body;                /* bytes of one REST request body (413 above) */
    int session_idle_secs;          /* a login session unused this long ends */
    int session_max_secs;           /* a login session ends this long after login */
    int login_window_secs;          /* login attempts are counted over this window */
    size_t login_max_pair;          /* failed or pending attempts per (username, address):
                                       429 beyond */
    size_t login_max_addr;          /* failed or pending attempts per client address: 429 */
    size_t login_slow_after;        /* failed attempts per username before slowing */
    int login_max_delay_secs;       /* the longest a slowed attempt waits */
    size_t login_max_keys;          /* keys the login throttle holds at most */
    auth_netmasks metrics_allow;    /* who may read /metrics (--metrics-allow) */
    unsigned totp_required;         /* roles that log in with a second factor (a mask of
                                       1 << auth_role, auth/totp.h) */
    size_t password_link_secs;      /* a set-password link works this long */
    size_t password_min;            /* shortest password set through a link */
    int log_format;                 /* a klog_format (util/klog.h) */
    int log_level;                  /* a klog_level */
    /* Case sheets (0: the template's, else the HUB_DEFAULT_ below). */
    size_t max_sheet;               /* bytes of one case sheet */
    size_t max_item;                /* bytes of one value an op inserts (li, oi) */
    size_t max_string;              /* bytes of one string */
    size_t append_budget;           /* bytes one principal may add to one sheet per window */
    int append_window_secs;         /* that window */
    int64_t max_op_lag;             /* versions an op may be behind the document */
    size_t max_rooms_principal;     /* rooms one principal's requests may keep loaded */
    size_t max_creates;             /* cases, sessions and links one account may create
                                       per create_window_secs */
    int create_window_secs;
    size_t budget_max_keys;         /* keys the growth and creation budgets hold at most */
} hub_config;

/* The size limits of a case sheet when neither the option nor its template sets them. */
#define HUB_DEFAULT_SHEET (2 * 1024 * 1024)
#define HUB_DEFAULT_ITEM (64 * 1024)
#define HUB_DEFAULT_STRING (256 * 1024)
#define HUB_DEFAULT_APPEND (1024 * 1024)
#define HUB_DEFAULT_APPEND_WINDOW_SECS 3600

/* The smallest rx_buffer: a WebSocket control frame (ping, close) carries up to 125
 * bytes, and libwebsockets must hold one whole. */
#define HUB_RX_BUFFER_MIN 128

/* --metrics-allow's default: loopback. */
#define HUB_METRICS_ALLOW_DEFAULT "127.0.0.0/8,::1"

void hub_config_defaults(hub_config *c);
int hub_run(const hub_config *c);

#endif
