/*
 * The hub's life: start, the service loop, shutdown (see hub.h).
 *
 * Threads: the lws service thread runs everything here; the store runs a writer and a
 * reader thread; a signal thread waits for SIGINT/SIGTERM (blocked everywhere else)
 * and only sets stop_requested and calls lws_cancel_service(), the one lws call that
 * is safe from another thread.
 *
 * Shutdown: every client is closed with 1001 and new upgrades are refused; the loop
 * keeps serving until the clients are gone (or the grace time is over) and every op
 * applied so far is committed and no store job is outstanding. Only then is the lws
 * context destroyed and the store closed, so nothing acked can be lost and the store's
 * threads never wake a destroyed context.
 */
#include "hub/hub_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_static.h"

#define TICK_US (250 * LWS_US_PER_MS)

void hub_config_defaults(hub_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8080;
    c->db_path = "konsil.db";
    c->max_message = 1024 * 1024;
    c->max_outq = 8 * 1024 * 1024;
    c->op_rate = 500;
    c->op_burst = 1000;
    c->ping_secs = 30;
    c->idle_secs = 60;
    c->max_conns = 10000;
    c->max_rooms = 10000;
    c->room_idle_secs = 60;
    c->tail_ops = 1000;
    c->tail_bytes = 1024 * 1024;
    c->milestone_every = 100;
    c->read_chunk = 1000;
    c->max_name = 256;
    c->max_bulk = 100;
    c->max_presence_channels = 16;
    c->max_presences = 64;
    c->max_batch = 1024;
    c->tx_packet = 64 * 1024;
    c->rx_buffer = 16 * 1024;
    c->shutdown_grace_secs = 5;
}

static void begin_stop(hub *h)
{
    h->stopping = 1;
    h->stop_deadline = hub_now_ms() + (int64_t)h->cfg.shutdown_grace_secs * 1000;
    for (hub_conn *c = h->conns; c; c = c->next)
        hub_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
}

static void check_stop(hub *h)
{
    int clients_gone;

    if (atomic_load(&h->stop_requested) && !h->stopping)
        begin_stop(h);
    if (!h->stopping)
        return;
    clients_gone = h->n_conns == 0 || hub_now_ms() >= h->stop_deadline;
    /* After a failed commit nothing more will commit; only the queue must empty. */
    if (clients_gone && (h->failed || room_set_uncommitted(h->rooms) == 0) &&
        store_pending(h->store) == 0)
        h->done = 1;
}

void hub_on_wake(hub *h)
{
    hub_store_drain(h);
    check_stop(h);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    hub *h = lws_container_of(sul, hub, tick);

    room_set_sweep(h->rooms, hub_now_ms(), (int64_t)h->cfg.room_idle_secs * 1000);
    check_stop(h);
    lws_sul_schedule(h->ctx, 0, &h->tick, tick, TICK_US);
}

typedef struct signal_waiter {
    hub *h;
    sigset_t set;
    pthread_t thread;
    atomic_int quit;
} signal_waiter;

static void *signal_main(void *arg)
{
    signal_waiter *w = arg;
    int sig;

    while (sigwait(&w->set, &sig) == 0 && !atomic_load(&w->quit)) {
        atomic_store(&w->h->stop_requested, 1);
        lws_cancel_service(w->h->ctx);
    }
    return NULL;
}

static void store_wake(void *arg)
{
    hub *h = arg;

    lws_cancel_service(h->ctx);
}

/* lws takes an interface name or a numeric address; names like "localhost" are
 * resolved here (IPv4) so that --listen accepts them. */
static int resolve(const char *host, char *ip, size_t n, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "--listen %s: %s", host, gai_strerror(rc));
        return -1;
    }
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, (socklen_t)n);
    freeaddrinfo(res);
    return 0;
}

static struct lws_context *create_context(hub *h, http_static *web, char *err, size_t n)
{
    struct lws_protocols *protocols = h->protocols;
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    char ip[INET_ADDRSTRLEN];

    if (resolve(h->cfg.host, ip, sizeof ip, err, n) != 0)
        return NULL;
    protocols[0].name = "sharedb";
    protocols[0].callback = hub_callback;
    protocols[0].per_session_data_size = sizeof(void *);
    protocols[0].rx_buffer_size = h->cfg.rx_buffer;
    protocols[0].tx_packet_size = h->cfg.tx_packet;

    h->retry.secs_since_valid_ping = (uint16_t)h->cfg.ping_secs;
    h->retry.secs_since_valid_hangup = (uint16_t)h->cfg.idle_secs;

    memset(&info, 0, sizeof info);
    info.port = h->cfg.port;
    info.iface = ip;
    info.protocols = protocols;
    info.mounts = h->cfg.web_dir ? &web->mount : NULL;
    info.user = h;
    info.retry_and_idle_policy = &h->retry;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.fd_limit_per_thread = (unsigned int)(h->cfg.max_conns + 64);
    info.pt_serv_buf_size = 32 * 1024;
    if (h->cfg.tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = h->cfg.tls_cert;
        info.ssl_private_key_filepath = h->cfg.tls_key;
        info.alpn = "http/1.1";     /* no h2: ws-over-h2 is not mature in 4.1 */
    }
    ctx = lws_create_context(&info);
    if (!ctx)
        snprintf(err, n, "cannot listen on %s:%d", h->cfg.host, h->cfg.port);
    return ctx;
}

int hub_run(const hub_config *cfg)
{
    hub *h = calloc(1, sizeof *h);
    store_config scfg = {cfg->db_path, 5000, cfg->max_batch};
    room_config rcfg;
    room_env env;
    http_static web;
    signal_waiter sw;
    int signals = 0, status = 1;
    char err[512] = "out of memory";

    if (!h)
        goto fail;
    h->cfg = *cfg;
    h->limits.max_name = cfg->max_name;
    h->limits.max_bulk = cfg->max_bulk;
    lws_set_log_level(LLL_ERR, NULL);
    if (cfg->web_dir && http_static_init(&web, cfg->web_dir, err, sizeof err) != 0)
        goto fail;
    if (store_open(&scfg, &h->store, err, sizeof err) != 0)
        goto fail;
    memset(&rcfg, 0, sizeof rcfg);
    rcfg.collection = "cases";
    rcfg.tail_ops = cfg->tail_ops;
    rcfg.tail_bytes = cfg->tail_bytes;
    rcfg.milestone_every = cfg->milestone_every;
    rcfg.outq_max = cfg->max_outq;
    rcfg.read_chunk = cfg->read_chunk;
    rcfg.headroom = LWS_PRE;
    rcfg.max_rooms = cfg->max_rooms;
    rcfg.max_presence_channels = cfg->max_presence_channels;
    rcfg.max_presences = cfg->max_presences;
    hub_store_env(h, &env);
    h->rooms = room_set_new(&rcfg, &env);
    if (!h->rooms)
        goto fail;

    /* Block the signals before any thread starts, so only the waiter receives them. */
    memset(&sw, 0, sizeof sw);
    sw.h = h;
    sigemptyset(&sw.set);
    sigaddset(&sw.set, SIGINT);
    sigaddset(&sw.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sw.set, NULL);
    signal(SIGPIPE, SIG_IGN);

    h->ctx = create_context(h, &web, err, sizeof err);
    if (!h->ctx)
        goto fail;
    h->vhost = lws_get_vhost_by_name(h->ctx, "default");
    if (!h->vhost || lws_get_vhost_listen_port(h->vhost) <= 0) {
        snprintf(err, sizeof err, "cannot listen on %s:%d", cfg->host, cfg->port);
        goto fail;
    }
    if (store_start(h->store, store_wake, h, err, sizeof err) != 0)
        goto fail;
    if (pthread_create(&sw.thread, NULL, signal_main, &sw) != 0) {
        snprintf(err, sizeof err, "cannot start the signal thread");
        goto fail;
    }
    signals = 1;
    lws_sul_schedule(h->ctx, 0, &h->tick, tick, TICK_US);
    fprintf(stderr, "listening on %s://%s:%d\n", cfg->tls_cert ? "https" : "http",
            cfg->host, lws_get_vhost_listen_port(h->vhost));

    while (!h->done)
        if (lws_service(h->ctx, 0) < 0)
            break;
    status = h->failed ? 1 : 0;
    err[0] = '\0';
fail:
    if (err[0])
        fprintf(stderr, "konsil serve: %s\n", err);
    if (h && h->ctx) {
        lws_sul_cancel(&h->tick);
        lws_context_destroy(h->ctx);
    }
    if (signals) {
        atomic_store(&sw.quit, 1);
        pthread_kill(sw.thread, SIGTERM);
        pthread_join(sw.thread, NULL);
    }
    if (h) {
        room_set_free(h->rooms);
        store_close(h->store);
        free(h);
    }
    return status;
}
