/*
 * The REST handlers' common steps (see hub_api.h): reading bodies and ids, the login a
 * request needs, the store call that answers it, audit entries.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "store/store_api.h"
#include "util/json_util.h"

void hub_api_new_id(char out[37])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

/* 1..max bytes of well-formed UTF-8 without control characters. */
int hub_api_text(const char *s, size_t max)
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
int hub_api_id(const char *s, size_t n)
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
cJSON *hub_api_body(hub_req *req)
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

const char *hub_api_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

cJSON *hub_api_principal(const auth_principal *who)
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
static cJSON *hub_api_actor(const hub_req *req)
{
    cJSON *a = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "id", req->login.who.id);
    cJSON_AddStringToObject(a, "role", auth_role_name(req->login.who.role));
    if (req->login.session[0])
        cJSON_AddStringToObject(a, "session", req->login.session);
    return a;
}

/* The input every store call gets (actor, time), and the session id when there is one. */
cJSON *hub_api_in(const hub_req *req, const char *id)
{
    cJSON *in = cJSON_CreateObject();

    cJSON_AddItemToObject(in, "actor", hub_api_actor(req));
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    /* What the case resources say about retention is measured against these. */
    cJSON_AddNumberToObject(in, "inactive_ms", (double)req->h->cfg.inactive_days * 86400000.0);
    cJSON_AddNumberToObject(in, "notice_ms",
                            (double)req->h->cfg.deletion_notice_days * 86400000.0);
    if (id)
        cJSON_AddStringToObject(in, "id", id);
    return in;
}

/* A store call's job for req, taking in; NULL when memory runs out (req answered). */
static store_job *hub_api_job(hub_req *req, int (*fn)(sqlite3 *, store_job *), store_thread t,
                           cJSON *in)
{
    store_job *job = store_call_new(fn, t, in);

    if (!job)
        hub_req_error(req, 500, "internal", "out of memory");
    return job;
}

/* Runs fn on thread t with input in (taken); req is answered when it finishes: status
 * ok and the call's data on success, its refusal otherwise (hub_reply_job). */
void hub_api_answer(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *),
                        store_thread t, cJSON *in, int ok)
{
    store_job *job = hub_api_job(req, fn, t, in);

    if (job)
        hub_call_reply(h, req, job, ok);
}

/* The same, with done answering req. */
void hub_api_then(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *), store_thread t,
                      cJSON *in, hub_call_done done)
{
    store_job *job = hub_api_job(req, fn, t, in);

    if (job)
        hub_call(h, req, job, done);
}

/* Requires a login; clients in the lobby, or whose session ended, only when
 * waiting_ok. 0 or -1 (answered). */
int hub_api_need_login(hub *h, hub_req *req, int waiting_ok)
{
    hub_login *l = hub_auth_find(h, req->cookie, 1);

    if (!l) {
        hub_req_error(req, 401, "unauthorized", "log in first");
        return -1;
    }
    if (l->ended && !waiting_ok) {
        hub_req_error(req, 403, "session_ended", "the session has ended");
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
cJSON *hub_api_login_in(hub *h, hub_req *req, const char *id)
{
    return hub_api_need_login(h, req, 0) == 0 ? hub_api_in(req, id) : NULL;
}

int hub_api_may_create(hub *h, hub_req *req)
{
    int64_t retry = 0;
    char message[160];

    if (hub_limits_create(h, req->login.who.id, &retry) == 0)
        return 0;
    req->retry_after = retry > 86400 ? 86400 : (int)retry;
    snprintf(message, sizeof message, "an account may create %zu cases, sessions and links per "
             "%d s (--max-creates): try again in %lld s", h->cfg.max_creates,
             h->cfg.create_window_secs, (long long)retry);
    hub_req_error(req, 429, "rate_limited", message);
    return -1;
}

void hub_api_set_cookie(hub *h, hub_req *req, const char *token, int64_t max_age_s)
{
    snprintf(req->set_cookie, sizeof req->set_cookie,
             "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", h->cookie, token,
             (long long)max_age_s, h->secure ? "; Secure" : "");
}

void hub_api_audit(hub *h, const char *actor, const char *action, const char *session,
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
    hub_api_audit(h, actor, action, session, NULL);
}
