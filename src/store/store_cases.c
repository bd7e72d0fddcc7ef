/*
 * Cases and their team (see store_api.h): a case owns the document whose id is its id,
 * the template version it started with, its team and its status. The team is a row per
 * membership (added_at, removed_at); the lead is the member whose team role is "lead".
 * Who may do what is checked here against the database: the lead adds and removes
 * members, hands the lead over, grants identified reading and closes the case.
 */
#include "store/store_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/template.h"
#include "case/case_sheet.h"
#include "doc/doc.h"
#include "store/store_copy.h"
#include "store/store_crypt.h"
#include "store/store_retention.h"
#include "store/store_sql.h"


/* ---- the case as the access layer and the API see it ---------------------------------- */

/* [{id, name, role, specialty?, team_role, lead, added_at}] of the current team. */
static cJSON *team_json(sqlite3 *db, const char *case_id, char lead[64])
{
    sqlite3_stmt *st = store_q(db, "SELECT u.id, u.display_name, u.role, u.specialty, t.role,"
                               " t.added_at FROM team t JOIN users u ON u.id = t.user_id WHERE"
                               " t.case_id = ?1 AND t.removed_at IS NULL ORDER BY t.added_at,"
                               " u.username", "s", case_id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    lead[0] = '\0';
    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *m = store_principal_json(st, 0);
        const char *role = store_col(st, 4) ? store_col(st, 4) : "";
        cJSON_AddStringToObject(m, "team_role", role);
        cJSON_AddBoolToObject(m, "lead", strcmp(role, "lead") == 0);
        cJSON_AddNumberToObject(m, "added_at", (double)sqlite3_column_int64(st, 5));
        if (strcmp(role, "lead") == 0)
            snprintf(lead, 64, "%s", store_col(st, 0));
        cJSON_AddItemToArray(list, m);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* [{id, started_at, ended_at, status, from, to}], oldest first; the running ones' ids
 * into running. */
static cJSON *sessions_json(sqlite3 *db, const char *case_id, cJSON *running)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, started_at, ended_at, start_v, end_v FROM"
                               " sessions WHERE case_id = ?1 ORDER BY started_at, id", "s",
                               case_id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *s = cJSON_CreateObject();
        int ended = sqlite3_column_type(st, 2) != SQLITE_NULL;
        cJSON_AddStringToObject(s, "id", store_col(st, 0));
        cJSON_AddNumberToObject(s, "started_at", (double)sqlite3_column_int64(st, 1));
        cJSON_AddItemToObject(s, "ended_at", store_col_number(st, 2));
        cJSON_AddStringToObject(s, "status", ended ? "closed" : "open");
        cJSON_AddNumberToObject(s, "from", (double)sqlite3_column_int64(st, 3));
        cJSON_AddItemToObject(s, "to", store_col_number(st, 4));
        if (!ended)
            cJSON_AddItemToArray(running, cJSON_CreateString(store_col(st, 0)));
        cJSON_AddItemToArray(list, s);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* The display names the case's clients gave when joining: the hub's pseudonymised
 * views replace them (access_view.h, access_names.h); never part of a public view. */
static cJSON *client_names(sqlite3 *db, const char *case_id)
{
    sqlite3_stmt *st = store_q(db, "SELECT konsil_open(c.display_name, s.case_id,"
                               " 'clients.display_name', c.id) FROM clients c JOIN sessions s"
                               " ON s.id = c.session WHERE s.case_id = ?1", "s", case_id);
    return store_strings(st);
}

int store_case_meta(sqlite3 *db, const char *id, cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, konsil_open(c.title, c.id, 'cases.title', c.id),"
                               " c.status, c.template_name,"
                               " c.template_version, t.text, c.created_at, c.closed_at FROM"
                               " cases c JOIN templates t ON t.name = c.template_name AND"
                               " t.version = c.template_version WHERE c.id = ?1", "s", id);
    cJSON *m, *team, *sessions, *running, *names;
    char lead[64];
    int rc;

    *out = NULL;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", store_col(st, 0));
    cJSON_AddStringToObject(m, "title", store_col(st, 1));
    cJSON_AddStringToObject(m, "status", store_col(st, 2));
    cJSON_AddStringToObject(m, "template_name", store_col(st, 3));
    cJSON_AddNumberToObject(m, "template_version", (double)sqlite3_column_int64(st, 4));
    cJSON_AddStringToObject(m, "template", store_col(st, 5));
    cJSON_AddNumberToObject(m, "created_at", (double)sqlite3_column_int64(st, 6));
    cJSON_AddItemToObject(m, "closed_at", store_col_number(st, 7));
    sqlite3_finalize(st);
    running = cJSON_CreateArray();
    team = team_json(db, id, lead);
    sessions = sessions_json(db, id, running);
    names = client_names(db, id);
    if (!team || !sessions || !names || !running) {
        cJSON_Delete(team);
        cJSON_Delete(sessions);
        cJSON_Delete(names);
        cJSON_Delete(running);
        cJSON_Delete(m);
        return -1;
    }
    cJSON_AddStringToObject(m, "lead", lead);
    cJSON_AddItemToObject(m, "team", team);
    cJSON_AddItemToObject(m, "sessions", sessions);
    cJSON_AddItemToObject(m, "running", running);
    cJSON_AddItemToObject(m, "client_names", names);
    *out = m;
    return 0;
}

/* The public view of case meta (taken): without the template text and the clients'
 * names; the template as {name, version[, title, description]}, the running session,
 * the lead's name, and the rules when asked for. */
static cJSON *case_view(cJSON *meta, int with_rules)
{
    cJSON *tpl = cJSON_CreateObject(), *text = NULL, *member;
    const cJSON *running = cJSON_GetObjectItemCaseSensitive(meta, "running");
    const char *lead = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "lead"));

    cJSON_AddItemToObject(tpl, "name", cJSON_DetachItemFromObjectCaseSensitive(meta,
                                                                               "template_name"));
    cJSON_AddItemToObject(tpl, "version", cJSON_DetachItemFromObjectCaseSensitive(
        meta, "template_version"));
    if (with_rules) {
        text = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta,
                                                                                 "template")));
        cJSON_AddItemToObject(tpl, "title", cJSON_DetachItemFromObjectCaseSensitive(text,
                                                                                    "title"));
        cJSON_AddItemToObject(meta, "rules", cJSON_DetachItemFromObjectCaseSensitive(text,
                                                                                     "rules"));
        cJSON_Delete(text);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "template");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "client_names");
    cJSON_AddItemToObject(meta, "template", tpl);
    cJSON_AddItemToObject(meta, "running_session", running && running->child ?
                          cJSON_Duplicate(running->child, 1) : cJSON_CreateNull());
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "running");
    cJSON_ArrayForEach(member, cJSON_GetObjectItemCaseSensitive(meta, "team"))
        if (lead && strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(member, "id")),
                           lead) == 0)
            cJSON_AddStringToObject(meta, "lead_name", cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(member, "name")));
    return meta;
}

int store_case_view(sqlite3 *db, const char *id, int with_rules, cJSON **out)
{
    if (store_case_meta(db, id, out) != 0)
        return -1;
    if (*out)
        *out = case_view(*out, with_rules);
    return 0;
}

/* Whether the actor leads case id or is an admin: who reads the reasons of its holds,
 * restriction and erasure request. */
static int privileged(sqlite3 *db, const store_job *job, const char *id)
{
    const char *role = store_s(store_actor(job), "role");
    char team_role[16];

    if (store_s(store_actor(job), "session"))
        return 0;
    if (role && strcmp(role, "admin") == 0)
        return 1;
    return store_team_role(db, id, store_actor_id(job), team_role) == 1 &&
           strcmp(team_role, "lead") == 0;
}

static int answer_case(sqlite3 *db, store_job *job, const char *id, int with_rules)
{
    cJSON *view, *clients;
    char role[16];

    if (store_case_view(db, id, with_rules, &view) != 0 || !view)
        return store_sql_fail(job);
    if (store_retention_add(db, job->in, privileged(db, job, id), view) != 0) {
        cJSON_Delete(view);
        return store_sql_fail(job);
    }
    /* The team's counsellors take a client's copy on its behalf: they see who the clients
     * are (the names they chose), supervisors do not. */
    if (!store_s(store_actor(job), "session") &&
        store_team_role(db, id, store_actor_id(job), role) == 1 &&
        strcmp(role, "supervisor") != 0) {
        if (store_copy_clients(db, id, &clients) != 0) {
            cJSON_Delete(view);
            return store_sql_fail(job);
        }
        cJSON_AddItemToObject(view, "clients", clients);
    }
    store_answer(job, view);
    return 0;
}

/* ---- creating, listing, reading, closing ------------------------------------------------ */

int store_api_case_create(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *id = store_s(in, "id"), *lead = store_actor_id(job);
    const char *tname = store_s(in, "template") ? store_s(in, "template") : "default";
    const char *session = store_s(in, "session_id");
    int64_t now = store_i(in, "now"), version;
    sqlite3_stmt *st = store_q(db, "SELECT version, text FROM templates WHERE name = ?1 ORDER"
                               " BY version DESC LIMIT 1", "s", tname);
    auth_error aerr = {{0}};
    template_spec *tpl = NULL;
    cJSON *doc = NULL, *create = NULL, *details;
    char *create_text = NULL;
    int rc;

    if (!st)
        return store_sql_fail(job);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_BAD_REQUEST, "unknown_template",
                            "no template of that name");
    }
    version = sqlite3_column_int64(st, 0);
    tpl = template_parse(store_col(st, 1), (size_t)sqlite3_column_bytes(st, 1), &aerr);
    sqlite3_finalize(st);
    if (tpl)
        doc = case_sheet_new(tpl, id, store_s(in, "title"), store_s(in, "lead_name"));
    template_free(tpl);
    if (doc)
        create = doc_create_payload(doc);
    cJSON_Delete(doc);
    if (create)
        create_text = cJSON_PrintUnformatted(create);
    cJSON_Delete(create);
    if (!create_text)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL,
                            aerr.message[0] ? "a stored template does not parse" :
                            "out of memory");
    /* The case's key exists, durably, before anything of it is sealed (store_crypt.h). */
    rc = store_crypt_key_create(db, id);
    if (rc == 0)
        rc = store_run(store_q(db, "INSERT INTO cases (id, title, template_name,"
                               " template_version, status, created_at, created_by) VALUES (?1,"
                               " konsil_seal(?2, ?1, 'cases.title', ?1), ?3, ?4, 'open', ?5, ?6)",
                               "sssiis", id, store_s(in, "title"), tname, version, now, lead));
    if (rc == 0)
        rc = store_run(store_q(db, "INSERT INTO team (case_id, user_id, role, added_at,"
                               " added_by) VALUES (?1, ?2, 'lead', ?3, ?2)", "ssi", id, lead,
                               now));
    /* The document's create op (kind 1: STORE_OP_CREATE) at version 0, authored by the
     * lead (invariant 1). */
    if (rc == 0)
        rc = store_run(store_q(db, "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op)"
                               " VALUES (?1, 0, 1, 'konsil', 1, ?2, ?3, konsil_seal(?4, ?1,"
                               " 'ops', 0))", "siss", id, now, lead, create_text));
    if (rc == 0 && session)
        rc = store_run(store_q(db, "INSERT INTO sessions (id, case_id, started_at, started_by,"
                               " start_v) VALUES (?1, ?2, ?3, ?4, 0)", "ssis", session, id,
                               now, lead));
    free(create_text);
    if (rc != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "template", tname);
    cJSON_AddNumberToObject(details, "version", (double)version);
    rc = store_audit_call(db, job, lead, "case.create", id, details);
    cJSON_Delete(details);
    if (rc == 0 && session) {
        details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "session", session);
        rc = store_audit_call(db, job, lead, "session.create", id, details);
        cJSON_Delete(details);
    }
    if (rc != 0)
        return -1;
    if (!session)
        return answer_case(db, job, id, 0);
    if (store_session_view(db, session, &details) != 0 || !details)
        return store_sql_fail(job);
    store_answer(job, details);
    return 0;
}

int store_api_cases_list(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, t.role FROM cases c JOIN team t ON"
                               " t.case_id = c.id AND t.user_id = ?1 AND t.removed_at IS NULL"
                               " ORDER BY c.created_at DESC, c.id", "s", store_actor_id(job));
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "cases");
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *meta, *next;
        if (store_case_meta(db, store_col(st, 0), &meta) != 0 || !meta) {
            rc = SQLITE_ERROR;
            break;
        }
        next = store_sheet_next_meeting(db, job, meta, store_actor_id(job),
                                        store_s(job->in, "now_minute"));
        meta = case_view(meta, 0);
        if (store_retention_add(db, job->in, strcmp(store_col(st, 1), "lead") == 0, meta) != 0) {
            cJSON_Delete(meta);
            cJSON_Delete(next);
            rc = SQLITE_ERROR;
            break;
        }
        cJSON_AddItemToArray(list, meta);
        if (store_resource_for_reader(db, job, cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(meta, "id")), meta, 0) != 0) {
            cJSON_Delete(next);
            sqlite3_finalize(st);
            cJSON_Delete(body);
            return -1;
        }
        cJSON_AddStringToObject(meta, "my_role", store_col(st, 1));
        cJSON_AddItemToObject(meta, "next_meeting", next ? next : cJSON_CreateNull());
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        return store_sql_fail(job);
    }
    store_answer(job, body);
    return 0;
}

/* Refuses as NOT_FOUND unless the actor is a current team member of case id (clients
 * never are). 0 when it is. */
static int require_member(sqlite3 *db, store_job *job, const char *id, char role[16])
{
    int m;

    if (store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    m = store_team_role(db, id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    return m ? 0 : store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
}

int store_api_case_get(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    const char *role_name = store_s(store_actor(job), "role");
    char role[16];
    sqlite3_stmt *st;
    int exists;

    /* Admins read every case's record (not its sheet): the officer's view acts on it. */
    if (role_name && strcmp(role_name, "admin") == 0 && !store_s(store_actor(job), "session")) {
        st = store_q(db, "SELECT 1 FROM cases WHERE id = ?1", "s", id);
        exists = st ? sqlite3_step(st) : SQLITE_ERROR;
        sqlite3_finalize(st);
        if (exists == SQLITE_DONE)
            return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
        if (exists != SQLITE_ROW)
            return store_sql_fail(job);
        return answer_case(db, job, id, 1);
    }
    if (require_member(db, job, id, role) != 0 || answer_case(db, job, id, 1) != 0)
        return -1;
    return store_resource_for_reader(db, job, id, job->out, 1);
}

int store_require_lead(sqlite3 *db, store_job *job, const char *case_id, int need_open,
                       int legacy)
{
    sqlite3_stmt *st;
    char role[16];
    int m = store_team_role(db, case_id, store_actor_id(job), role), open;

    if (m < 0)
        return store_sql_fail(job);
    if (m == 0 || store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL,
                            legacy ? "no such session" : "no such case");
    if (strcmp(role, "lead") != 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, legacy ?
                            "only the session's lead may do this" :
                            "only the case's lead may do this");
    if (!need_open)
        return 0;
    st = store_q(db, "SELECT status = 'open' FROM cases WHERE id = ?1", "s", case_id);
    open = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (open < 0)
        return store_sql_fail(job);
    if (!open)
        return legacy ? store_refuse(job, STORE_ERR_CONFLICT, "session_closed",
                                     "the session is closed") :
               store_refuse(job, STORE_ERR_CONFLICT, "case_closed", "the case is closed");
    return 0;
}

int store_case_finish(sqlite3 *db, store_job *job, const char *case_id)
{
    for (;;) {      /* its running sessions (at most one) end first */
        sqlite3_stmt *st = store_q(db, "SELECT id FROM sessions WHERE case_id = ?1 AND"
                                   " ended_at IS NULL LIMIT 1", "s", case_id);
        char running[64];
        int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

        if (rc == SQLITE_ROW)
            snprintf(running, sizeof running, "%s", store_col(st, 0));
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW)
            return store_sql_fail(job);
        if (store_session_finish(db, job, running, case_id) != 0)
            return -1;
    }
    if (store_run(store_q(db, "UPDATE cases SET status = 'closed', closed_at = ?2 WHERE"
                          " id = ?1 AND status = 'open'", "si", case_id,
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    if (store_audit_call(db, job, store_actor_id(job), "case.close", case_id, NULL) != 0)
        return -1;
    return store_retention_schedule(db, job, case_id, store_i(job->in, "now"));
}

int store_api_case_close(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");

    if (store_require_lead(db, job, id, 1, 0) != 0 || store_case_finish(db, job, id) != 0)
        return -1;
    return answer_case(db, job, id, 0);
}

/* ---- the team ------------------------------------------------------------------------------ */

int store_api_team_add(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *username = store_s(job->in, "username");
    int legacy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "legacy"));
    sqlite3_stmt *st;
    cJSON *who, *details;
    char role[16];
    int rc;

    if (store_require_lead(db, job, id, 1, legacy) != 0)
        return -1;
    st = store_q(db, "SELECT id, display_name, role, specialty, disabled FROM users WHERE"
                 " username = ?1", "s", username);
    if (!st)
        return store_sql_fail(job);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 4) != 0) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such user");
    }
    if (strcmp(store_col(st, 2), "counsellor") != 0 &&
        strcmp(store_col(st, 2), "supervisor") != 0) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_INVALID, "invalid_role",
                            "only counsellors and supervisors are part of a case's team");
    }
    if (store_s(job->in, "role") && strcmp(store_s(job->in, "role"), store_col(st, 2)) != 0) {
        char message[80];
        snprintf(message, sizeof message, "the account is a %s, not a %s", store_col(st, 2),
                 store_s(job->in, "role"));
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_INVALID, "role_mismatch", message);
    }
    who = store_principal_json(st, 0);
    sqlite3_finalize(st);
    rc = store_team_role(db, id, store_s(who, "id"), role);
    if (rc != 0) {
        cJSON_Delete(who);
        return rc < 0 ? store_sql_fail(job) : legacy ?
               store_refuse(job, STORE_ERR_CONFLICT, "already_participant",
                            "the user already takes part") :
               store_refuse(job, STORE_ERR_CONFLICT, "already_member",
                            "the user is in the team already");
    }
    if (store_run(store_q(db, "INSERT INTO team (case_id, user_id, role, added_at, added_by)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)", "sssis", id, store_s(who, "id"),
                          store_s(who, "role"), store_i(job->in, "now"),
                          store_actor_id(job))) != 0) {
        cJSON_Delete(who);
        return store_sql_fail(job);
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "user", store_s(who, "id"));
    cJSON_AddStringToObject(details, "role", store_s(who, "role"));
    rc = store_audit_call(db, job, store_actor_id(job), "participant.add", id, details);
    cJSON_Delete(details);
    if (rc != 0) {
        cJSON_Delete(who);
        return -1;
    }
    if (!legacy) {
        cJSON_AddStringToObject(who, "team_role", store_s(who, "role"));
        cJSON_AddBoolToObject(who, "lead", 0);
    }
    store_answer(job, who);
    return 0;
}

int store_api_team_remove(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *user = store_s(job->in, "user_id");
    cJSON *details, *out;
    char role[16];
    int m, rc;

    if (store_require_lead(db, job, id, 0, 0) != 0)
        return -1;
    m = store_team_role(db, id, user, role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "not_member", "no such team member");
    if (strcmp(role, "lead") == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "lead_cannot_leave",
                            "the lead cannot be removed: hand the lead over first");
    if (store_run(store_q(db, "UPDATE team SET removed_at = ?3, removed_by = ?4 WHERE"
                          " case_id = ?1 AND user_id = ?2 AND removed_at IS NULL", "ssis", id,
                          user, store_i(job->in, "now"), store_actor_id(job))) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "user", user);
    cJSON_AddStringToObject(details, "role", role);
    rc = store_audit_call(db, job, store_actor_id(job), "participant.remove", id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", user);
    cJSON_AddStringToObject(out, "team_role", role);
    store_answer(job, out);
    return 0;
}

int store_api_lead_transfer(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *to = store_s(job->in, "user_id");
    const char *from = store_actor_id(job);
    cJSON *details;
    char role[16];
    int m, rc;

    if (store_require_lead(db, job, id, 0, 0) != 0)
        return -1;
    m = store_team_role(db, id, to, role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "not_member",
                            "the new lead must be in the team already");
    if (strcmp(role, "lead") == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "already_lead",
                            "that member leads the case already");
    if (strcmp(role, "counsellor") != 0)
        return store_refuse(job, STORE_ERR_INVALID, "invalid_role",
                            "only a counsellor of the team can lead the case");
    if (store_run(store_q(db, "UPDATE team SET role = 'counsellor' WHERE case_id = ?1 AND"
                          " user_id = ?2 AND removed_at IS NULL", "ss", id, from)) != 0 ||
        store_run(store_q(db, "UPDATE team SET role = 'lead' WHERE case_id = ?1 AND"
                          " user_id = ?2 AND removed_at IS NULL", "ss", id, to)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "from", from);
    cJSON_AddStringToObject(details, "to", to);
    rc = store_audit_call(db, job, from, "case.lead", id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    return answer_case(db, job, id, 0);
}

int store_api_grant_create(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *username = store_s(job->in, "username");
    int64_t now = store_i(job->in, "now");
    int64_t expires_at = now + store_i(job->in, "expires_in_s") * 1000;
    int legacy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "legacy"));
    sqlite3_stmt *st;
    cJSON *body = NULL, *details;
    int rc;

    if (store_require_lead(db, job, id, 0, legacy) != 0)
        return -1;
    st = store_q(db, "SELECT u.id, u.display_name, u.role, u.specialty,"
                 " lower(hex(randomblob(16))), t.role FROM users u LEFT JOIN team t ON"
                 " t.case_id = ?2 AND t.user_id = u.id AND t.removed_at IS NULL WHERE"
                 " u.username = ?1 AND u.disabled = 0", "ss", username, id);
    if (!st)
        return store_sql_fail(job);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such user");
    else if (strcmp(store_col(st, 2), "supervisor") != 0)
        rc = store_refuse(job, STORE_ERR_INVALID, "invalid_role",
                          "identified reading is granted to supervisors");
    else if (!store_col(st, 5))
        rc = store_refuse(job, STORE_ERR_CONFLICT, "not_participant",
                          "the supervisor is not in the case's team");
    else if (store_run(store_q(db, "INSERT INTO grants (id, case_id, user_id, granted_by,"
                               " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               "ssssii", store_col(st, 4), id, store_col(st, 0),
                               store_actor_id(job), now, expires_at)) != 0)
        rc = store_sql_fail(job);
    else if (!(body = cJSON_CreateObject()))
        rc = store_sql_fail(job);
    else
        rc = 0;
    if (rc == 0) {
        cJSON_AddStringToObject(body, "id", store_col(st, 4));
        cJSON_AddItemToObject(body, "user", store_principal_json(st, 0));
        cJSON_AddNumberToObject(body, "expires_at", (double)expires_at);
        details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "grant", store_col(st, 4));
        cJSON_AddStringToObject(details, "user", store_col(st, 0));
        cJSON_AddNumberToObject(details, "expires_at", (double)expires_at);
        rc = store_audit_call(db, job, store_actor_id(job), "grant.create", id, details);
        cJSON_Delete(details);
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        cJSON_Delete(body);
        return -1;
    }
    store_answer(job, body);
    return 0;
}
