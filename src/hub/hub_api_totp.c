/*
 * An account's own second factor, logged in (protocol/http-api.md, "Second factor"):
 * its state, setting one up (a secret pending until a first code confirms it, which
 * hands out ten recovery codes once), turning it off (only for roles that do not
 * require it), and new recovery codes. Every change needs a current code; the store
 * checks it, records its step (a code works once) and audits the change.
 */
#include "hub/hub_api.h"

#include <string.h>

#include "auth/totp.h"
#include "store/store_api.h"

/* The logged-in account's input {user_id, now}, or NULL (answered). Clients have no
 * second factor. */
static cJSON *own_in(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (in && req->login.who.role == AUTH_ROLE_CLIENT) {
        cJSON_Delete(in);
        hub_req_error(req, 403, "forbidden", "clients have no second factor");
        return NULL;
    }
    if (in)
        cJSON_AddStringToObject(in, "user_id", req->login.who.id);
    return in;
}

/* own_in with the body's code, or NULL (answered). */
static cJSON *code_in(hub *h, hub_req *req)
{
    cJSON *in = own_in(h, req), *body;
    const char *code;

    if (!in)
        return NULL;
    if (!(body = hub_api_body(req))) {
        cJSON_Delete(in);
        return NULL;
    }
    code = hub_api_str(body, "code");
    if (!code || !hub_api_text(code, 16)) {
        cJSON_Delete(body);
        cJSON_Delete(in);
        hub_req_error(req, 400, "bad_request", "the 6-digit code of the authenticator app");
        return NULL;
    }
    cJSON_AddStringToObject(in, "code", code);
    cJSON_Delete(body);
    return in;
}

static void status_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job)) {
        cJSON_AddBoolToObject(job->out, "required",
                              auth_totp_required(h->cfg.totp_required, req->login.who.role));
        cJSON_AddBoolToObject(job->out, "available", store_encrypted(h->store));
    }
    hub_reply_job(req, job, 200);
}

void hub_api_my_totp(hub *h, hub_req *req)
{
    cJSON *in = own_in(h, req);

    if (in)
        hub_api_then(h, req, store_api_totp_status, STORE_READER, in, status_done);
}

void hub_api_my_totp_setup(hub *h, hub_req *req)
{
    cJSON *in = own_in(h, req);

    if (!in)
        return;
    if (!store_encrypted(h->store)) {
        cJSON_Delete(in);
        hub_req_error(req, 503, "totp_unavailable", HUB_TOTP_UNAVAILABLE);
        return;
    }
    cJSON_AddStringToObject(in, "issuer", HUB_TOTP_ISSUER);
    hub_api_answer(h, req, store_api_totp_setup, STORE_WRITER, in, 200);
}

void hub_api_my_totp_confirm(hub *h, hub_req *req)
{
    cJSON *in = code_in(h, req);

    if (in)
        hub_api_answer(h, req, store_api_totp_confirm, STORE_WRITER, in, 200);
}

void hub_api_my_totp_disable(hub *h, hub_req *req)
{
    cJSON *in = code_in(h, req);

    if (!in)
        return;
    if (auth_totp_required(h->cfg.totp_required, req->login.who.role)) {
        cJSON_Delete(in);
        hub_req_error(req, 403, "totp_required_for_role",
                      "accounts of this role must keep their second factor");
        return;
    }
    hub_api_answer(h, req, store_api_totp_disable, STORE_WRITER, in, 204);
}

void hub_api_my_recovery_codes(hub *h, hub_req *req)
{
    cJSON *in = code_in(h, req);

    if (in)
        hub_api_answer(h, req, store_api_recovery_renew, STORE_WRITER, in, 200);
}
