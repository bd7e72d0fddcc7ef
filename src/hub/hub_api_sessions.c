/*
 * Sessions, the meetings of a case: listing and reading them, ending one (its clients
 * lose the case's document at once), and the legacy close (the session ends and its
 * case closes). Starting a session and the legacy create are the cases' (hub_api_cases.c).
 */
#include "hub/hub_api.h"

#include <string.h>

#include "store/store_api.h"

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

static void ended_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_session_ended(h, hub_api_str(job->out, "case_id"), hub_api_str(job->in, "id"));
    hub_reply_job(req, job, 200);
}

void hub_api_session_end(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_then(h, req, store_api_session_end, STORE_WRITER, in, ended_done);
}

static void closed_done(hub *h, hub_req *req, store_job *job)
{
    cJSON *sessions = cJSON_CreateArray(), *s = cJSON_CreateObject();

    if (hub_call_ok(job) && sessions && s) {
        cJSON_AddStringToObject(s, "id", hub_api_str(job->in, "id"));
        cJSON_AddItemToArray(sessions, s);
        s = NULL;
        hub_case_closed(h, hub_api_str(job->out, "case_id"), sessions);
    }
    cJSON_Delete(s);
    cJSON_Delete(sessions);
    hub_reply_job(req, job, 200);
}

void hub_api_session_close(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in)
        hub_api_then(h, req, store_api_session_close, STORE_WRITER, in, closed_done);
}
