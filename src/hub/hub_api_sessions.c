/*
 * Sessions: creating one (its document created with it), listing and reading them,
 * closing, adding participants, identified-reading grants. A change a loaded room must
 * know at once (a participant added, the session closed) updates its policy when the
 * store call has committed.
 */
#include "hub/hub_api.h"

#include <string.h>

#include "hub/hub_access.h"
#include "store/store_api.h"

void hub_api_session_create(hub *h, hub_req *req)
{
    cJSON *body, *in, *doc, *meta;
    const char *title, *tname;
    const hub_template *t;
    char id[37];

    if (hub_api_need_login(h, req, 0) != 0)
        return;
    if (req->login.who.role != AUTH_ROLE_COUNSELLOR) {
        hub_req_error(req, 403, "forbidden", "only counsellors create sessions");
        return;
    }
    if (!(body = hub_api_body(req)))
        return;
    title = hub_api_str(body, "title");
    tname = cJSON_GetObjectItemCaseSensitive(body, "template") ? hub_api_str(body, "template") : "default";
    if (!hub_api_text(title, 200) || !tname) {
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
    hub_api_new_id(id);
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
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "title", title);
    cJSON_AddStringToObject(in, "template_name", template_name(t->spec));
    cJSON_AddStringToObject(in, "template", t->text);
    cJSON_AddItemToObject(in, "document", doc);
    cJSON_Delete(body);
    hub_api_answer(h, req, store_api_session_create, STORE_WRITER, in, 201);
}

void hub_api_sessions(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (in)
        hub_api_answer(h, req, store_api_sessions_list, STORE_READER, in, 200);
}

void hub_api_session_get(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_answer(h, req, store_api_session_get, STORE_READER, in, 200);
}

static void closed_done(hub *h, hub_req *req, store_job *job)
{
    hub_policy *p = room_policy(h->rooms, hub_api_str(job->in, "id"));

    if (hub_call_ok(job) && p)
        hub_policy_close(p);
    hub_reply_job(req, job, 200);
}

void hub_api_session_close(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_then(h, req, store_api_session_close, STORE_WRITER, in, closed_done);
}

static void participant_done(hub *h, hub_req *req, store_job *job)
{
    hub_policy *p = room_policy(h->rooms, hub_api_str(job->in, "id"));

    if (hub_call_ok(job) && p)
        hub_policy_add_member(p, hub_api_str(job->out, "id"));
    hub_reply_job(req, job, 201);
}

void hub_api_participant_add(hub *h, hub_req *req, const char *id)
{
    cJSON *body, *in;

    if (hub_api_need_login(h, req, 0) != 0 || !(body = hub_api_body(req)))
        return;
    if (!hub_api_text(hub_api_str(body, "username"), 128)) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username is required");
        return;
    }
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "username", hub_api_str(body, "username"));
    cJSON_Delete(body);
    hub_api_then(h, req, store_api_participant_add, STORE_WRITER, in, participant_done);
}

/* POST /api/sessions/{id}/grants {username, expires_in_s}: identified reading for a
 * supervisor until it expires (protocol/http-api.md). */
void hub_api_grant_create(hub *h, hub_req *req, const char *id)
{
    cJSON *body, *in;
    const cJSON *exp;

    if (hub_api_need_login(h, req, 0) != 0 || !(body = hub_api_body(req)))
        return;
    exp = cJSON_GetObjectItemCaseSensitive(body, "expires_in_s");
    if (!hub_api_text(hub_api_str(body, "username"), 128) || !cJSON_IsNumber(exp) ||
        exp->valuedouble != (double)(int64_t)exp->valuedouble || exp->valuedouble < 1 ||
        exp->valuedouble > 2592000) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username and expires_in_s (1 to 2592000) "
                      "are required");
        return;
    }
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "username", hub_api_str(body, "username"));
    cJSON_AddNumberToObject(in, "expires_in_s", exp->valuedouble);
    cJSON_Delete(body);
    hub_api_answer(h, req, store_api_grant_create, STORE_WRITER, in, 201);
}
