/*
 * What the hub counts, and the operator's three endpoints: GET /metrics (Prometheus
 * text format, only to the networks of --metrics-allow and never through a proxy),
 * GET /healthz (the service thread answers) and GET /readyz (ready for traffic: the store
 * open and its writer healthy, not shutting down).
 *
 * The counters here belong to the service thread, which alone increments and reads
 * them (it also answers /metrics), so they are plain integers. The writer's figures
 * (commit and fsync latencies, batch sizes, ops committed) are its own relaxed atomics
 * (store_metrics), read here; queue lengths are read once per scrape.
 */
#ifndef KONSIL_HUB_METRICS_H
#define KONSIL_HUB_METRICS_H

#include <stdint.h>

typedef struct hub hub;
typedef struct hub_req hub_req;

/* A limit reached (konsil_limit_hits_total{limit="..."}: the option's name). */
typedef enum hub_limit {
    HUB_LIMIT_MAX_MESSAGE,
    HUB_LIMIT_MAX_OUTQ,
    HUB_LIMIT_OP_RATE,
    HUB_LIMIT_MAX_CONNS,
    HUB_LIMIT_MAX_CONNS_ADDR,
    HUB_LIMIT_MAX_CONNS_PRINCIPAL,
    HUB_LIMIT_MAX_PENDING,
    HUB_LIMIT_MAX_PENDING_ADDR,
    HUB_LIMIT_HANDSHAKE,
    HUB_LIMIT_MAX_BODY,
    HUB_LIMIT_LOGIN_THROTTLE,
    HUB_LIMIT_MAX_ROOMS,
    HUB_LIMIT_PROTOCOL,         /* ERR_LIMIT_EXCEEDED: max-bulk, max-name, presences */
    HUB_LIMIT_COUNT
} hub_limit;

/* WebSocket closes the server decided, by code (konsil_websocket_closes_total). */
enum { HUB_CLOSE_CODES = 9 };

typedef struct hub_metrics {
    int64_t started_ms;
    uint64_t limit_hits[HUB_LIMIT_COUNT];
    uint64_t closes[HUB_CLOSE_CODES];
    uint64_t logins, login_failures;
    uint64_t websockets_opened;
    uint64_t http[6];           /* responses by class: [1] 1xx … [5] 5xx, [0] other */
} hub_metrics;

void hub_metrics_limit(hub *h, hub_limit limit);
void hub_metrics_close(hub *h, int code);
void hub_metrics_http(hub *h, int status);

/* Whether path is one of the three endpoints; if so, answers req. */
int hub_metrics_route(hub *h, hub_req *req);

/* Why the server is not ready (/readyz), or NULL when it is. */
const char *hub_metrics_not_ready(hub *h);

#endif
