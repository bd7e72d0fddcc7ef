/*
 * HTTP plumbing for the REST API (see hub_http.h). Bodies are capped at
 * hub_config.max_body (413 beyond); every response carries the security headers of
 * the vhost (hub.c) and Cache-Control: no-store.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/csrf.h"
#include "hub/hub_edge.h"
#include "util/klog.h"

typedef struct call_ctx {
    hub_req *req;
    hub_call_done done;     /* NULL: answer req with the job, status `ok` on success */
    int ok;
} call_ctx;

static void req_unref(hub_req *req)
{
    if (!req || --req->refs > 0)
        return;
    free(req->body);
    free(req->resp);
    free(req->held);
    cJSON_Delete(req->ctx);
    free(req);
}

static void submit(hub *h, hub_req *req, store_job *job, hub_call_done done, int ok)
{
    call_ctx *cc = malloc(sizeof *cc);

    if (!cc) {
        store_job_free(job);
        if (req)
            hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    cc->req = req;
    cc->done = done;
    cc->ok = ok;
    if (req)
        req->refs++;
    job->owner = cc;
    store_submit(h->store, job);
}

void hub_call(hub *h, hub_req *req, store_job *job, hub_call_done done)
{
    submit(h, req, job, done, 0);
}

void hub_call_reply(hub *h, hub_req *req, store_job *job, int ok)
{
    submit(h, req, job, NULL, ok);
}

void hub_call_finish(hub *h, store_job *job)
{
    call_ctx *cc = job->owner;

    if (job->status != STORE_OK && job->error[0]) {
        klog_line l;
        klog_begin(&l, KLOG_ERROR, "store", "a store call failed");
        klog_str(&l, "error", job->error);
        klog_end(&l);
    }
    if (cc->done)
        cc->done(h, cc->req, job);
    else if (cc->req && !cc->req->ready)
        hub_reply_job(cc->req, job, cc->ok);
    req_unref(cc->req);
    free(cc);
}

void hub_req_reply_text(hub_req *req, int status, char *text)
{
    if (req->ready) {
        free(text);
        return;
    }
    req->ready = 1;
    req->status = status;
    req->resp = text;
    if (req->wsi)
        lws_callback_on_writable(req->wsi);
}

void hub_req_reply(hub_req *req, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;

    cJSON_Delete(body);
    if (body && !text) {
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    hub_req_reply_text(req, status, text);
}

void hub_req_error(hub_req *req, int status, const char *code, const char *message)
{
    cJSON *body = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(body, "error");

    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    hub_req_reply(req, status, body);
}

static int method_of(struct lws *wsi, char *out, size_t n, char *path, size_t pn)
{
    static const struct { enum lws_token_indexes tok; const char *name; } m[] = {
        {WSI_TOKEN_GET_URI, "GET"}, {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_PUT_URI, "PUT"},
        {WSI_TOKEN_PATCH_URI, "PATCH"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
        {WSI_TOKEN_HEAD_URI, "HEAD"},
    };

    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (lws_hdr_total_length(wsi, m[i].tok) > 0) {
            snprintf(out, n, "%s", m[i].name);
            return lws_hdr_copy(wsi, path, (int)pn, m[i].tok) > 0 ? 0 : -1;
        }
    return -1;
}

/* The URL arguments lws decoded, as "a=1&b=2"; -1 when they do not fit in n bytes. */
static int query_of(struct lws *wsi, char *out, size_t n)
{
    char frag[512];
    size_t used = 0;
    int len;

    out[0] = '\0';
    if ((size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) + 32 > n)
        return -1;
    for (int i = 0; (len = lws_hdr_copy_fragment(wsi, frag, sizeof frag,
                                                 WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++) {
        if ((size_t)len + 2 > n - used)
            return -1;
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "&" : "", frag);
    }
    return 0;
}

/* Copies header tok into buf: 1 when present and read, 0 when absent, -1 when present
 * but longer than buf holds. */
static int header(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t n)
{
    int len = lws_hdr_total_length(wsi, tok);

    buf[0] = '\0';
    if (len <= 0)
        return 0;
    if ((size_t)len >= n || lws_hdr_copy(wsi, buf, (int)n, tok) < 0)
        return -1;
    return 1;
}

static int custom_header(struct lws *wsi, const char *name, char *buf, size_t n)
{
    int len = lws_hdr_custom_length(wsi, name, (int)strlen(name));

    buf[0] = '\0';
    if (len <= 0)
        return 0;
    if ((size_t)len >= n || lws_hdr_custom_copy(wsi, buf, (int)n, name, (int)strlen(name)) < 0)
        return -1;
    return 1;
}

int hub_http_guard(hub *h, struct lws *wsi, const char *method, int websocket,
                   const char **code, const char **why)
{
    char origin[1024], host[512], type[256], site[64];
    auth_csrf_request r;
    int o = header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
    int ho = header(wsi, WSI_TOKEN_HOST, host, sizeof host);
    int t = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, type, sizeof type);
    int s = custom_header(wsi, "sec-fetch-site:", site, sizeof site);

    memset(&r, 0, sizeof r);
    r.method = method;
    r.websocket = websocket != 0;
    r.origin = o > 0 ? origin : NULL;
    r.origin_unreadable = o < 0;
    r.host = ho > 0 ? host : NULL;
    r.content_type = t > 0 ? type : NULL;
    r.content_type_unreadable = t < 0;
    r.sec_fetch_site = s > 0 ? site : NULL;
    r.sec_fetch_site_unreadable = s < 0;
    r.tls = h->cfg.tls_cert != NULL;
    r.public_origin = h->cfg.public_origin[0] ? h->cfg.public_origin : NULL;
    switch (auth_csrf_check(&r, why)) {
    case AUTH_CSRF_OK:
        return 0;
    case AUTH_CSRF_MEDIA_TYPE:
        *code = "unsupported_media_type";
        return 415;
    case AUTH_CSRF_CROSS_ORIGIN:
        break;
    }
    *code = "cross_origin";
    return 403;
}

int hub_http_refuse_upgrade(struct lws *wsi, unsigned int status, const char *code,
                            const char *message)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                  *end = buf + sizeof buf;
    char body[400], len[16];
    int n = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                     code, message);

    snprintf(len, sizeof len, "%d", n);
    if (n < 0 || (size_t)n >= sizeof body ||
        lws_add_http_header_status(wsi, status, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"application/json", 16, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                     (const unsigned char *)len, (int)strlen(len), &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || end - p < n)
        return -1;
    memcpy(p, body, (size_t)n);
    p += n;
    /* Returning 1 after writing the answer is how lws 4.1 lets HTTP_CONFIRM_UPGRADE
     * refuse (refusing in FILTER_PROTOCOL_CONNECTION is what CVE-2025-11677 is about). */
    return lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) == (int)(p - start) ? 1 : -1;
}

static hub_req *req_new(hub *h, struct lws *wsi)
{
    hub_req *req = calloc(1, sizeof *req);
    char len[32];

    if (!req)
        return NULL;
    req->h = h;
    req->wsi = wsi;
    req->refs = 1;
    req->started_ms = hub_now_ms();
    req->tls = h->cfg.tls_cert != NULL;
    if (method_of(wsi, req->method, sizeof req->method, req->path, sizeof req->path) != 0)
        req->path[0] = '\0';
    req->bad_query = query_of(wsi, req->query, sizeof req->query) != 0;
    /* The join page (/j/<token>) is a navigation that may come from anywhere (a link in
     * a mail); everything under /api is guarded. */
    if (strncmp(req->path, "/api", 4) == 0)
        req->refused = hub_http_guard(h, wsi, req->method, 0, &req->refused_code,
                                      &req->refused_why);
    lws_get_peer_simple(wsi, req->addr, sizeof req->addr);
    if (lws_hdr_copy(wsi, req->cookie, sizeof req->cookie, WSI_TOKEN_HTTP_COOKIE) < 0)
        req->cookie[0] = '\0';
    if (lws_hdr_copy(wsi, len, sizeof len, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(len, NULL, 10) > h->cfg.max_body)
        req->too_large = 1;
    return req;
}

/* Returns what the lws callback must return. */
static int route(hub *h, hub_req *req, struct lws *wsi)
{
    int n;

    req->routed = 1;
    hub_edge_complete(h, wsi);      /* the request is in: no handshake deadline now */
    if (req->refused || req->too_large) {
        if (req->refused) {
            hub_req_error(req, req->refused, req->refused_code, req->refused_why);
        } else {
            hub_metrics_limit(h, HUB_LIMIT_MAX_BODY);
            hub_req_error(req, 413, "payload_too_large", "the request body is too large");
        }
        return 0;
    }
    if (hub_metrics_route(h, req))
        return 0;
    hub_api_route(h, req);
    if (!req->file[0])
        return 0;
    /* The join page: a static file, served by lws in chunks like the --web mount. */
    req->ready = req->sent = 1;
    n = lws_serve_http_file(wsi, req->file, "text/html", NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

/* The words of the paths Konsil answers (hub_api.c's router, the operator endpoints). */
static const char *const path_words[] = {
    "api", "j", "cases", "sessions", "login", "logout", "me", "join", "status", "tasks",
    "templates", "close", "team", "lead", "grants", "history", "snapshot", "end",
    "participants", "links", "lobby", "clients", "admit", "decline", "users", "totp",
    "enable", "disable", "password", "password-link", "reset", "recovery-codes",
    "confirm", "info", "metrics", "healthz", "readyz",
};

/* The request's path for the log: the words above as they are, every other segment
 * (ids, tokens, and whatever else a client puts there) as {id}, so that no identifier
 * and no token reaches the log. */
static void path_shape(const char *path, char *out, size_t n)
{
    size_t k = 0;

    out[0] = '\0';
    for (const char *p = path; *p == '/' && k + 6 < n;) {
        const char *seg = ++p, *word = NULL;
        size_t len = strcspn(seg, "/");
        for (size_t i = 0; i < sizeof path_words / sizeof path_words[0] && !word; i++)
            if (strlen(path_words[i]) == len && strncmp(seg, path_words[i], len) == 0)
                word = path_words[i];
        if (word)
            k += (size_t)snprintf(out + k, n - k, "/%s", word);
        else
            k += (size_t)snprintf(out + k, n - k, len ? "/{id}" : "/");
        p = seg + len;
    }
}

static void access_log(hub_req *req)
{
    klog_line l;
    char shape[160];

    if (!klog_enabled(KLOG_DEBUG))
        return;
    path_shape(req->path, shape, sizeof shape);
    klog_begin(&l, KLOG_DEBUG, "http", "request");
    klog_str(&l, "method", req->method);
    klog_str(&l, "path", shape);
    klog_int(&l, "status", req->status);
    klog_int(&l, "ms", hub_now_ms() - req->started_ms);
    klog_end(&l);
}

static int write_response(hub_req *req, struct lws *wsi)
{
    size_t body_len = req->resp ? strlen(req->resp) : 0, cap = LWS_PRE + 2048 + body_len;
    unsigned char *buf = malloc(cap), *start, *p, *end;
    int rc = -1;

    if (!buf)
        return -1;
    start = p = buf + LWS_PRE;
    end = buf + cap;
    if (lws_add_http_common_headers(wsi, (unsigned int)req->status,
                                    req->content_type ? req->content_type : "application/json",
                                    body_len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        goto out;
    if (req->retry_after > 0) {
        char secs[16];
        int n = snprintf(secs, sizeof secs, "%d", req->retry_after);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                        (const unsigned char *)secs, n, &p, end))
            goto out;
    }
    if (req->set_cookie[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                    (const unsigned char *)req->set_cookie,
                                    (int)strlen(req->set_cookie), &p, end))
        goto out;
    if (lws_finalize_http_header(wsi, &p, end))
        goto out;
    if (body_len) {
        memcpy(p, req->resp, body_len);
        p += body_len;
    }
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0)
        goto out;
    req->sent = 1;
    hub_metrics_http(req->h, req->status);
    access_log(req);
    rc = lws_http_transaction_completed(wsi) ? -1 : 0;
out:
    free(buf);
    return rc;
}

int hub_http_callback(hub *h, struct lws *wsi, enum lws_callback_reasons reason,
                      hub_req **slot, void *in, size_t len)
{
    hub_req *req = slot ? *slot : NULL;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (req && !req->sent)
            return -1;  /* pipelined (see below) */
        if (req) {      /* keep-alive: the previous transaction is over */
            req->wsi = NULL;
            req_unref(req);
        }
        req = *slot = req_new(h, wsi);
        if (!req)
            return -1;
        if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "DELETE") == 0 ||
            strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0) {
            char cl[32];
            /* The body follows, and BODY_COMPLETION routes: lws sends it for any body,
             * and for a POST with an explicit Content-Length of 0 too. */
            if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
                (strtoull(cl, NULL, 10) > 0 || strcmp(req->method, "POST") == 0) &&
                !req->too_large)
                return 0;
        }
        return route(h, req, wsi);
    case LWS_CALLBACK_HTTP_BODY:
        if (!req || req->too_large || !len)
            return 0;
        if (req->body_len + len > h->cfg.max_body) {
            req->too_large = 1;
            return 0;
        }
        {
            char *grown = realloc(req->body, req->body_len + len + 1);
            if (!grown)
                return -1;
            req->body = grown;
            memcpy(req->body + req->body_len, in, len);
            req->body_len += len;
            req->body[req->body_len] = '\0';
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* HTTP pipelining (the next request sent before this one's answer) is refused
         * by hanging up: lws 4.1 reports BODY_COMPLETION again for every pass over the
         * unread input while an answer waits for the store, and cannot pause reading
         * an HTTP connection (a flow-controlled one never gets HTTP_WRITEABLE), so the
         * request would run again and the service thread would spin. No browser
         * pipelines. A body too large, refused (413) before it arrived, completes once
         * without being pipelining: a small one often arrives before the answer is out. */
        if (req && req->routed && req->too_large && !req->early_body_done) {
            req->early_body_done = 1;
            return 0;
        }
        if (req && req->routed)
            return req->sent ? 0 : -1;
        return req ? route(h, req, wsi) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!req || !req->ready || req->sent)
            return 0;
        return write_response(req, wsi);
    case LWS_CALLBACK_TIMER:
        if (req && req->resume) {
            void (*resume)(hub *, hub_req *) = req->resume;
            req->resume = NULL;
            resume(h, req);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:   /* lws frees the slot after this */
        if (req) {
            req->wsi = NULL;
            req_unref(req);
            *slot = NULL;
        }
        return 0;
    default:
        return 0;
    }
}
