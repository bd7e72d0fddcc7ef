/*
 * Sessions, the meetings of a case (see store_api.h): a counsellor of the team starts
 * one (at most one runs per case) and ends it; while it runs its clients reach the
 * case's document. A session records the versions of the case document edited during
 * it, [start_v, end_v): start_v is the document's head when it starts, end_v when it
 * ends — both read in the writer's transaction, after every op the service thread
 * handed over before it, so the range is exact in the order the hub applied ops.
 *
 * The legacy session endpoints (protocol/http-api.md) live here too: a session's close
 * ends it and closes its case; participants and grants go to its case's team.
 */
#include "store/store_api.h"

#include <stdio.h>
#include <string.h>

#include "store/store_sql.h"

/* The legacy participant shape {id, name, role, specialty?, lead} of the team. */
static cJSON *participants_json(sqlite3 *db, const char *case_id)
{
    sqlite3_stmt *st = store_q(db, "SELECT u.id, u.display_name, u.role, u.specialty, t.role"
                               " FROM team t JOIN users u ON u.id = t.user_id WHERE"
                               " t.case_id = ?1 AND t.removed_at IS NULL ORDER BY t.added_at,"
                               " u.username", "s", case_id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *p = store_principal_json(st, 0);
        cJSON_AddBoolToObject(p, "lead", store_col(st, 4) && strcmp(store_col(st, 4), "lead") == 0);
        cJSON_AddItemToArray(list, p);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

int store_session_view(sqlite3 *db, const char *id, cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT s.id, s.case_id, s.started_at, s.ended_at, s.start_v,"
                               " s.end_v, konsil_open(c.title, c.id, 'cases.title', c.id),"
                               " c.template_name, c.status, (SELECT user_id FROM team WHERE"
                               " case_id = c.id AND role = 'lead' AND removed_at IS NULL) FROM"
                               " sessions s JOIN cases c ON c.id = s.case_id WHERE s.id = ?1",
                               "s", id);
    cJSON *v, *parts;
    int rc;

    *out = NULL;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", store_col(st, 0));
    cJSON_AddStringToObject(v, "case_id", store_col(st, 1));
    cJSON_AddStringToObject(v, "title", store_col(st, 6));
    cJSON_AddStringToObject(v, "template_name", store_col(st, 7));
    cJSON_AddStringToObject(v, "lead", store_col(st, 9) ? store_col(st, 9) : "");
    cJSON_AddNumberToObject(v, "created_at", (double)sqlite3_column_int64(st, 2));
    cJSON_AddNumberToObject(v, "started_at", (double)sqlite3_column_int64(st, 2));
    cJSON_AddItemToObject(v, "ended_at", store_col_number(st, 3));
    cJSON_AddItemToObject(v, "closed_at", store_col_number(st, 3));
    cJSON_AddStringToObject(v, "status", sqlite3_column_type(st, 3) == SQLITE_NULL ? "open" :
                            "closed");
    cJSON_AddNumberToObject(v, "from", (double)sqlite3_column_int64(st, 4));
    cJSON_AddItemToObject(v, "to", store_col_number(st, 5));
    cJSON_AddStringToObject(v, "case_status", store_col(st, 8));
    parts = participants_json(db, store_col(st, 1));
    sqlite3_finalize(st);
    if (!parts) {
        cJSON_Delete(v);
        return -1;
    }
    cJSON_AddItemToObject(v, "participants", parts);
    *out = v;
    return 0;
}

static int answer_session(sqlite3 *db, store_job *job, const char *id)
{
    cJSON *view;

    if (store_session_view(db, id, &view) != 0 || !view)
        return store_sql_fail(job);
    store_answer(job, view);
    return 0;
}

/* Session id's case into case_id, refusing (NOT_FOUND) unless the actor is a current
 * team member of it; *role its team role. 0 when the call may go on. */
static int session_member(sqlite3 *db, store_job *job, const char *id, char case_id[64],
                          char role[16], int *running)
{
    int found = store_session_case(db, id, case_id, running), m;

    if (found < 0)
        return store_sql_fail(job);
    if (!found || store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    m = store_team_role(db, case_id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    return m ? 0 : store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
}

int store_api_session_start(sqlite3 *db, store_job *job)
{
    const char *case_id = store_s(job->in, "id"), *id = store_s(job->in, "session_id");
    sqlite3_stmt *st;
    cJSON *details;
    char role[16];
    int64_t head;
    int m, state, rc;

    m = store_team_role(db, case_id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0 || store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (strcmp(role, "supervisor") == 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "only counsellors of the team start sessions");
    /* 1 open with no running session, 2 one runs, 0 closed */
    st = store_q(db, "SELECT CASE WHEN c.status <> 'open' THEN 0 WHEN EXISTS (SELECT 1 FROM"
                 " sessions s WHERE s.case_id = c.id AND s.ended_at IS NULL) THEN 2 ELSE 1 END"
                 " FROM cases c WHERE c.id = ?1", "s", case_id);
    state = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (state < 0)
        return store_sql_fail(job);
    if (state == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "case_closed", "the case is closed");
    if (state == 2)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_running",
                            "a session of this case is running: end it first");
    head = store_doc_head(db, case_id);
    if (head < 0 ||
        store_run(store_q(db, "INSERT INTO sessions (id, case_id, started_at, started_by,"
                          " start_v) VALUES (?1, ?2, ?3, ?4, ?5)", "ssisi", id, case_id,
                          store_i(job->in, "now"), store_actor_id(job), head)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "session", id);
    rc = store_audit_call(db, job, store_actor_id(job), "session.create", case_id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    return answer_session(db, job, id);
}

int store_session_finish(sqlite3 *db, store_job *job, const char *session,
                         const char *case_id)
{
    int64_t head = store_doc_head(db, case_id);
    cJSON *details;
    int rc;

    if (head < 0 ||
        store_run(store_q(db, "UPDATE sessions SET ended_at = ?2, ended_by = ?3, end_v = ?4"
                          " WHERE id = ?1 AND ended_at IS NULL", "sisi", session,
                          store_i(job->in, "now"), store_actor_id(job), head)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "session", session);
    rc = store_audit_call(db, job, store_actor_id(job), "session.end", case_id, details);
    cJSON_Delete(details);
    return rc;
}

int store_api_session_end(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    char case_id[64], role[16];
    int running = 0;

    if (session_member(db, job, id, case_id, role, &running) != 0)
        return -1;
    if (strcmp(role, "supervisor") == 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "only counsellors of the team end sessions");
    if (!running)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_ended",
                            "the session has ended already");
    if (store_session_finish(db, job, id, case_id) != 0)
        return -1;
    return answer_session(db, job, id);
}

int store_api_session_close(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    char case_id[64];
    int found = store_session_case(db, id, case_id, NULL);

    if (found < 0)
        return store_sql_fail(job);
    if (!found)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    if (store_require_lead(db, job, case_id, 1, 1) != 0 ||
        store_case_finish(db, job, case_id) != 0)
        return -1;
    return answer_session(db, job, id);
}

int store_api_sessions_list(sqlite3 *db, store_job *job)
{
    const cJSON *actor = store_actor(job);
    const char *bound = store_s(actor, "session");
    sqlite3_stmt *st = bound ?
        store_q(db, "SELECT id FROM sessions WHERE id = ?1", "s", bound) :
        store_q(db, "SELECT s.id FROM sessions s JOIN team t ON t.case_id = s.case_id AND"
                " t.user_id = ?1 AND t.removed_at IS NULL ORDER BY s.started_at DESC, s.id",
                "s", store_actor_id(job));
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "sessions");
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *view;
        if (store_session_view(db, store_col(st, 0), &view) != 0 || !view) {
            rc = SQLITE_ERROR;
            break;
        }
        cJSON_AddItemToArray(list, view);
        if (store_resource_for_reader(db, job, store_s(view, "case_id"), view, 0) != 0) {
            sqlite3_finalize(st);
            cJSON_Delete(body);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        return store_sql_fail(job);
    }
    store_answer(job, body);
    return 0;
}

/* The rules of the template version of case_id (as in its text) into view; 0 or -1. */
static int add_rules(sqlite3 *db, const char *case_id, cJSON *view)
{
    sqlite3_stmt *st = store_q(db, "SELECT t.text FROM cases c JOIN templates t ON t.name ="
                               " c.template_name AND t.version = c.template_version WHERE"
                               " c.id = ?1", "s", case_id);
    cJSON *text = st && sqlite3_step(st) == SQLITE_ROW ? cJSON_Parse(store_col(st, 0)) : NULL;
    cJSON *rules = cJSON_DetachItemFromObjectCaseSensitive(text, "rules");

    sqlite3_finalize(st);
    cJSON_Delete(text);
    if (!rules)
        return -1;
    cJSON_AddItemToObject(view, "rules", rules);
    return 0;
}

int store_api_session_get(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *bound = store_s(store_actor(job), "session");
    char case_id[64], role[16];

    if (bound) {
        if (strcmp(bound, id) != 0)
            return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    } else if (session_member(db, job, id, case_id, role, NULL) != 0) {
        return -1;
    }
    if (answer_session(db, job, id) != 0 ||
        add_rules(db, store_s(job->out, "case_id"), job->out) != 0)
        return store_sql_fail(job);
    return store_resource_for_reader(db, job, store_s(job->out, "case_id"), job->out, 1);
}

/* The legacy endpoints that act on a session's case: in.id becomes the case's id and
 * in.legacy true, so the case's call answers with the session endpoints' error codes. */
static int to_case(sqlite3 *db, store_job *job)
{
    char case_id[64];
    int found = store_session_case(db, store_s(job->in, "id"), case_id, NULL);

    if (found < 0)
        return store_sql_fail(job);
    if (!found)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    cJSON_ReplaceItemInObjectCaseSensitive(job->in, "id", cJSON_CreateString(case_id));
    cJSON_AddBoolToObject(job->in, "legacy", 1);
    return 0;
}

int store_api_session_participant_add(sqlite3 *db, store_job *job)
{
    return to_case(db, job) == 0 ? store_api_team_add(db, job) : -1;
}

int store_api_session_grant_create(sqlite3 *db, store_job *job)
{
    return to_case(db, job) == 0 ? store_api_grant_create(db, job) : -1;
}
