/*
 * The REST API (protocol/http-api.md): routing and the handlers. Each handler checks
 * what it can on the service thread (login, role, the shape of the body), then hands
 * the rest to a store call (store_api.c), which checks again against the database
 * and answers; slow work (password hashing) runs on the store's worker thread.
 * Tokens (cookies, join links) appear only in responses, never in logs.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "auth/token.h"
#include "hub/hub_access.h"
#include "store/store_api.h"
#include "store/store_history.h"
#include "util/json_util.h"

#define MAX_LINK_SECS (30 * 24 * 3600)

/* ---- helpers --------------------------------------------------------------------- */

static void new_id(char out[37])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

/* 1..max bytes of well-formed UTF-8 without control characters. */
static int plain_text(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return 0;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
                    (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (*p < 0x20) || *p == 0x7f || (extra == 1 && *p < 0xc2))
            return 0;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* A path segment that can be an id: [A-Za-z0-9-], 1..63 bytes. */
static int id_segment(const char *s, size_t n)
{
    if (n == 0 || n >= AUTH_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* Whether a JSON text holds a NUL character, raw or as the escape \u0000: cJSON ends its
 * strings at the first NUL, so such a value would be cut short without notice. */
static cJSON *body_object(hub_req *req)
{
    cJSON *j;

    if (req->body && json_text_has_nul(req->body, req->body_len)) {
        hub_req_error(req, 400, "bad_request", "text must not hold NUL characters");
        return NULL;
    }
    j = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        hub_req_error(req, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static cJSON *principal_json(const auth_principal *who)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "id", who->id);
    cJSON_AddStringToObject(p, "name", who->display_name);
    cJSON_AddStringToObject(p, "role", auth_role_name(who->role));
    if (who->role == AUTH_ROLE_COUNSELLOR && who->specialty != AUTH_SPECIALTY_NONE)
        cJSON_AddStringToObject(p, "specialty", auth_specialty_name(who->specialty));
    return p;
}

/* The authenticated principal as the store calls want it: {id, role, session?}. */
static cJSON *actor_json(const hub_req *req)
{
    cJSON *a = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "id", req->login.who.id);
    cJSON_AddStringToObject(a, "role", auth_role_name(req->login.who.role));
    if (req->login.session[0])
        cJSON_AddStringToObject(a, "session", req->login.session);
    return a;
}

/* The input every store call gets (actor, time), and the session id when there is one. */
static cJSON *call_in(const hub_req *req, const char *id)
{
    cJSON *in = cJSON_CreateObject();

    cJSON_AddItemToObject(in, "actor", actor_json(req));
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    if (id)
        cJSON_AddStringToObject(in, "id", id);
    return in;
}

/* A store call's job for req, taking in; NULL when memory runs out (req answered). */
static store_job *call_job(hub_req *req, int (*fn)(sqlite3 *, store_job *), store_thread t,
                           cJSON *in)
{
    store_job *job = store_call_new(fn, t, in);

    if (!job)
        hub_req_error(req, 500, "internal", "out of memory");
    return job;
}

/* Runs fn on thread t with input in (taken); req is answered when it finishes: status
 * ok and the call's data on success, its refusal otherwise (hub_reply_job). */
static void call_answer(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *),
                        store_thread t, cJSON *in, int ok)
{
    store_job *job = call_job(req, fn, t, in);

    if (job)
        hub_call_reply(h, req, job, ok);
}

/* The same, with done answering req. */
static void call_then(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *), store_thread t,
                      cJSON *in, hub_call_done done)
{
    store_job *job = call_job(req, fn, t, in);

    if (job)
        hub_call(h, req, job, done);
}

/* Requires a login; clients in the lobby only when waiting_ok. 0 or -1 (answered). */
static int need_login(hub *h, hub_req *req, int waiting_ok)
{
    hub_login *l = hub_auth_find(h, req->cookie, 1);

    if (!l) {
        hub_req_error(req, 401, "unauthorized", "log in first");
        return -1;
    }
    if (l->waiting && !waiting_ok) {
        hub_req_error(req, 403, "waiting", "a counsellor has not admitted you yet");
        return -1;
    }
    req->login = *l;
    req->has_login = 1;
    return 0;
}

/* What most handlers start with: a logged-in principal (a client still in the lobby
 * refused) and its store call's input {actor, now, id?}; NULL when req was answered. */
static cJSON *login_in(hub *h, hub_req *req, const char *id)
{
    return need_login(h, req, 0) == 0 ? call_in(req, id) : NULL;
}

static void set_cookie(hub *h, hub_req *req, const char *token, int64_t max_age_s)
{
    snprintf(req->set_cookie, sizeof req->set_cookie,
             "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", HUB_COOKIE, token,
             (long long)max_age_s, h->cfg.tls_cert ? "; Secure" : "");
}

static void audit(hub *h, const char *actor, const char *action, const char *session,
                  cJSON *details)
{
    cJSON *in = cJSON_CreateObject();
    store_job *job;

    cJSON_AddNumberToObject(in, "ts", (double)hub_now_ms());
    cJSON_AddStringToObject(in, "actor", actor ? actor : "");
    cJSON_AddStringToObject(in, "action", action);
    if (session)
        cJSON_AddStringToObject(in, "session", session);
    if (details)
        cJSON_AddItemToObject(in, "details", details);
    job = store_call_new(store_api_audit, STORE_WRITER, in);
    if (job)
        hub_call(h, NULL, job, NULL);
}

void hub_audit(hub *h, const char *actor, const char *action, const char *session)
{
    audit(h, actor, action, session, NULL);
}

/* ---- login, logout, me ------------------------------------------------------------- */

static void login_recorded(hub *h, hub_req *req, store_job *job)
{
    cJSON *entry;

    if (!hub_call_ok(job)) {
        hub_req_error(req, 500, "internal", "the login could not be recorded");
        return;
    }
    entry = cJSON_Duplicate(job->in, 1);
    cJSON_AddNumberToObject(entry, "last_used", (double)hub_now_ms());
    if (!hub_auth_put(h, entry)) {
        cJSON_Delete(entry);
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    cJSON_Delete(entry);
    set_cookie(h, req, str(req->ctx, "token"), h->cfg.session_max_secs);
    hub_req_reply(req, 200, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(job->in,
                                                                             "principal"), 1));
}

static void login_checked(hub *h, hub_req *req, store_job *job)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    const char *username = str(req->ctx, "username");
    int64_t now = hub_now_ms();
    cJSON *in, *details;
    int ok = hub_call_ok(job);

    hub_auth_attempt_done(h, username, req->addr, ok);
    if (!ok) {
        details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "username", username);
        cJSON_AddStringToObject(details, "addr", req->addr);
        audit(h, "", "login.failed", NULL, details);
        hub_req_error(req, 401, "invalid_credentials", "unknown username or wrong password");
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "hash", hash);
    cJSON_AddStringToObject(in, "kind", "user");
    cJSON_AddItemToObject(in, "principal", job->out);
    job->out = NULL;
    cJSON_AddNumberToObject(in, "now", (double)now);
    cJSON_AddNumberToObject(in, "expires_at", (double)(now + h->cfg.session_max_secs * 1000));
    cJSON_AddStringToObject(in, "addr", req->addr);
    call_then(h, req, store_api_login_record, STORE_WRITER, in, login_recorded);
}

static void api_login(hub *h, hub_req *req)
{
    cJSON *body = body_object(req), *in;
    const char *user, *pw;

    if (!body)
        return;
    user = str(body, "username");
    pw = str(body, "password");
    if (!plain_text(user, 128) || !pw || !*pw || strlen(pw) > 1024) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username and password are required");
        return;
    }
    if (hub_auth_attempt(h, user, req->addr) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 429, "rate_limited", "too many login attempts; try again later");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "username", user);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "username", user);
    cJSON_AddStringToObject(in, "password", pw);
    cJSON_Delete(body);
    call_then(h, req, store_api_login_check, STORE_WORKER, in, login_checked);
}

static void api_logout(hub *h, hub_req *req)
{
    hub_login *l = hub_auth_find(h, req->cookie, 0);
    cJSON *in;

    snprintf(req->set_cookie, sizeof req->set_cookie,
             "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s", HUB_COOKIE,
             h->cfg.tls_cert ? "; Secure" : "");
    if (!l) {
        hub_req_reply(req, 204, NULL);
        return;
    }
    req->login = *l;
    in = call_in(req, NULL);
    cJSON_AddStringToObject(in, "hash", l->hash);
    hub_auth_remove(h, l->hash);
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->login_hash, req->login.hash) == 0)
            hub_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "logged out");
    call_answer(h, req, store_api_logout, STORE_WRITER, in, 204);
}

static void api_me(hub *h, hub_req *req)
{
    cJSON *me;

    if (need_login(h, req, 1) != 0)
        return;
    me = principal_json(&req->login.who);
    if (req->login.session[0]) {
        cJSON_AddStringToObject(me, "session_id", req->login.session);
        cJSON_AddStringToObject(me, "status", req->login.waiting ? "waiting" : "admitted");
    }
    hub_req_reply(req, 200, me);
}

/* ---- sessions ------------------------------------------------------------------------ */

static void api_session_create(hub *h, hub_req *req)
{
    cJSON *body, *in, *doc, *meta;
    const char *title, *tname;
    const hub_template *t;
    char id[37];

    if (need_login(h, req, 0) != 0)
        return;
    if (req->login.who.role != AUTH_ROLE_COUNSELLOR) {
        hub_req_error(req, 403, "forbidden", "only counsellors create sessions");
        return;
    }
    if (!(body = body_object(req)))
        return;
    title = str(body, "title");
    tname = cJSON_GetObjectItemCaseSensitive(body, "template") ? str(body, "template") : "default";
    if (!plain_text(title, 200) || !tname) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request",
                      "title must be 1 to 200 bytes of text; template a template name");
        return;
    }
    t = hub_template_find(h, tname);
    if (!t) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "unknown_template", "no template of that name");
        return;
    }
    new_id(id);
    doc = cJSON_Duplicate(template_document(t->spec), 1);
    meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    /* Case meta the default template names, filled where the template has them. */
    if (cJSON_IsObject(meta)) {
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "case_id")))
            cJSON_ReplaceItemInObjectCaseSensitive(meta, "case_id", cJSON_CreateString(id));
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "title")))
            cJSON_ReplaceItemInObjectCaseSensitive(meta, "title", cJSON_CreateString(title));
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "lead")))
            cJSON_ReplaceItemInObjectCaseSensitive(meta, "lead",
                                                   cJSON_CreateString(req->login.who.display_name));
    }
    in = call_in(req, id);
    cJSON_AddStringToObject(in, "title", title);
    cJSON_AddStringToObject(in, "template_name", template_name(t->spec));
    cJSON_AddStringToObject(in, "template", t->text);
    cJSON_AddItemToObject(in, "document", doc);
    cJSON_Delete(body);
    call_answer(h, req, store_api_session_create, STORE_WRITER, in, 201);
}

static void api_sessions(hub *h, hub_req *req)
{
    cJSON *in = login_in(h, req, NULL);

    if (in)
        call_answer(h, req, store_api_sessions_list, STORE_READER, in, 200);
}

static void api_session_get(hub *h, hub_req *req, const char *id)
{
    cJSON *in = login_in(h, req, id);

    if (in)
        call_answer(h, req, store_api_session_get, STORE_READER, in, 200);
}

static void closed_done(hub *h, hub_req *req, store_job *job)
{
    hub_policy *p = room_policy(h->rooms, str(job->in, "id"));

    if (hub_call_ok(job) && p)
        hub_policy_close(p);
    hub_reply_job(req, job, 200);
}

static void api_session_close(hub *h, hub_req *req, const char *id)
{
    cJSON *in = login_in(h, req, id);

    if (in)
        call_then(h, req, store_api_session_close, STORE_WRITER, in, closed_done);
}

static void participant_done(hub *h, hub_req *req, store_job *job)
{
    hub_policy *p = room_policy(h->rooms, str(job->in, "id"));

    if (hub_call_ok(job) && p)
        hub_policy_add_member(p, str(job->out, "id"));
    hub_reply_job(req, job, 201);
}

static void api_participant_add(hub *h, hub_req *req, const char *id)
{
    cJSON *body, *in;

    if (need_login(h, req, 0) != 0 || !(body = body_object(req)))
        return;
    if (!plain_text(str(body, "username"), 128)) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username is required");
        return;
    }
    in = call_in(req, id);
    cJSON_AddStringToObject(in, "username", str(body, "username"));
    cJSON_Delete(body);
    call_then(h, req, store_api_participant_add, STORE_WRITER, in, participant_done);
}

/* POST /api/sessions/{id}/grants {username, expires_in_s}: identified reading for a
 * supervisor until it expires (protocol/http-api.md). */
static void api_grant_create(hub *h, hub_req *req, const char *id)
{
    cJSON *body, *in;
    const cJSON *exp;

    if (need_login(h, req, 0) != 0 || !(body = body_object(req)))
        return;
    exp = cJSON_GetObjectItemCaseSensitive(body, "expires_in_s");
    if (!plain_text(str(body, "username"), 128) || !cJSON_IsNumber(exp) ||
        exp->valuedouble != (double)(int64_t)exp->valuedouble || exp->valuedouble < 1 ||
        exp->valuedouble > 2592000) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username and expires_in_s (1 to 2592000) "
                      "are required");
        return;
    }
    in = call_in(req, id);
    cJSON_AddStringToObject(in, "username", str(body, "username"));
    cJSON_AddNumberToObject(in, "expires_in_s", exp->valuedouble);
    cJSON_Delete(body);
    call_answer(h, req, store_api_grant_create, STORE_WRITER, in, 201);
}

/* ---- links, joining, the lobby --------------------------------------------------------- */

static void link_done(hub *h, hub_req *req, store_job *job)
{
    cJSON *out;
    char url[64];

    (void)h;
    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 201);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", str(job->in, "link_id"));
    cJSON_AddStringToObject(out, "token", str(req->ctx, "token"));
    snprintf(url, sizeof url, "/j/%s", str(req->ctx, "token"));
    cJSON_AddStringToObject(out, "url", url);
    cJSON_AddItemToObject(out, "expires_at", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "expires_at"), 1));
    cJSON_AddItemToObject(out, "lobby", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "lobby"), 1));
    if (cJSON_GetObjectItemCaseSensitive(job->in, "max_uses"))
        cJSON_AddItemToObject(out, "max_uses", cJSON_Duplicate(
            cJSON_GetObjectItemCaseSensitive(job->in, "max_uses"), 1));
    hub_req_reply(req, 201, out);
}

static void api_link_create(hub *h, hub_req *req, const char *id)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1], link_id[37];
    const cJSON *exp, *max, *lobby;
    cJSON *body, *in;

    if (need_login(h, req, 0) != 0 || !(body = body_object(req)))
        return;
    exp = cJSON_GetObjectItemCaseSensitive(body, "expires_in_s");
    max = cJSON_GetObjectItemCaseSensitive(body, "max_uses");
    lobby = cJSON_GetObjectItemCaseSensitive(body, "lobby");
    if (!cJSON_IsNumber(exp) || exp->valuedouble != (double)(int64_t)exp->valuedouble ||
        exp->valuedouble < 1 || exp->valuedouble > MAX_LINK_SECS ||
        (max && !cJSON_IsNull(max) && (!cJSON_IsNumber(max) || max->valuedouble < 1 ||
                                       max->valuedouble > 1000000 ||
                                       max->valuedouble != (double)(int64_t)max->valuedouble)) ||
        (lobby && !cJSON_IsBool(lobby))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "expires_in_s must be 1 to 2592000 seconds; "
                      "max_uses a positive integer; lobby true or false");
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    new_id(link_id);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = call_in(req, NULL);
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "link_id", link_id);
    cJSON_AddStringToObject(in, "hash", hash);
    cJSON_AddNumberToObject(in, "expires_at",
                            (double)(hub_now_ms() + (int64_t)exp->valuedouble * 1000));
    if (cJSON_IsNumber(max))
        cJSON_AddNumberToObject(in, "max_uses", max->valuedouble);
    cJSON_AddBoolToObject(in, "lobby", cJSON_IsTrue(lobby));
    cJSON_Delete(body);
    call_then(h, req, store_api_link_create, STORE_WRITER, in, link_done);
}

static void api_link_revoke(hub *h, hub_req *req, const char *id, const char *link)
{
    cJSON *in = login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "link_id", link);
    call_answer(h, req, store_api_link_revoke, STORE_WRITER, in, 204);
}

static void join_done(hub *h, hub_req *req, store_job *job)
{
    cJSON *entry, *out;
    const char *session = str(job->out, "session");
    int waiting;

    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 200);
        return;
    }
    waiting = strcmp(str(job->out, "status"), "waiting") == 0;
    entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "hash", str(job->in, "login_hash"));
    cJSON_AddStringToObject(entry, "kind", "client");
    cJSON_AddStringToObject(entry, "session", session);
    cJSON_AddStringToObject(entry, "status", str(job->out, "status"));
    cJSON_AddNumberToObject(entry, "last_used", (double)hub_now_ms());
    cJSON_AddItemToObject(entry, "expires_at", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "expires_at"), 1));
    cJSON_AddItemToObject(entry, "principal", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->out, "principal"), 1));
    if (!hub_auth_put(h, entry)) {
        cJSON_Delete(entry);
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    cJSON_Delete(entry);
    set_cookie(h, req, str(req->ctx, "token"), h->cfg.session_max_secs);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "session_id", session);
    if (waiting)
        cJSON_AddStringToObject(out, "status", "waiting");
    else
        cJSON_AddStringToObject(out, "role", "client");
    hub_req_reply(req, waiting ? 202 : 200, out);
}

static void api_join(hub *h, hub_req *req)
{
    char link_hash[AUTH_TOKEN_HASH_LEN + 1], token[AUTH_TOKEN_TEXT_LEN + 1],
         hash[AUTH_TOKEN_HASH_LEN + 1], client[37];
    const char *name;
    cJSON *body = body_object(req), *in;
    auth_principal check;
    int64_t now = hub_now_ms();

    if (!body)
        return;
    name = cJSON_GetObjectItemCaseSensitive(body, "display_name") ?
           str(body, "display_name") : "Klient:in";
    if (!str(body, "token") || !name ||
        auth_principal_init(&check, "x", name, AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false,
                            NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request",
                      "token is required; display_name must be 1 to 127 bytes of text");
        return;
    }
    if (auth_token_hash(str(body, "token"), link_hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 404, "link_invalid", "this link is not valid");
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    new_id(client);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "link_hash", link_hash);
    cJSON_AddStringToObject(in, "client_id", client);
    cJSON_AddStringToObject(in, "display_name", name);
    cJSON_AddStringToObject(in, "login_hash", hash);
    cJSON_AddNumberToObject(in, "now", (double)now);
    cJSON_AddNumberToObject(in, "expires_at", (double)(now + h->cfg.session_max_secs * 1000));
    cJSON_Delete(body);
    call_then(h, req, store_api_join, STORE_WRITER, in, join_done);
}

static void api_join_status(hub *h, hub_req *req)
{
    cJSON *out;

    if (need_login(h, req, 1) != 0)
        return;
    if (!req->login.session[0]) {
        hub_req_error(req, 400, "not_a_client", "only clients have a join status");
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "session_id", req->login.session);
    cJSON_AddStringToObject(out, "status", req->login.waiting ? "waiting" : "admitted");
    hub_req_reply(req, 200, out);
}

static void api_lobby(hub *h, hub_req *req, const char *id)
{
    cJSON *in = login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    call_answer(h, req, store_api_lobby_list, STORE_READER, in, 200);
}

static void decided(hub *h, hub_req *req, store_job *job)
{
    size_t pos = 0;
    hub_login *l;

    if (hub_call_ok(job)) {
        int admit = strcmp(str(job->out, "status"), "admitted") == 0;
        char hashes[8][AUTH_TOKEN_HASH_LEN + 1];
        size_t n = 0;
        while ((l = room_map_next(&h->logins, &pos)))
            if (strcmp(l->who.id, str(job->out, "client")) == 0) {
                l->waiting = 0;
                if (!admit && n < 8)
                    snprintf(hashes[n++], sizeof hashes[0], "%s", l->hash);
            }
        for (size_t i = 0; i < n; i++)
            hub_auth_remove(h, hashes[i]);
    }
    hub_reply_job(req, job, 204);
}

static void api_lobby_decide(hub *h, hub_req *req, const char *id, const char *client,
                             int admit)
{
    cJSON *in = login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "client_id", client);
    cJSON_AddBoolToObject(in, "admit", admit);
    call_then(h, req, store_api_lobby_decide, STORE_WRITER, in, decided);
}

/* ---- history and snapshots ----------------------------------------------------------- */

/* Reads the version argument `name` of the query into *out: absent (0, *out untouched),
 * a plain decimal integer up to 2^53 - 1 (1), or anything else, a repeat included (-1). */
static int query_version(const char *query, const char *name, int64_t *out)
{
    size_t n = strlen(name);
    const char *p = query;
    int found = 0;

    while (*p) {
        const char *end = strchr(p, '&'), *v;
        int64_t x = 0;
        size_t digits = 0;
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            if (found++)
                return -1;
            for (v = p + n + 1; v < end; v++, digits++) {
                if (*v < '0' || *v > '9' || digits == 16)
                    return -1;
                x = x * 10 + (*v - '0');
            }
            if (digits == 0 || x > ((int64_t)1 << 53) - 1)
                return -1;
            *out = x;
        } else if ((size_t)(end - p) == n && strncmp(p, name, n) == 0) {
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return found;
}

/* Whether the query asks for identified reading (`identified=1`): granted or not is the
 * store's decision. */
static int query_identified(const char *query)
{
    size_t n = strlen("identified=1");

    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, "identified=1", n) == 0 && (p[n] == '&' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The audit entry of a read committed: only now does the reader get what it read. */
static void read_audited(hub *h, hub_req *req, store_job *job)
{
    (void)h;
    if (!hub_call_ok(job)) {
        hub_req_error(req, 500, "internal", "the read could not be audited");
        return;
    }
    hub_req_reply_text(req, 200, req->held);
    req->held = NULL;
}

/* A history or snapshot read came back: audit it (history.read / snapshot.read), and
 * answer once the entry is written, so no read leaves without its trace. */
static void read_done(hub *h, hub_req *req, store_job *job)
{
    const char *action = str(req->ctx, "action");
    cJSON *in;
    store_job *audit_job;

    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 200);
        return;
    }
    req->held = cJSON_PrintUnformatted(job->out);
    if (!req->held) {
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    in = cJSON_CreateObject();
    cJSON_AddNumberToObject(in, "ts", (double)hub_now_ms());
    cJSON_AddStringToObject(in, "actor", req->login.who.id);
    cJSON_AddStringToObject(in, "action", action);
    cJSON_AddStringToObject(in, "session", str(job->in, "id"));
    cJSON_AddItemToObject(in, "details", job->audit);
    job->audit = NULL;
    audit_job = store_call_new(store_api_audit, STORE_WRITER, in);
    if (!audit_job) {
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    hub_call(h, req, audit_job, read_audited);
}

static void api_history(hub *h, hub_req *req, const char *id)
{
    int64_t from = 0, to = 0;
    int has_from, has_to;
    cJSON *in;

    if (need_login(h, req, 0) != 0)
        return;
    has_from = query_version(req->query, "from", &from);
    has_to = query_version(req->query, "to", &to);
    if (req->bad_query || has_from < 0 || has_to < 0 || (has_to && to < from)) {
        hub_req_error(req, 400, "bad_request", "from and to must be versions (integers "
                      ">= 0) with from <= to");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "history.read");
    in = call_in(req, id);
    cJSON_AddNumberToObject(in, "from", (double)from);
    if (has_to)
        cJSON_AddNumberToObject(in, "to", (double)to);
    cJSON_AddBoolToObject(in, "identified", query_identified(req->query));
    cJSON_AddNumberToObject(in, "page", (double)h->cfg.history_page);
    cJSON_AddNumberToObject(in, "page_bytes", (double)h->cfg.history_page_bytes);
    call_then(h, req, store_history_read, STORE_READER, in, read_done);
}

static void api_snapshot(hub *h, hub_req *req, const char *id)
{
    int64_t v = 0;
    int has_v;
    cJSON *in;

    if (need_login(h, req, 0) != 0)
        return;
    has_v = query_version(req->query, "v", &v);
    if (req->bad_query || has_v < 0) {
        hub_req_error(req, 400, "bad_request", "v must be a version (an integer >= 0)");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "snapshot.read");
    in = call_in(req, id);
    if (has_v)
        cJSON_AddNumberToObject(in, "v", (double)v);
    cJSON_AddBoolToObject(in, "identified", query_identified(req->query));
    call_then(h, req, store_history_snapshot, STORE_READER, in, read_done);
}

/* ---- routing --------------------------------------------------------------------------- */

/* Splits "/a/b/c" into at most 6 segments; returns the count, or -1 when there are
 * more or the path does not start with "/". */
static int split(char *path, char *seg[6])
{
    char *p = path;
    int n = 0;

    if (*p != '/')
        return -1;
    p++;
    for (;;) {
        char *end;
        if (n == 6)
            return -1;
        seg[n++] = p;
        end = strchr(p, '/');
        if (!end)
            return n;
        *end = '\0';
        p = end + 1;
    }
}

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

void hub_api_route(hub *h, hub_req *req)
{
    char path[sizeof req->path], *seg[6] = {0};
    const char *m = req->method;
    int n;

    snprintf(path, sizeof path, "%s", req->path);
    if (strncmp(path, "/j/", 3) == 0 && req->path[3]) {
        if (!h->cfg.web_dir) {
            hub_req_error(req, 404, "not_found", "no client page is served");
            return;
        }
        snprintf(req->file, sizeof req->file, "%.4000s/index.html", h->web_origin);
        return;
    }
    n = split(path, seg);
    if (n < 2 || !is(seg[0], "api")) {
        hub_req_error(req, 404, "not_found", "no such resource");
        return;
    }
    if (n >= 3 && is(seg[1], "sessions") && !id_segment(seg[2], strlen(seg[2]))) {
        hub_req_error(req, 404, "not_found", "no such session");
        return;
    }
    if (n == 2 && is(seg[1], "login") && is(m, "POST"))
        return api_login(h, req);
    if (n == 2 && is(seg[1], "logout") && is(m, "POST"))
        return api_logout(h, req);
    if (n == 2 && is(seg[1], "me") && is(m, "GET"))
        return api_me(h, req);
    if (n == 2 && is(seg[1], "join") && is(m, "POST"))
        return api_join(h, req);
    if (n == 3 && is(seg[1], "join") && is(seg[2], "status") && is(m, "GET"))
        return api_join_status(h, req);
    if (n >= 2 && is(seg[1], "sessions")) {
        if (n == 2 && is(m, "POST"))
            return api_session_create(h, req);
        if (n == 2 && is(m, "GET"))
            return api_sessions(h, req);
        if (n == 3 && is(m, "GET"))
            return api_session_get(h, req, seg[2]);
        if (n == 4 && is(seg[3], "close") && is(m, "POST"))
            return api_session_close(h, req, seg[2]);
        if (n == 4 && is(seg[3], "participants") && is(m, "POST"))
            return api_participant_add(h, req, seg[2]);
        if (n == 4 && is(seg[3], "grants") && is(m, "POST"))
            return api_grant_create(h, req, seg[2]);
        if (n == 4 && is(seg[3], "links") && is(m, "POST"))
            return api_link_create(h, req, seg[2]);
        if (n == 5 && is(seg[3], "links") && is(m, "DELETE") &&
            id_segment(seg[4], strlen(seg[4])))
            return api_link_revoke(h, req, seg[2], seg[4]);
        if (n == 4 && is(seg[3], "history") && is(m, "GET"))
            return api_history(h, req, seg[2]);
        if (n == 4 && is(seg[3], "snapshot") && is(m, "GET"))
            return api_snapshot(h, req, seg[2]);
        if (n == 4 && is(seg[3], "lobby") && is(m, "GET"))
            return api_lobby(h, req, seg[2]);
        if (n == 6 && is(seg[3], "lobby") && id_segment(seg[4], strlen(seg[4])) &&
            is(m, "POST") && (is(seg[5], "admit") || is(seg[5], "decline")))
            return api_lobby_decide(h, req, seg[2], seg[4], is(seg[5], "admit"));
    }
    hub_req_error(req, 404, "not_found", "no such resource");
}
