/*
 * One HTTP request to the REST API (/api/...) or a join page (/j/<token>), on the
 * service thread: its headers and body are collected, a handler (hub_api.c) answers
 * at once or hands work to the store, and the response is written in the next
 * HTTP_WRITEABLE callback, however late the store answers. Nothing here blocks.
 *
 * Ownership: refcounted. The lws connection holds one reference until it closes (wsi
 * is NULL afterwards), and every store call working for the request holds one; a
 * response to a closed connection is dropped.
 */
#ifndef KONSIL_HUB_HTTP_H
#define KONSIL_HUB_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "hub/hub_auth.h"
#include "store/store.h"

typedef struct hub hub;

struct hub_req {
    hub *h;
    struct lws *wsi;
    unsigned refs;
    char method[8];
    char path[512];
    char query[512];            /* the URL's arguments, decoded, joined by '&' */
    int bad_query;              /* they did not fit in `query` */
    char addr[64];
    char cookie[2048];
    int tls;
    char *body;                 /* NUL-terminated */
    size_t body_len;
    int too_large;
    int early_body_done;        /* a request answered before its body (413) has had that
                                   body's one BODY_COMPLETION */
    int routed;                 /* handed to a handler (once: see route()) */
    int refused;                /* nonzero: the cross-site rules refuse it with this
                                   status (hub_http_guard) */
    const char *refused_code, *refused_why;
    int has_login;
    hub_login login;            /* a copy, valid while the request runs */
    cJSON *ctx;                 /* the handler's own data between its steps, owned */
    /* the response */
    int ready, sent;
    int status;
    char *resp;                 /* body (JSON), owned */
    char *held;                 /* a body waiting for its audit entry to commit, owned */
    char set_cookie[256];
    int retry_after;            /* seconds for a Retry-After header, 0 for none */
    const char *content_type;   /* of the body, a static string; NULL: application/json */
    int64_t started_ms;         /* when its headers were in (the debug access log) */
    /* Called when a timer set on the request with lws_set_timer_usecs() fires (a slowed
     * login); cleared before the call. */
    void (*resume)(hub *h, struct hub_req *req);
    /* What a slowed login does once its password is checked. */
    void (*ctx_next)(hub *h, struct hub_req *req, struct store_job *job);
    char file[4096];            /* a file to serve instead (the join page) */
};

typedef void (*hub_call_done)(hub *h, hub_req *req, store_job *job);

/* Submits a store call working for req (may be NULL); done runs on the service thread
 * with the finished job (the job is freed afterwards). done may be NULL only without
 * req (fire and forget). */
void hub_call(hub *h, hub_req *req, store_job *job, hub_call_done done);
/* Submits a store call that answers req when it finishes: hub_reply_job(req, job, ok). */
void hub_call_reply(hub *h, hub_req *req, store_job *job, int ok);
/* Finishes a STORE_CALL job (hub_store.c's completion). */
void hub_call_finish(hub *h, store_job *job);

/* hub_reply.c: store answers as HTTP responses. Whether the call succeeded (its
 * transaction committed and it did not refuse). */
int hub_call_ok(const store_job *job);
/* Answers req with a finished call: status ok with its data (job->out, taken) as the
 * body (none for 204 or no data), or its refusal as status and error body. */
void hub_reply_job(hub_req *req, store_job *job, int ok);

/* Answers with status and body (taken; NULL for none). */
void hub_req_reply(hub_req *req, int status, cJSON *body);
void hub_req_reply_text(hub_req *req, int status, char *text);
void hub_req_error(hub_req *req, int status, const char *code, const char *message);

/* The cross-site rules (auth/csrf.h) for the request on wsi, headers read from it:
 * 0 when it may be served, else the HTTP status (403 or 415) with *code and *why. The
 * one place the hub asks them, for REST requests and WebSocket upgrades alike. */
int hub_http_guard(hub *h, struct lws *wsi, const char *method, int websocket,
                   const char **code, const char **why);
/* Answers a WebSocket upgrade with status and {"error":{code, message}} instead of
 * upgrading; returns what LWS_CALLBACK_HTTP_CONFIRM_UPGRADE must return. */
int hub_http_refuse_upgrade(struct lws *wsi, unsigned int status, const char *code,
                            const char *message);

/* The lws callbacks for HTTP on the hub's protocol. */
int hub_http_callback(hub *h, struct lws *wsi, enum lws_callback_reasons reason,
                      hub_req **slot, void *in, size_t len);

/* hub_api.c: routes a complete request. */
void hub_api_route(hub *h, hub_req *req);

#endif
