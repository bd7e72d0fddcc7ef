/*
 * Cases: creating one (its document created with it), listing and reading them, its
 * team (adding, removing, handing over the lead), identified-reading grants, closing
 * it, starting a session; the templates on offer and the tasks a counsellor owns across
 * its cases. A change the live state must know at once reaches it through hub_case.c
 * once the store call has committed.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store_api.h"

/* The server's local time as "YYYY-MM-DDTHH:MM" (what appointments are compared with)
 * into out; its first 10 bytes are today's date. */
static void local_minute(char out[17])
{
    time_t now = time(NULL);
    struct tm tm;

    if (!localtime_r(&now, &tm) || strftime(out, 17, "%Y-%m-%dT%H:%M", &tm) == 0)
        snprintf(out, 17, "1970-01-01T00:00");
}

/* The body of a create ({title, template?}), its checks shared by POST /api/cases and
 * the legacy POST /api/sessions: the store call's input, or NULL (req answered). */
static cJSON *create_in(hub *h, hub_req *req, const char *id, const char *what)
{
    const cJSON *tpl;
    cJSON *body, *in;
    char message[80];

    if (hub_api_need_login(h, req, 0) != 0)
        return NULL;
    if (req->login.who.role != AUTH_ROLE_COUNSELLOR) {
        snprintf(message, sizeof message, "only counsellors create %s", what);
        hub_req_error(req, 403, "forbidden", message);
        return NULL;
    }
    if (!(body = hub_api_body(req)))
        return NULL;
    tpl = cJSON_GetObjectItemCaseSensitive(body, "template");
    if (!hub_api_text(hub_api_str(body, "title"), 200) ||
        (tpl && !hub_api_text(cJSON_GetStringValue(tpl), 64))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request",
                      "title must be 1 to 200 bytes of text; template a template name");
        return NULL;
    }
    if (hub_api_may_create(h, req) != 0) {
        cJSON_Delete(body);
        return NULL;
    }
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "title", hub_api_str(body, "title"));
    if (tpl)
        cJSON_AddStringToObject(in, "template", tpl->valuestring);
    cJSON_AddStringToObject(in, "lead_name", req->login.who.display_name);
    cJSON_Delete(body);
    return in;
}

void hub_api_case_create(hub *h, hub_req *req)
{
    char id[37];
    cJSON *in;

    hub_api_new_id(id);
    if ((in = create_in(h, req, id, "cases")))
        hub_api_answer(h, req, store_api_case_create, STORE_WRITER, in, 201);
}

void hub_api_session_create(hub *h, hub_req *req)
{
    char id[37], session[37];
    cJSON *in;

    hub_api_new_id(id);
    hub_api_new_id(session);
    if ((in = create_in(h, req, id, "sessions"))) {
        cJSON_AddStringToObject(in, "session_id", session);
        hub_api_answer(h, req, store_api_case_create, STORE_WRITER, in, 201);
    }
}

void hub_api_cases(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);
    char now[17];

    if (!in)
        return;
    local_minute(now);
    cJSON_AddStringToObject(in, "now_minute", now);
    hub_api_answer(h, req, store_api_cases_list, STORE_READER, in, 200);
}

void hub_api_case_get(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_answer(h, req, store_api_case_get, STORE_READER, in, 200);
}

static void closed_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_closed(h, hub_api_str(job->in, "id"),
                        cJSON_GetObjectItemCaseSensitive(job->out, "sessions"));
    hub_reply_job(req, job, 200);
}

void hub_api_case_close(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_then(h, req, store_api_case_close, STORE_WRITER, in, closed_done);
}

static void started_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_session_started(h, hub_api_str(job->in, "id"), hub_api_str(job->out, "id"));
    hub_reply_job(req, job, 201);
}

void hub_api_case_session_start(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);
    char session[37];

    if (!in)
        return;
    if (hub_api_may_create(h, req) != 0) {
        cJSON_Delete(in);
        return;
    }
    hub_api_new_id(session);
    cJSON_AddStringToObject(in, "session_id", session);
    hub_api_then(h, req, store_api_session_start, STORE_WRITER, in, started_done);
}

/* ---- the team ---------------------------------------------------------------------------- */

static void member_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_member_added(h, hub_api_str(job->in, "id"), hub_api_str(job->out, "id"),
                              hub_api_str(job->out, "role"));
    hub_reply_job(req, job, 201);
}

void hub_api_team_add(hub *h, hub_req *req, const char *id, int legacy)
{
    const cJSON *role;
    cJSON *body, *in;

    if (hub_api_need_login(h, req, 0) != 0 || !(body = hub_api_body(req)))
        return;
    role = cJSON_GetObjectItemCaseSensitive(body, "role");
    if (!hub_api_text(hub_api_str(body, "username"), 128) ||
        (role && (!cJSON_IsString(role) || (strcmp(role->valuestring, "counsellor") != 0 &&
                                            strcmp(role->valuestring, "supervisor") != 0)))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "username is required; role, when given, "
                      "counsellor or supervisor");
        return;
    }
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "username", hub_api_str(body, "username"));
    if (role)
        cJSON_AddStringToObject(in, "role", role->valuestring);
    cJSON_Delete(body);
    hub_api_then(h, req, legacy ? store_api_session_participant_add : store_api_team_add,
                 STORE_WRITER, in, member_done);
}

static void removed_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_member_removed(h, hub_api_str(job->in, "id"), hub_api_str(job->out, "id"));
    hub_reply_job(req, job, 204);
}

void hub_api_team_remove(hub *h, hub_req *req, const char *id, const char *user)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "user_id", user);
    hub_api_then(h, req, store_api_team_remove, STORE_WRITER, in, removed_done);
}

static void lead_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_lead_changed(h, hub_api_str(job->in, "id"), req->login.who.id,
                              hub_api_str(job->in, "user_id"));
    hub_reply_job(req, job, 200);
}

void hub_api_lead_transfer(hub *h, hub_req *req, const char *id)
{
    const char *user;
    cJSON *body, *in;

    if (hub_api_need_login(h, req, 0) != 0 || !(body = hub_api_body(req)))
        return;
    user = hub_api_str(body, "user_id");
    if (!user || !hub_api_id(user, strlen(user))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "user_id is required: a team member's id");
        return;
    }
    in = hub_api_in(req, id);
    cJSON_AddStringToObject(in, "user_id", user);
    cJSON_Delete(body);
    hub_api_then(h, req, store_api_lead_transfer, STORE_WRITER, in, lead_done);
}

/* POST /api/cases/{id}/grants (or the legacy /api/sessions/{id}/grants) {username,
 * expires_in_s}: identified reading for a supervisor until it expires. */
void hub_api_grant_create(hub *h, hub_req *req, const char *id, int legacy)
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
    hub_api_answer(h, req, legacy ? store_api_session_grant_create : store_api_grant_create,
                   STORE_WRITER, in, 201);
}

/* ---- templates, tasks -------------------------------------------------------------------- */

void hub_api_templates(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (in)
        hub_api_answer(h, req, store_api_templates_list, STORE_READER, in, 200);
}

void hub_api_my_tasks(hub *h, hub_req *req)
{
    cJSON *in = hub_api_login_in(h, req, NULL);
    char now[17];

    if (!in)
        return;
    local_minute(now);
    now[10] = '\0';
    cJSON_AddStringToObject(in, "today", now);
    hub_api_answer(h, req, store_api_my_tasks, STORE_READER, in, 200);
}
