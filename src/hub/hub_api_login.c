/*
 * Logging in and out, and who is logged in: POST /api/login (the password checked on
 * the store's worker thread, the login session recorded by the writer, then the
 * cookie), POST /api/logout, GET /api/me.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "store/store_api.h"

static void login_recorded(hub *h, hub_req *req, store_job *job)
{
    cJSON *entry;

    if (job->err == STORE_ERR_UNAUTHENTICATED) {   /* disabled meanwhile */
        hub_reply_job(req, job, 200);
        return;
    }
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
    h->metrics.logins++;
    hub_api_set_cookie(h, req, hub_api_str(req->ctx, "token"), h->cfg.session_max_secs);
    hub_req_reply(req, 200, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(job->in,
                                                                             "principal"), 1));
}

static void login_checked(hub *h, hub_req *req, store_job *job)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    const char *username = hub_api_str(req->ctx, "username");
    int64_t now = hub_now_ms();
    cJSON *in, *details;
    int ok = hub_call_ok(job);

    hub_auth_attempt_done(h, username, req->addr, ok);
    if (!ok) {
        h->metrics.login_failures++;
        details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "username", username);
        cJSON_AddStringToObject(details, "addr", req->addr);
        hub_api_audit(h, "", "login.failed", NULL, details);
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
    hub_api_then(h, req, store_api_login_record, STORE_WRITER, in, login_recorded);
}

/* A slowed login's wait is over: check the password now. */
static void login_resume(hub *h, hub_req *req)
{
    cJSON *in = cJSON_DetachItemFromObjectCaseSensitive(req->ctx, "check");

    if (!in) {
        hub_req_error(req, 500, "internal", "lost the login");
        return;
    }
    hub_api_then(h, req, store_api_login_check, STORE_WORKER, in, login_checked);
}

void hub_api_login(hub *h, hub_req *req)
{
    cJSON *body = hub_api_body(req), *in;
    const char *user, *pw;
    auth_throttle_decision d;

    if (!body)
        return;
    user = hub_api_str(body, "username");
    pw = hub_api_str(body, "password");
    if (!hub_api_text(user, 128) || !pw || !*pw || strlen(pw) > 1024) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username and password are required");
        return;
    }
    /* auth/throttle.h decides: refused per (username, address) or per address; for a
     * username only slowed, so its owner is never locked out. */
    d = hub_auth_attempt(h, user, req->addr);
    if (d.refuse) {
        hub_metrics_limit(h, HUB_LIMIT_LOGIN_THROTTLE);
        cJSON_Delete(body);
        req->retry_after = (int)((d.retry_after_ms + 999) / 1000);
        hub_req_error(req, 429, "rate_limited", d.by == AUTH_THROTTLE_PAIR ?
                      "too many failed logins for this name from this address; try again later" :
                      "too many failed logins from this address; try again later");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "username", user);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "username", user);
    cJSON_AddStringToObject(in, "password", pw);
    cJSON_Delete(body);
    if (d.delay_ms > 0 && req->wsi) {
        cJSON_AddItemToObject(req->ctx, "check", in);
        req->resume = login_resume;
        lws_set_timer_usecs(req->wsi, (lws_usec_t)d.delay_ms * LWS_US_PER_MS);
        return;
    }
    hub_api_then(h, req, store_api_login_check, STORE_WORKER, in, login_checked);
}

void hub_api_logout(hub *h, hub_req *req)
{
    hub_login *l = hub_auth_find(h, req->cookie, 0);
    cJSON *in;

    snprintf(req->set_cookie, sizeof req->set_cookie,
             "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s", h->cookie,
             h->secure ? "; Secure" : "");
    if (!l) {
        hub_req_reply(req, 204, NULL);
        return;
    }
    req->login = *l;
    in = hub_api_in(req, NULL);
    cJSON_AddStringToObject(in, "hash", l->hash);
    hub_auth_remove(h, l->hash);
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->login_hash, req->login.hash) == 0)
            hub_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "logged out");
    hub_api_answer(h, req, store_api_logout, STORE_WRITER, in, 204);
}

void hub_api_me(hub *h, hub_req *req)
{
    cJSON *me;

    if (hub_api_need_login(h, req, 1) != 0)
        return;
    me = hub_api_principal(&req->login.who);
    if (req->login.session[0]) {
        cJSON_AddStringToObject(me, "session_id", req->login.session);
        if (req->login.case_id[0])
            cJSON_AddStringToObject(me, "case_id", req->login.case_id);
        cJSON_AddStringToObject(me, "status", req->login.ended ? "ended" :
                                req->login.waiting ? "waiting" : "admitted");
    }
    hub_req_reply(req, 200, me);
}
