/*
 * /metrics, /healthz and /readyz (see hub_metrics.h). A scrape reads the service
 * thread's counters, the store's atomics and its queue lengths, and writes the
 * exposition in one response; nothing of it is kept between scrapes.
 */
#include "hub/hub_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "auth/quota.h"
#include "hub/hub_metrics.h"
#include "util/prom.h"

/* A batch running longer than this means the writer is stuck (the disk, a lock). */
#define WRITER_STALLED_MS 10000

static const char *const limit_names[HUB_LIMIT_COUNT] = {
    "max-message", "max-outq", "op-rate", "max-conns", "max-conns-addr",
    "max-conns-principal", "max-pending", "max-pending-addr", "handshake-secs", "max-body",
    "login-throttle", "max-rooms", "protocol",
};

static const int close_codes[HUB_CLOSE_CODES] = {
    1001, 1003, 1008, 1009, 1011, 1013, 4001, 4002, 0,
};

void hub_metrics_limit(hub *h, hub_limit limit)
{
    if (limit < HUB_LIMIT_COUNT)
        h->metrics.limit_hits[limit]++;
}

void hub_metrics_close(hub *h, int code)
{
    size_t i = 0;

    while (i + 1 < HUB_CLOSE_CODES && close_codes[i] != code)
        i++;
    h->metrics.closes[i]++;     /* the last slot takes every other code */
}

void hub_metrics_http(hub *h, int status)
{
    h->metrics.http[status >= 100 && status < 600 ? status / 100 : 0]++;
}

const char *hub_metrics_not_ready(hub *h)
{
    const store_metrics *sm = store_metrics_of(h->store);
    int64_t busy = atomic_load_explicit(&sm->busy_since, memory_order_relaxed);

    if (h->stopping || atomic_load(&h->stop_requested))
        return "shutting down";
    if (h->failed || atomic_load_explicit(&sm->failed, memory_order_relaxed))
        return "a commit failed: the server stops";
    if (busy && hub_now_ms() - busy > WRITER_STALLED_MS)
        return "the writer has been committing one batch for more than 10 s";
    return NULL;
}

static void gauge(strbuf *b, const char *name, const char *help, double v)
{
    prom_family(b, name, "gauge", help);
    prom_sample(b, name, NULL, NULL, v);
}

static void counter(strbuf *b, const char *name, const char *help, double v)
{
    prom_family(b, name, "counter", help);
    prom_sample(b, name, NULL, NULL, v);
}

static char *exposition(hub *h)
{
    const store_metrics *sm = store_metrics_of(h->store);
    const hub_metrics *m = &h->metrics;
    static const char *const classes[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    store_queues q;
    struct rusage ru;
    uint64_t outq = 0;
    strbuf b = {0};
    char code[16];

    for (hub_conn *c = h->conns; c; c = c->next)
        outq += c->peer.outq.bytes;
    store_queue_lengths(h->store, &q);
    gauge(&b, "konsil_start_time_seconds", "When the server started, in seconds since the epoch.",
          (double)m->started_ms / 1000.0);
    gauge(&b, "konsil_ready", "1 when /readyz answers 200.", hub_metrics_not_ready(h) ? 0 : 1);
    prom_family(&b, "konsil_connections", "gauge",
                "Open connections: WebSockets, and pending ones (not yet an authenticated "
                "WebSocket: HTTP requests, keep-alive, upgrades under way).");
    prom_sample(&b, "konsil_connections", "state", "websocket", (double)h->n_conns);
    prom_sample(&b, "konsil_connections", "state", "pending",
                (double)auth_quota_pending(h->quota));
    counter(&b, "konsil_websockets_opened_total", "WebSocket connections accepted.",
            (double)m->websockets_opened);
    prom_family(&b, "konsil_websocket_closes_total", "counter",
                "WebSocket connections the server closed, by close code (other: any other).");
    for (size_t i = 0; i < HUB_CLOSE_CODES; i++) {
        snprintf(code, sizeof code, "%d", close_codes[i]);
        prom_sample(&b, "konsil_websocket_closes_total", "code",
                    close_codes[i] ? code : "other", (double)m->closes[i]);
    }
    gauge(&b, "konsil_rooms", "Documents held in memory.", (double)room_set_count(h->rooms));
    counter(&b, "konsil_ops_committed_total",
            "Ops submitted over /ws and written to the database (acknowledged).",
            (double)atomic_load_explicit(&sm->ops, memory_order_relaxed));
    gauge(&b, "konsil_ops_uncommitted", "Ops applied in memory and waiting for their commit.",
          (double)room_set_uncommitted(h->rooms));
    prom_histogram(&b, "konsil_commit_seconds",
                   "Seconds per group commit: one transaction, BEGIN to COMMIT, fsync included.",
                   &sm->commit_ns, 1e-9);
    prom_histogram(&b, "konsil_fsync_seconds",
                   "Seconds per fsync of the database or its write-ahead log.",
                   &sm->fsync_ns, 1e-9);
    prom_histogram(&b, "konsil_commit_batch_size",
                   "Jobs (ops and other writes) per group commit.", &sm->batch_jobs, 1);
    prom_family(&b, "konsil_store_queue_jobs", "gauge",
                "Jobs waiting for a store thread, and finished ones waiting for the service "
                "thread.");
    prom_sample(&b, "konsil_store_queue_jobs", "queue", "writer", (double)q.writer);
    prom_sample(&b, "konsil_store_queue_jobs", "queue", "reader", (double)q.reader);
    prom_sample(&b, "konsil_store_queue_jobs", "queue", "worker", (double)q.worker);
    prom_sample(&b, "konsil_store_queue_jobs", "queue", "done", (double)q.done);
    gauge(&b, "konsil_outq_bytes", "Bytes queued for WebSocket connections, all together.",
          (double)outq);
    counter(&b, "konsil_logins_total", "Successful password logins.", (double)m->logins);
    counter(&b, "konsil_login_failures_total",
            "Logins refused for an unknown name, a wrong password or a disabled account.",
            (double)m->login_failures);
    prom_family(&b, "konsil_limit_hits_total", "counter",
                "Times a limit was reached, by the option that sets it (protocol/limits.md; "
                "protocol: ERR_LIMIT_EXCEEDED answers).");
    for (size_t i = 0; i < HUB_LIMIT_COUNT; i++)
        prom_sample(&b, "konsil_limit_hits_total", "limit", limit_names[i],
                    (double)(m->limit_hits[i] + (i == HUB_LIMIT_MAX_ROOMS ?
                                                 room_set_full_refusals(h->rooms) : 0)));
    prom_family(&b, "konsil_http_responses_total", "counter",
                "Responses to REST and operator requests, by status class.");
    for (size_t i = 1; i < 6; i++)
        prom_sample(&b, "konsil_http_responses_total", "class", classes[i], (double)m->http[i]);
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        counter(&b, "process_cpu_seconds_total", "CPU time of the process, user and system.",
                (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return strbuf_finish(&b, NULL);
}

/* Whether the request came through a proxy: the proxy's address says nothing of the
 * client's, so such a request is never let in by address. */
static int proxied(struct lws *wsi)
{
    return lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0 ||
           lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP) > 0 ||
           lws_hdr_custom_length(wsi, "forwarded:", 10) > 0;
}

static int allowed(hub *h, hub_req *req)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;

    if (!req->wsi || proxied(req->wsi))
        return 0;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, req->addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        return auth_netmask_match(&h->cfg.metrics_allow, (struct sockaddr *)&a4);
    }
    if (inet_pton(AF_INET6, req->addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        return auth_netmask_match(&h->cfg.metrics_allow, (struct sockaddr *)&a6);
    }
    return 0;
}

static void status_reply(hub_req *req, int status, const char *state, const char *why)
{
    cJSON *body = cJSON_CreateObject();

    cJSON_AddStringToObject(body, "status", state);
    if (why)
        cJSON_AddStringToObject(body, "reason", why);
    hub_req_reply(req, status, body);
}

int hub_metrics_route(hub *h, hub_req *req)
{
    int metrics = strcmp(req->path, "/metrics") == 0;
    int health = strcmp(req->path, "/healthz") == 0;
    int ready = strcmp(req->path, "/readyz") == 0;
    const char *why;
    char *text;

    if (!metrics && !health && !ready)
        return 0;
    if (strcmp(req->method, "GET") != 0) {
        hub_req_error(req, 405, "method_not_allowed", "only GET");
        return 1;
    }
    if (health) {
        status_reply(req, 200, "alive", NULL);
    } else if (ready) {
        why = hub_metrics_not_ready(h);
        status_reply(req, why ? 503 : 200, why ? "not ready" : "ready", why);
    } else if (!allowed(h, req)) {
        hub_req_error(req, 403, "forbidden",
                      "metrics are served to the addresses of --metrics-allow, not through "
                      "a proxy");
    } else if (!(text = exposition(h))) {
        hub_req_error(req, 500, "internal", "out of memory");
    } else {
        req->content_type = PROM_CONTENT_TYPE;
        hub_req_reply_text(req, 200, text);
    }
    return 1;
}
