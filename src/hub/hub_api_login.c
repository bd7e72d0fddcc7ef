/*
 * Logging in and out, and who is logged in: POST /api/login (the password checked on
 * the store's worker thread, then the second factor and the login session on the
 * writer, then the cookie), POST /api/login/totp (a second factor set up before the
 * first login that needs it), POST /api/logout, GET /api/me.
 *
 * Each attempt is counted by the login throttle from its start and ends exactly once
 * (attempt_end): taken back when the password was right (also when the answer is that a
 * second factor is needed), kept as a failure for a wrong password or code.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "auth/totp.h"
#include "store/store_api.h"

/* The attempt ends: ok takes it back from the throttle's count (auth/throttle.h); a
 * failure is audited as login.failed (details: username, address, and what failed). */
static void attempt_end(hub *h, hub_req *req, int ok, const char *what)
{
    const char *username = hub_api_str(req->ctx, "username");
    cJSON *details;

    hub_auth_attempt_done(h, username, req->addr, ok);
    if (ok)
        return;
    h->metrics.login_failures++;
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "username", username);
    cJSON_AddStringToObject(details, "addr", req->addr);
    if (what)
        cJSON_AddStringToObject(details, "failed", what);
    hub_api_audit(h, "", "login.failed", NULL, details);
}

static void login_recorded(hub *h, hub_req *req, store_job *job)
{
    cJSON *entry, *body;

    if (job->err == STORE_ERR_UNAUTHENTICATED && job->err_code &&
        strcmp(job->err_code, "totp_invalid") == 0) {
        attempt_end(h, req, 0, "second factor");
        hub_reply_job(req, job, 200);
        return;
    }
    attempt_end(h, req, 1, NULL);
    if (job->err == STORE_ERR_UNAUTHENTICATED) {   /* disabled meanwhile */
        hub_reply_job(req, job, 200);
        return;
    }
    if (!hub_call_ok(job)) {
        hub_req_error(req, 500, "internal", "the login could not be recorded");
        return;
    }
    entry = cJSON_Duplicate(job->in, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "second");
    cJSON_AddNumberToObject(entry, "last_used", (double)hub_now_ms());
    if (!hub_auth_put(h, entry)) {
        cJSON_Delete(entry);
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    cJSON_Delete(entry);
    h->metrics.logins++;
    hub_api_set_cookie(h, req, hub_api_str(req->ctx, "token"), h->cfg.session_max_secs);
    /* The principal, and what the second factor hands out: the recovery codes of a new
     * one (shown this once), or how many are left after one was used. */
    body = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(job->in, "principal"), 1);
    for (cJSON *e = job->out ? job->out->child : NULL; e; e = e->next)
        cJSON_AddItemToObject(body, e->string, cJSON_Duplicate(e, 1));
    hub_req_reply(req, 200, body);
}

/* The second factor this login needs and brings ({kind, code}), or NULL when it needs
 * none; answers req and returns NULL with *answered set when it lacks one. */
static cJSON *second_factor(hub *h, hub_req *req, const auth_principal *who,
                            const cJSON *totp, int *answered)
{
    const char *code = hub_api_str(req->ctx, "totp");
    const char *recovery = hub_api_str(req->ctx, "recovery_code");
    cJSON *second;

    *answered = 0;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(totp, "enabled"))) {
        if (!code && !recovery) {
            *answered = 1;
            hub_req_error(req, 401, "totp_required",
                          "this account logs in with a one-time code from its authenticator "
                          "app (or a recovery code)");
            return NULL;
        }
        second = cJSON_CreateObject();
        cJSON_AddStringToObject(second, "kind", code ? "totp" : "recovery");
        cJSON_AddStringToObject(second, "code", code ? code : recovery);
        return second;
    }
    if (!auth_totp_required(h->cfg.totp_required, who->role))
        return NULL;
    if (code && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(totp, "pending"))) {
        second = cJSON_CreateObject();
        cJSON_AddStringToObject(second, "kind", "setup");
        cJSON_AddStringToObject(second, "code", code);
        return second;
    }
    *answered = 1;
    hub_req_error(req, 401, "totp_setup_required",
                  "this account must set up a second factor before it logs in "
                  "(POST /api/login/totp)");
    return NULL;
}

static void login_checked(hub *h, hub_req *req, store_job *job)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    int64_t now = hub_now_ms();
    const cJSON *principal, *totp;
    auth_principal who;
    cJSON *in, *second;
    int answered;

    if (!hub_call_ok(job)) {
        attempt_end(h, req, 0, "password");
        hub_req_error(req, 401, "invalid_credentials", "unknown username or wrong password");
        return;
    }
    principal = cJSON_GetObjectItemCaseSensitive(job->out, "principal");
    totp = cJSON_GetObjectItemCaseSensitive(job->out, "totp");
    if (hub_principal_from_json(principal, &who) != 0) {
        attempt_end(h, req, 1, NULL);
        hub_req_error(req, 500, "internal", "the account cannot be read");
        return;
    }
    second = second_factor(h, req, &who, totp, &answered);
    if (answered) {
        attempt_end(h, req, 1, NULL);   /* the password was right: not a failure */
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        cJSON_Delete(second);
        attempt_end(h, req, 1, NULL);
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "hash", hash);
    cJSON_AddStringToObject(in, "kind", "user");
    cJSON_AddItemToObject(in, "principal", cJSON_Duplicate(principal, 1));
    cJSON_AddNumberToObject(in, "now", (double)now);
    cJSON_AddNumberToObject(in, "expires_at", (double)(now + h->cfg.session_max_secs * 1000));
    cJSON_AddStringToObject(in, "addr", req->addr);
    if (second)
        cJSON_AddItemToObject(in, "second", second);
    hub_api_then(h, req, store_api_login_record, STORE_WRITER, in, login_recorded);
}

/* A slowed login's wait is over: check the password now. */
static void login_resume(hub *h, hub_req *req)
{
    cJSON *in = cJSON_DetachItemFromObjectCaseSensitive(req->ctx, "check");

    if (!in) {
        attempt_end(h, req, 1, NULL);
        hub_req_error(req, 500, "internal", "lost the login");
        return;
    }
    hub_api_then(h, req, store_api_login_check, STORE_WORKER, in, req->ctx_next);
}

/* Starts a login attempt for the body's username and password: throttled (auth/
 * throttle.h), then the password checked on the worker, then `next`. With a second
 * factor the body's totp or recovery_code are kept in req->ctx. 0, or -1 (answered). */
static int begin_attempt(hub *h, hub_req *req, hub_call_done next)
{
    cJSON *body = hub_api_body(req), *in;
    const char *user, *pw, *code, *recovery;
    auth_throttle_decision d;

    if (!body)
        return -1;
    user = hub_api_str(body, "username");
    pw = hub_api_str(body, "password");
    code = hub_api_str(body, "totp");
    recovery = hub_api_str(body, "recovery_code");
    if (!hub_api_text(user, 128) || !pw || !*pw || strlen(pw) > 1024 ||
        (code && !hub_api_text(code, 16)) || (recovery && !hub_api_text(recovery, 32))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username and password are required");
        return -1;
    }
    /* auth/throttle.h decides: refused per (username, address) or per address; for a
     * username only slowed, so its owner is never locked out. */
    d = hub_auth_attempt(h, user, req->addr);
    if (d.refuse) {
        cJSON_Delete(body);
        hub_metrics_limit(h, HUB_LIMIT_LOGIN_THROTTLE);
        req->retry_after = (int)((d.retry_after_ms + 999) / 1000);
        hub_req_error(req, 429, "rate_limited", d.by == AUTH_THROTTLE_PAIR ?
                      "too many failed logins for this name from this address; try again later" :
                      "too many failed logins from this address; try again later");
        return -1;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "username", user);
    if (code)
        cJSON_AddStringToObject(req->ctx, "totp", code);
    if (recovery)
        cJSON_AddStringToObject(req->ctx, "recovery_code", recovery);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "username", user);
    cJSON_AddStringToObject(in, "password", pw);
    cJSON_Delete(body);
    if (d.delay_ms > 0 && req->wsi) {
        cJSON_AddItemToObject(req->ctx, "check", in);
        req->ctx_next = next;
        req->resume = login_resume;
        lws_set_timer_usecs(req->wsi, (lws_usec_t)d.delay_ms * LWS_US_PER_MS);
        return 0;
    }
    hub_api_then(h, req, store_api_login_check, STORE_WORKER, in, next);
    return 0;
}

void hub_api_login(hub *h, hub_req *req)
{
    begin_attempt(h, req, login_checked);
}

static void setup_done(hub *h, hub_req *req, store_job *job)
{
    (void)h;
    hub_reply_job(req, job, 200);
}

/* The password checked for POST /api/login/totp: a new secret pending for the account,
 * which its next login confirms with a first code. */
static void setup_checked(hub *h, hub_req *req, store_job *job)
{
    const cJSON *principal = cJSON_GetObjectItemCaseSensitive(job->out, "principal");
    const cJSON *totp = cJSON_GetObjectItemCaseSensitive(job->out, "totp");
    cJSON *in;

    if (!hub_call_ok(job)) {
        attempt_end(h, req, 0, "password");
        hub_req_error(req, 401, "invalid_credentials", "unknown username or wrong password");
        return;
    }
    attempt_end(h, req, 1, NULL);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(totp, "enabled"))) {
        hub_req_error(req, 409, "totp_enabled",
                      "the second factor is set up already; an admin can reset it");
        return;
    }
    if (!store_encrypted(h->store)) {
        hub_req_error(req, 503, "totp_unavailable", HUB_TOTP_UNAVAILABLE);
        return;
    }
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "user_id", hub_api_str(principal, "id"));
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    cJSON_AddStringToObject(in, "issuer", HUB_TOTP_ISSUER);
    hub_api_then(h, req, store_api_totp_setup, STORE_WRITER, in, setup_done);
}

void hub_api_login_totp(hub *h, hub_req *req)
{
    begin_attempt(h, req, setup_checked);
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
