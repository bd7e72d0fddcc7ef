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
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/http_static.h"
#include "hub/hub_access.h"
#include "hub/hub_edge.h"
#include "hub/hub_view.h"
#include "store/store_api.h"
#include "hub/hub_heartbeat.h"
#include "store/store_keys.h"
#include "auth/totp.h"
#include "util/klog.h"
#include "hub/hub_loop.h"

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
    c->heartbeat_secs = 15;
    c->max_conns = 10000;
    c->max_conns_addr = 500;
    c->max_conns_principal = 32;
    c->max_pending = 1024;
    c->max_pending_addr = 64;
    c->handshake_secs = 10;
    c->max_rooms = 10000;
    c->room_idle_secs = 60;
    c->tail_ops = 1000;
    c->tail_bytes = 1024 * 1024;
    c->milestone_every = 100;
    c->read_chunk = 1000;
    c->history_page = 1000;
    c->history_page_bytes = 4 * 1024 * 1024;
    c->max_name = 256;
    c->max_bulk = 100;
    c->max_presence_channels = 16;
    c->max_presences = 64;
    c->max_batch = 1024;
    c->commit_wait_us = 500;
    c->tx_packet = 64 * 1024;
    c->rx_buffer = 256;
    c->shutdown_grace_secs = 5;
    c->max_body = 64 * 1024;
    c->session_idle_secs = 2 * 3600;
    c->session_max_secs = 12 * 3600;
    c->login_window_secs = 900;
    c->login_max_pair = 10;
    c->login_max_addr = 50;
    c->login_slow_after = 5;
    c->login_max_delay_secs = 8;
    c->login_max_keys = 10000;
    c->retention_interval_secs = 3600;
    c->inactive_days = 365;
    c->deletion_notice_days = 28;
    auth_netmask_parse(HUB_METRICS_ALLOW_DEFAULT, &c->metrics_allow, NULL);
    c->log_format = KLOG_TEXT;
    c->log_level = KLOG_INFO;
    auth_totp_roles_parse(AUTH_TOTP_REQUIRED_DEFAULT, &c->totp_required, NULL);
    c->password_link_secs = 3 * 24 * 3600;
    c->password_min = 10;
    c->max_op_lag = 10000;
    c->max_rooms_principal = 200;
    c->max_creates = 120;
    c->create_window_secs = 3600;
    c->budget_max_keys = 100000;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= TEMPLATE_TEXT_MAX &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *out = buf;
        *len = (size_t)n;
        fclose(f);
        return 0;
    }
    free(buf);
    fclose(f);
    return -1;
}

/* The texts of every *.json of --templates, in name order, into list, each checked
 * to be a valid template. 0 or -1 (err names the file). */
static int read_templates(const char *dir, cJSON *list, char *err, size_t n)
{
    struct dirent **names = NULL;
    int count = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (count < 0) {
        snprintf(err, n, "--templates %s: cannot read the folder", dir);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        const char *name = names[i]->d_name;
        size_t l = strlen(name), len;
        char path[4096], *text;
        if (rc == 0 && l > 5 && strcmp(name + l - 5, ".json") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, name);
            if (read_file(path, &text, &len) != 0) {
                snprintf(err, n, "%.300s: cannot read it", path);
                rc = -1;
            } else {
                auth_error aerr = {{0}};
                template_spec *t = template_parse(text, len, &aerr);
                if (t)
                    cJSON_AddItemToArray(list, cJSON_CreateString(text));
                else
                    snprintf(err, n, "%.200s: %.250s", path, aerr.message);
                rc = t ? 0 : -1;
                template_free(t);
                free(text);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* The templates the server offers, into the database before it listens: the shipped
 * ones and those of --templates (store_templates.h). */
static int install_templates(hub *h, char *err, size_t n)
{
    cJSON *in = cJSON_CreateObject(), *texts = cJSON_AddArrayToObject(in, "texts");
    store_job *job;
    int rc;

    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    if (h->cfg.templates_dir && read_templates(h->cfg.templates_dir, texts, err, n) != 0) {
        cJSON_Delete(in);
        return -1;
    }
    job = store_call_new(store_api_templates_install, STORE_WRITER, in);
    if (!job) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    store_run_now(h->store, job);
    rc = hub_call_ok(job) ? 0 : -1;
    if (rc != 0)
        snprintf(err, n, "templates: %s", job->err_message[0] ? job->err_message : job->error);
    store_job_free(job);
    return rc;
}

/* libwebsockets' own errors, in Konsil's log. */
static void lws_log(int level, const char *line)
{
    char text[512];
    size_t n = strlen(line);

    (void)level;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    snprintf(text, sizeof text, "%.*s", (int)(n < sizeof text ? n : sizeof text - 1), line);
    klog(KLOG_ERROR, "libwebsockets", text);
}

static void begin_stop(hub *h)
{
    klog_line l;

    klog_begin(&l, KLOG_INFO, "hub", "shutting down");
    klog_int(&l, "connections", (long long)h->n_conns);
    klog_end(&l);
    hub_auth_flush(h);      /* the throttle's summaries reach the writer before it drains */
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
    hub_edge_tick(h);
    hub_heartbeat_sweep(h, hub_now_ms());
    if (!h->stopping) {
        hub_auth_tick(h);
        hub_retention_tick(h);
    }
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

/* Headers on every HTTP response, the static files included. */
static void security_headers(hub *h)
{
    static const char *const kv[][2] = {
        {"content-security-policy:", "default-src 'self'; script-src 'self'; style-src 'self'; "
         "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"},
        {"x-content-type-options:", "nosniff"},
        {"referrer-policy:", "no-referrer"},
        {"x-frame-options:", "DENY"},
    };
    size_t count = sizeof kv / sizeof kv[0];

    for (size_t i = 0; i < count; i++) {
        h->headers[i].name = kv[i][0];
        h->headers[i].value = kv[i][1];
        h->headers[i].next = i + 1 < count ? &h->headers[i + 1] : NULL;
    }
    /* Over https: browsers keep to https for a year (subdomains are not ours to bind). */
    if (h->secure) {
        h->headers[count - 1].next = &h->headers[count];
        h->headers[count].name = "strict-transport-security:";
        h->headers[count].value = "max-age=31536000";
        h->headers[count].next = NULL;
    }
}

/* /api and /j go to the callback; the rest to --web. */
static void mounts(hub *h, http_static *web)
{
    static const char *const points[HUB_CALLBACK_MOUNTS] = {
        "/api", "/j", "/metrics", "/healthz", "/readyz",
    };

    for (int i = 0; i < HUB_CALLBACK_MOUNTS; i++) {
        struct lws_http_mount *m = &h->mounts[i];
        m->mountpoint = points[i];
        m->mountpoint_len = (unsigned char)strlen(points[i]);
        m->origin = "sharedb";
        m->protocol = "sharedb";
        m->origin_protocol = LWSMPRO_CALLBACK;
        m->mount_next = i + 1 < HUB_CALLBACK_MOUNTS ? &h->mounts[i + 1] : NULL;
    }
    h->mounts[HUB_CALLBACK_MOUNTS - 1].mount_next = &web->assets;   /* then / (http_static.h) */
    snprintf(h->web_origin, sizeof h->web_origin, "%.4000s", web->origin);
}

/* libwebsockets finds --listen's address among the interfaces (getifaddrs, over
 * netlink); when it cannot list them it binds every address (0.0.0.0) and says nothing.
 * So the listening socket's address is checked here: a server meant for loopback never
 * serves the network by accident (a sandbox without AF_NETLINK, for one). */
static int check_listen_address(const char *ip, char *err, size_t n)
{
    int found = 0;

    for (int fd = 0; fd < 1024; fd++) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa, olen = sizeof(int);
        int listening = 0;
        char bound[INET_ADDRSTRLEN] = "";
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) != 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sin_family != AF_INET)
            continue;
        found = 1;
        inet_ntop(AF_INET, &sa.sin_addr, bound, sizeof bound);
        if (strcmp(bound, ip) != 0) {
            snprintf(err, n, "asked to listen on %s, libwebsockets bound %s (it could not list "
                     "the network interfaces: does a sandbox forbid AF_NETLINK?)", ip, bound);
            return -1;
        }
    }
    if (!found)
        snprintf(err, n, "no listening socket on %s", ip);
    return found ? 0 : -1;
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
    protocols[0].per_session_data_size = 2 * sizeof(void *);
    protocols[0].rx_buffer_size = h->cfg.rx_buffer;
    protocols[0].tx_packet_size = h->cfg.tx_packet;

    h->retry.secs_since_valid_ping = (uint16_t)h->cfg.ping_secs;
    h->retry.secs_since_valid_hangup = (uint16_t)h->cfg.idle_secs;

    memset(&info, 0, sizeof info);
    info.port = h->cfg.port;
    info.iface = ip;
    info.protocols = protocols;
    security_headers(h);
    if (h->cfg.web_dir)
        mounts(h, web);
    info.mounts = h->cfg.web_dir ? &h->mounts[0] : NULL;
    info.headers = &h->headers[0];
    info.user = h;
    info.retry_and_idle_policy = &h->retry;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    /* Sockets only (files served come on top); the quotas refuse before lws would. */
    info.fd_limit_per_thread = (unsigned int)(h->cfg.max_conns + h->cfg.max_pending + 16);
    info.max_http_header_pool = (unsigned short)(h->cfg.max_pending < 65535 ?
                                                 h->cfg.max_pending : 65535);
    info.timeout_secs = (unsigned int)h->cfg.handshake_secs;
    info.timeout_secs_ah_idle = h->cfg.handshake_secs;
    if (hub_loop_prepare(&h->loop, h->cfg.event_loop, &info, err, n) != 0)
        return NULL;
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
    else if (check_listen_address(ip, err, n) != 0) {
        lws_context_destroy(ctx);
        ctx = NULL;
    }
    return ctx;
}

int hub_run(const hub_config *cfg)
{
    hub *h = calloc(1, sizeof *h);
    store_config scfg = {cfg->db_path, 5000, cfg->max_batch, cfg->keys_path, NULL,
                         (int64_t)cfg->commit_wait_us, NULL};
    unsigned char master[SEALED_KEY_LEN];
    room_config rcfg;
    room_env env;
    http_static web;
    signal_waiter sw;
    int signals = 0, status = 1, rc;
    char err[512] = "out of memory";

    klog_setup((klog_format)cfg->log_format, (klog_level)cfg->log_level);
    if (!h)
        goto fail;
    h->cfg = *cfg;
    h->metrics.started_ms = hub_now_ms();
    if (hub_edge_fit_descriptors(&h->cfg, err, sizeof err) != 0)
        goto fail;
    cfg = &h->cfg;
    h->secure = cfg->tls_cert || strncmp(cfg->public_origin, "https://", 8) == 0;
    h->cookie = h->secure ? HUB_COOKIE_SECURE : HUB_COOKIE;
    h->limits.max_name = cfg->max_name;
    h->limits.max_bulk = cfg->max_bulk;
    lws_set_log_level(LLL_ERR, lws_log);
    if (cfg->web_dir && http_static_init(&web, cfg->web_dir, "sharedb", err, sizeof err) != 0)
        goto fail;
    if (cfg->master_key_file) {
        if (store_keys_read_master(cfg->master_key_file, master, err, sizeof err) != 0)
            goto fail;
        scfg.master_key = master;
    }
    rc = store_open(&scfg, &h->store, err, sizeof err);
    OPENSSL_cleanse(master, sizeof master);
    if (rc != 0)
        goto fail;
    if (!store_encrypted(h->store)) {
        klog(KLOG_WARN, "store", "case data is stored unencrypted (no --master-key-file; "
             "protocol/keystore.md)");
        if (cfg->totp_required)
            klog(KLOG_WARN, "hub", "--totp-required names roles, but without --master-key-file "
                 "no second factor can be set up: those accounts cannot log in");
    } else if (store_sealed_at_open(h->store) > 0) {
        snprintf(err, sizeof err, "sealed %ld plaintext records of the case data under "
                 "per-case keys (a one-time step)", store_sealed_at_open(h->store));
        klog(KLOG_INFO, "store", err);
        err[0] = '\0';
    }
    if (hub_auth_init(h) != 0 || hub_edge_init(h) != 0 || hub_limits_init(h) != 0)
        goto fail;
    if (install_templates(h, err, sizeof err) != 0 ||
        hub_retention_start(h, err, sizeof err) != 0 ||
        hub_auth_load_now(h, err, sizeof err) != 0)
        goto fail;
    h->auth_refresh_at = hub_now_ms();
    h->erasures_since = h->erasures_refresh_at = hub_now_ms();
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
    rcfg.max_rooms_principal = cfg->max_rooms_principal;
    rcfg.max_op_lag = cfg->max_op_lag;
    hub_store_env(h, &env);
    hub_access_env(&env);
    hub_view_env(&env);
    hub_limits_env(&env);
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
    if (cfg->web_dir)
        http_static_attach(&web, h->ctx);
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
    /* The line scripts wait for (the same text in both formats). */
    snprintf(err, sizeof err, "listening on %s://%s:%d", cfg->tls_cert ? "https" : "http",
             cfg->host, lws_get_vhost_listen_port(h->vhost));
    klog_always(KLOG_INFO, "hub", err);

    while (!h->done) {
        hub_conn_flush(h);
        if (hub_loop_run_once(&h->loop, h->ctx) < 0)
            break;
    }
    hub_conn_flush(h);
    status = h->failed ? 1 : 0;
    err[0] = '\0';
fail:
    if (err[0])
        klog(KLOG_ERROR, "hub", err);
    else
        klog(KLOG_INFO, "hub", status ? "stopped after a failed commit" : "stopped");
    /* The signal thread goes first: it calls into the context. */
    if (signals) {
        atomic_store(&sw.quit, 1);
        pthread_kill(sw.thread, SIGTERM);
        pthread_join(sw.thread, NULL);
    }
    if (h) {
        if (h->ctx)
            lws_sul_cancel(&h->tick);
        hub_loop_destroy(&h->loop, h->ctx);
    }
    if (h) {
        hub_edge_free(h);
        room_set_free(h->rooms);
        hub_limits_free(h);
        store_close(h->store);
        hub_auth_free(h);
        free(h);
    }
    return status;
}
