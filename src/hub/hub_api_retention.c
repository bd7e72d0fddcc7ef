/*
 * Retention and data-subject rights on the REST API (protocol/http-api.md, protocol/
 * retention.md): erasure on request (asked for, confirmed by a second staff member,
 * withdrawn), legal holds, restriction, a case's retention class and its "still active"
 * confirmation, the officer's view, and the client's own copy. The store checks who may
 * do what; a change the live state must know at once (an erasure, a restriction)
 * reaches it through hub_case.c once the store call has committed.
 */
#include "hub/hub_api.h"

#include <string.h>

#include "store/store_api.h"
#include "store/store_erase.h"
#include "store/store_copy.h"
#include "store/store_retention.h"

/* Limits of the reasons people give (protocol/limits.md). */
#define REASON_MAX 500

/* The body's "reason" (1..REASON_MAX bytes of text) into in; 0, or -1 (answered 400). */
static int take_reason(hub_req *req, cJSON *in)
{
    cJSON *body = hub_api_body(req);
    const char *reason = hub_api_str(body, "reason");

    if (!body)
        return -1;
    if (!hub_api_text(reason, REASON_MAX)) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "a reason of 1 to 500 bytes of text is required");
        return -1;
    }
    cJSON_AddStringToObject(in, "reason", reason);
    cJSON_Delete(body);
    return 0;
}

void hub_api_erasure_request(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);
    char request[37];

    if (!in)
        return;
    if (take_reason(req, in) != 0) {
        cJSON_Delete(in);
        return;
    }
    hub_api_new_id(request);
    cJSON_AddStringToObject(in, "request_id", request);
    hub_api_answer(h, req, store_api_erasure_request, STORE_WRITER, in, 201);
}

static void erased_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job)) {
        hub_case_erased(h, job->out);
        cJSON_DeleteItemFromObjectCaseSensitive(job->out, "sessions");
        cJSON_DeleteItemFromObjectCaseSensitive(job->out, "clients");
    }
    hub_reply_job(req, job, 200);
}

void hub_api_erasure_confirm(hub *h, hub_req *req, const char *id, const char *request)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "request_id", request);
    hub_api_then(h, req, store_api_erasure_confirm, STORE_WRITER, in, erased_done);
}

void hub_api_erasure_cancel(hub *h, hub_req *req, const char *id, const char *request)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "request_id", request);
    hub_api_answer(h, req, store_api_erasure_cancel, STORE_WRITER, in, 204);
}

/* ---- legal holds, restriction, the retention class, "still active" ------------------- */

void hub_api_hold_set(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id), *body;
    const cJSON *until;
    char hold[37];

    if (!in)
        return;
    if (!(body = hub_api_body(req))) {
        cJSON_Delete(in);
        return;
    }
    until = cJSON_GetObjectItemCaseSensitive(body, "until");
    if (!hub_api_text(hub_api_str(body, "reason"), REASON_MAX) ||
        (until && !cJSON_IsNull(until) &&
         (!cJSON_IsNumber(until) || until->valuedouble != (double)(int64_t)until->valuedouble ||
          until->valuedouble < 0 || until->valuedouble > 9007199254740991.0))) {
        cJSON_Delete(body);
        cJSON_Delete(in);
        hub_req_error(req, 400, "bad_request", "a reason of 1 to 500 bytes of text is required; "
                      "until, when given, is a time in ms since the epoch");
        return;
    }
    cJSON_AddStringToObject(in, "reason", hub_api_str(body, "reason"));
    if (cJSON_IsNumber(until))
        cJSON_AddNumberToObject(in, "until", until->valuedouble);
    cJSON_Delete(body);
    hub_api_new_id(hold);
    cJSON_AddStringToObject(in, "hold_id", hold);
    hub_api_answer(h, req, store_api_hold_set, STORE_WRITER, in, 201);
}

void hub_api_hold_lift(hub *h, hub_req *req, const char *id, const char *hold)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    if (take_reason(req, in) != 0) {
        cJSON_Delete(in);
        return;
    }
    cJSON_AddStringToObject(in, "hold_id", hold);
    hub_api_answer(h, req, store_api_hold_lift, STORE_WRITER, in, 200);
}

static void restricted_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job)) {
        hub_case_restricted(h, hub_api_str(job->in, "id"), hub_api_str(job->out, "lead"),
                            cJSON_GetObjectItemCaseSensitive(job->out, "ended_sessions"));
        cJSON_DeleteItemFromObjectCaseSensitive(job->out, "ended_sessions");
    }
    hub_reply_job(req, job, 200);
}

static void unrestricted_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_unrestricted(h, hub_api_str(job->in, "id"), hub_api_str(job->out, "status"));
    hub_reply_job(req, job, 200);
}

void hub_api_case_restrict(hub *h, hub_req *req, const char *id, int restricting)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    if (take_reason(req, in) != 0) {
        cJSON_Delete(in);
        return;
    }
    hub_api_then(h, req, restricting ? store_api_case_restrict : store_api_case_unrestrict,
                 STORE_WRITER, in, restricting ? restricted_done : unrestricted_done);
}

void hub_api_retention_class(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id), *body;
    const char *name;

    if (!in)
        return;
    if (!(body = hub_api_body(req))) {
        cJSON_Delete(in);
        return;
    }
    name = hub_api_str(body, "class");
    if (!hub_api_text(name, 32)) {
        cJSON_Delete(body);
        cJSON_Delete(in);
        hub_req_error(req, 400, "bad_request", "class must name a retention class");
        return;
    }
    cJSON_AddStringToObject(in, "class", name);
    cJSON_Delete(body);
    hub_api_answer(h, req, store_api_retention_class, STORE_WRITER, in, 200);
}

void hub_api_case_keep(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_answer(h, req, store_api_case_keep, STORE_WRITER, in, 200);
}

void hub_api_officer(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (in)
        hub_api_answer(h, req, store_api_officer, STORE_READER, in, 200);
}

/* ---- the client's own copy and the print view ----------------------------------------- */

void hub_api_client_copy(hub *h, hub_req *req, const char *id, const char *client_id)
{
    cJSON *in;

    /* The client itself also once its session ended (its link session still stands). */
    if (hub_api_need_login(h, req, client_id == NULL) != 0)
        return;
    if (!client_id && req->login.who.role != AUTH_ROLE_CLIENT) {
        hub_req_error(req, 404, "not_found", "the copy of a client is asked for on its case "
                      "(GET /api/cases/{id}/clients/{client_id}/copy)");
        return;
    }
    if (client_id && req->login.who.role == AUTH_ROLE_CLIENT) {
        hub_req_error(req, 404, "not_found", "no such case");
        return;
    }
    in = hub_api_in(req, id);
    if (client_id)
        cJSON_AddStringToObject(in, "client_id", client_id);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "copy.read");
    hub_api_then(h, req, store_api_client_copy, STORE_READER, in, hub_api_read_done);
}

void hub_api_client_view(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "client_view.read");
    hub_api_then(h, req, store_api_client_view, STORE_READER, in, hub_api_read_done);
}
