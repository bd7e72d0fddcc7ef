/*
 * Client links, joining by link, and the lobby (see store_api.h). A link belongs to a
 * session: it admits clients only while that session runs and its case is open, and a
 * client belongs to that one session. Counsellors of the case's team hand out and list
 * links and decide in the lobby; the audit entries name the case, their details the
 * session. A link's token is never stored, only its SHA-256: the list shows everything
 * about a link but the token, which nobody can recover.
 */
#include "store/store_api.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "store/store_history.h"
#include "store/store_sql.h"

/* Refuses unless the actor is in the team of session's case (NOT_FOUND) and, when
 * counsellor is set, a counsellor (FORBIDDEN with why). 0 when it may go on. */
static int team_of(sqlite3 *db, store_job *job, const char *session, char case_id[64],
                   int *running, const char *counsellor)
{
    char role[16];
    int found = store_session_case(db, session, case_id, running), m;

    if (found < 0)
        return store_sql_fail(job);
    if (!found || store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    m = store_team_role(db, case_id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    if (!m)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    if (counsellor && strcmp(role, "supervisor") == 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, counsellor);
    return 0;
}

static cJSON *session_details(const char *session)
{
    cJSON *d = cJSON_CreateObject();

    cJSON_AddStringToObject(d, "session", session);
    return d;
}

int store_api_link_create(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *session = store_s(in, "session");
    int64_t max_uses = store_i(in, "max_uses");
    sqlite3_stmt *st;
    cJSON *details;
    char case_id[64];
    int running = 0, rc;

    if (team_of(db, job, session, case_id, &running, "only counsellors create join links") != 0)
        return -1;
    if (!running)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_closed", "the session is closed");
    st = store_q(db, "INSERT INTO links (id, session, token_hash, created_by, created_at,"
                 " expires_at, max_uses, lobby, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                 " ?9)", "ssssiiiis", store_s(in, "link_id"), session, store_s(in, "hash"),
                 store_actor_id(job), store_i(in, "now"), store_i(in, "expires_at"), max_uses,
                 (int64_t)cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "lobby")),
                 store_s(in, "lang"));
    if (st && max_uses <= 0)
        sqlite3_bind_null(st, 7);
    if (store_run(st) != 0)
        return store_sql_fail(job);
    details = session_details(session);
    cJSON_AddStringToObject(details, "link", store_s(in, "link_id"));
    cJSON_AddNumberToObject(details, "expires_at", (double)store_i(in, "expires_at"));
    rc = store_audit_call(db, job, store_actor_id(job), "link.create", case_id, details);
    cJSON_Delete(details);
    return rc;
}

/* Ends the clients of session who came through link and are waiting or in: each is
 * removed (its login sessions deleted, audited client.remove), its id added to ended.
 * 0 or -1 (refused). */
static int end_link_clients(sqlite3 *db, store_job *job, const char *session, const char *link,
                            const char *case_id, cJSON *ended)
{
    sqlite3_stmt *st = store_q(db, "SELECT id FROM clients WHERE session = ?1 AND link_id = ?2"
                               " AND status IN ('waiting', 'admitted') ORDER BY created_at, id",
                               "ss", session, link);
    const cJSON *c;
    int rc;

    if (!st)
        return store_sql_fail(job);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(ended, cJSON_CreateString(store_col(st, 0)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_sql_fail(job);
    cJSON_ArrayForEach(c, ended) {
        cJSON *details;
        if (store_run(store_q(db, "UPDATE clients SET status = 'removed' WHERE id = ?1", "s",
                              c->valuestring)) != 0 ||
            store_run(store_q(db, "DELETE FROM logins WHERE principal = ?1 AND kind = 'client'",
                              "s", c->valuestring)) != 0)
            return store_sql_fail(job);
        details = session_details(session);
        cJSON_AddStringToObject(details, "client", c->valuestring);
        cJSON_AddStringToObject(details, "link", link);
        rc = store_audit_call(db, job, store_actor_id(job), "client.remove", case_id, details);
        cJSON_Delete(details);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int store_api_link_revoke(sqlite3 *db, store_job *job)
{
    const char *session = store_s(job->in, "session"), *link = store_s(job->in, "link_id");
    int end_clients = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "end_clients"));
    cJSON *details, *ended;
    char case_id[64];
    int rc;

    if (team_of(db, job, session, case_id, NULL, "only counsellors revoke join links") != 0)
        return -1;
    if (store_run(store_q(db, "UPDATE links SET revoked_at = ?3 WHERE id = ?1 AND session = ?2"
                          " AND revoked_at IS NULL", "ssi", link, session,
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "link_not_found",
                            "no such link, or it is revoked already");
    details = session_details(session);
    cJSON_AddStringToObject(details, "link", link);
    cJSON_AddBoolToObject(details, "end_clients", end_clients);
    rc = store_audit_call(db, job, store_actor_id(job), "link.revoke", case_id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    ended = cJSON_CreateArray();
    if (!ended)
        return store_sql_fail(job);
    if (end_clients && end_link_clients(db, job, session, link, case_id, ended) != 0) {
        cJSON_Delete(ended);
        return -1;
    }
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "case_id", case_id);
    cJSON_AddItemToObject(job->out, "ended", ended);
    return 0;
}

/* A link's state for the list: what a client opening it now would meet. */
static const char *link_status(sqlite3_stmt *st, int running, int64_t now)
{
    if (sqlite3_column_type(st, 9) != SQLITE_NULL)
        return "revoked";
    if (!running)
        return "ended";
    if (sqlite3_column_int64(st, 4) <= now)
        return "expired";
    if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
        sqlite3_column_int64(st, 6) >= sqlite3_column_int64(st, 5))
        return "used_up";
    return "active";
}

/* The clients of session, each added to the `joined` list of the link it came through
 * (links: the list being built, by id), and counted in its `clients` while waiting or
 * in. 0 or -1 (SQL error). */
static int add_clients(sqlite3 *db, const char *session, cJSON *links)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, link_id, display_name, status, created_at FROM"
                               " clients WHERE session = ?1 ORDER BY created_at, id", "s",
                               session);
    int rc;

    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *link, *c;
        cJSON_ArrayForEach(link, links)
            if (strcmp(store_s(link, "id"), store_col(st, 1)) == 0)
                break;
        if (!link)
            continue;
        c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", store_col(st, 0));
        cJSON_AddStringToObject(c, "name", store_col(st, 2));
        cJSON_AddStringToObject(c, "status", store_col(st, 3));
        cJSON_AddNumberToObject(c, "joined_at", (double)sqlite3_column_int64(st, 4));
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(link, "joined"), c);
        if (strcmp(store_col(st, 3), "waiting") == 0 || strcmp(store_col(st, 3), "admitted") == 0)
            cJSON_SetNumberHelper(cJSON_GetObjectItemCaseSensitive(link, "clients"),
                                  cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(link,
                                                                                      "clients")) + 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_api_link_list(sqlite3 *db, store_job *job)
{
    const char *session = store_s(job->in, "session");
    int64_t now = store_i(job->in, "now");
    sqlite3_stmt *st;
    cJSON *body, *list;
    char case_id[64];
    int running = 0, rc;

    if (team_of(db, job, session, case_id, &running, "only counsellors see join links") != 0)
        return -1;
    st = store_q(db, "SELECT l.id, l.created_at, l.created_by, u.display_name, l.expires_at,"
                 " l.max_uses, l.uses, l.lobby, l.lang, l.revoked_at, c.status = 'open' FROM"
                 " links l JOIN sessions s ON s.id = l.session JOIN cases c ON c.id = s.case_id"
                 " LEFT JOIN users u ON u.id = l.created_by WHERE l.session = ?1"
                 " ORDER BY l.created_at DESC, l.id", "s", session);
    if (!st)
        return store_sql_fail(job);
    body = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(body, "links");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "id", store_col(st, 0));
        cJSON_AddNumberToObject(l, "created_at", (double)sqlite3_column_int64(st, 1));
        cJSON_AddStringToObject(l, "created_by", store_col(st, 2));
        if (store_col(st, 3))
            cJSON_AddStringToObject(l, "created_by_name", store_col(st, 3));
        else
            cJSON_AddNullToObject(l, "created_by_name");
        cJSON_AddNumberToObject(l, "expires_at", (double)sqlite3_column_int64(st, 4));
        cJSON_AddItemToObject(l, "max_uses", store_col_number(st, 5));
        cJSON_AddNumberToObject(l, "uses", (double)sqlite3_column_int64(st, 6));
        cJSON_AddBoolToObject(l, "lobby", sqlite3_column_int(st, 7));
        if (store_col(st, 8))
            cJSON_AddStringToObject(l, "lang", store_col(st, 8));
        else
            cJSON_AddNullToObject(l, "lang");
        cJSON_AddItemToObject(l, "revoked_at", store_col_number(st, 9));
        cJSON_AddStringToObject(l, "status", link_status(st, running &&
                                                         sqlite3_column_int(st, 10), now));
        cJSON_AddNumberToObject(l, "clients", 0);
        cJSON_AddArrayToObject(l, "joined");
        cJSON_AddItemToArray(list, l);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || add_clients(db, session, list) != 0) {
        cJSON_Delete(body);
        return store_sql_fail(job);
    }
    store_answer(job, body);
    return 0;
}

int store_api_join(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *client = store_s(in, "client_id"), *name = store_s(in, "display_name");
    int64_t now = store_i(in, "now");
    sqlite3_stmt *st = store_q(db, "SELECT l.id, l.session, l.expires_at, l.max_uses, l.uses,"
                               " l.lobby, l.revoked_at IS NOT NULL, s.ended_at IS NOT NULL OR"
                               " c.status <> 'open', s.case_id FROM links l JOIN sessions s ON"
                               " s.id = l.session JOIN cases c ON c.id = s.case_id WHERE"
                               " l.token_hash = ?1", "s", store_s(in, "link_hash"));
    char link[80], session[80], case_id[80];
    const char *status;
    cJSON *details, *who;
    int rc, lobby;

    if (!st)
        return store_sql_fail(job);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_NOT_FOUND, "link_invalid", "this link is not valid");
    }
    snprintf(link, sizeof link, "%s", store_col(st, 0));
    snprintf(session, sizeof session, "%s", store_col(st, 1));
    snprintf(case_id, sizeof case_id, "%s", store_col(st, 8));
    lobby = sqlite3_column_int(st, 5);
    rc = sqlite3_column_int(st, 6) ? 1 : sqlite3_column_int64(st, 2) <= now ? 2 :
         (sqlite3_column_type(st, 3) != SQLITE_NULL &&
          sqlite3_column_int64(st, 4) >= sqlite3_column_int64(st, 3)) ? 3 :
         sqlite3_column_int(st, 7) ? 4 : 0;
    sqlite3_finalize(st);
    switch (rc) {
    case 1: return store_refuse(job, STORE_ERR_GONE, "link_revoked", "this link was revoked");
    case 2: return store_refuse(job, STORE_ERR_GONE, "link_expired", "this link has expired");
    case 3:
        return store_refuse(job, STORE_ERR_GONE, "link_used_up", "this link has been used up");
    case 4:
        return store_refuse(job, STORE_ERR_CONFLICT, "session_closed", "the session is closed");
    }
    status = lobby ? "waiting" : "admitted";
    if (store_run(store_q(db, "UPDATE links SET uses = uses + 1 WHERE id = ?1", "s", link)) != 0 ||
        store_run(store_q(db, "INSERT INTO clients (id, session, link_id, display_name, status,"
                          " created_at) VALUES (?1, ?2, ?3, konsil_seal(?4, ?7,"
                          " 'clients.display_name', ?1), ?5, ?6)", "sssssis", client, session,
                          link, name, status, now, case_id)) != 0 ||
        store_run(store_q(db, "INSERT INTO logins (token_hash, principal, kind, session,"
                          " created_at, last_used, expires_at) VALUES (?1, ?2, 'client', ?3,"
                          " ?4, ?4, ?5)", "sssii", store_s(in, "login_hash"), client, session,
                          now, store_i(in, "expires_at"))) != 0)
        return store_sql_fail(job);
    details = session_details(session);
    cJSON_AddStringToObject(details, "link", link);
    cJSON_AddStringToObject(details, "status", status);
    rc = store_audit_call(db, job, client, "link.use", case_id, details);
    cJSON_Delete(details);
    if (rc == 0 && !lobby) {
        details = session_details(session);
        rc = store_audit_call(db, job, client, "join", case_id, details);
        cJSON_Delete(details);
    }
    if (rc != 0)
        return -1;
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "session", session);
    cJSON_AddStringToObject(job->out, "case_id", case_id);
    cJSON_AddStringToObject(job->out, "status", status);
    who = cJSON_AddObjectToObject(job->out, "principal");
    cJSON_AddStringToObject(who, "id", client);
    cJSON_AddStringToObject(who, "name", name);
    cJSON_AddStringToObject(who, "role", "client");
    return 0;
}

/* The waiting clients, each named as the reader's view names it (access_view_identity:
 * a supervisor gets the pseudonym) with since; a read that names anyone leaves its
 * audit details in job->audit (lobby.read: {session, clients}). */
int store_api_lobby_list(sqlite3 *db, store_job *job)
{
    const char *session = store_s(job->in, "session");
    sqlite3_stmt *st;
    cJSON *body, *list, *named;
    access_view view;
    char case_id[64];
    int rc;

    if (team_of(db, job, session, case_id, NULL, NULL) != 0 ||
        store_actor_view(db, job, case_id, &view) != 0)
        return -1;
    if (!access_view_may_list(&view, ACCESS_LIST_LOBBY))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    st = store_q(db, "SELECT id, konsil_open(display_name, ?2, 'clients.display_name', id),"
                 " created_at FROM clients WHERE session = ?1 AND status = 'waiting' ORDER BY"
                 " created_at, id", "ss", session, case_id);
    if (!st)
        return store_sql_fail(job);
    body = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(body, "waiting");
    named = cJSON_CreateArray();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auth_principal who;
        cJSON *c;
        if (auth_principal_init(&who, store_col(st, 0), store_col(st, 1), AUTH_ROLE_CLIENT,
                                AUTH_SPECIALTY_NONE, false, NULL) != 0)
            continue;
        c = access_view_identity(&view, &who);
        if (!c)
            break;
        cJSON_DeleteItemFromObjectCaseSensitive(c, "role");
        cJSON_AddNumberToObject(c, "since", (double)sqlite3_column_int64(st, 2));
        cJSON_AddItemToArray(list, c);
        cJSON_AddItemToArray(named, cJSON_CreateString(who.id));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        cJSON_Delete(named);
        return store_sql_fail(job);
    }
    if (cJSON_GetArraySize(named) > 0) {
        job->audit = session_details(session);
        cJSON_AddItemToObject(job->audit, "clients", named);
        free(job->doc);
        job->doc = strdup(case_id);
    } else {
        cJSON_Delete(named);
    }
    store_answer(job, body);
    return 0;
}

int store_api_meeting_state(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    sqlite3_stmt *st;
    cJSON *out;
    char role[16];
    int m, rc;

    if (store_actor_id(job)[0]) {
        m = store_team_role(db, id, store_actor_id(job), role);
        if (m < 0)
            return store_sql_fail(job);
        if (!m || store_s(store_actor(job), "session"))
            return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
        if (strcmp(role, "supervisor") == 0)
            return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                                "only counsellors of the team follow its lobby");
    }
    st = store_q(db, "SELECT s.id, (SELECT count(*) FROM clients k WHERE k.session = s.id AND"
                 " k.status = 'waiting') FROM sessions s WHERE s.case_id = ?1 AND"
                 " s.ended_at IS NULL ORDER BY s.started_at DESC LIMIT 1", "s", id);
    if (!st)
        return store_sql_fail(job);
    out = cJSON_CreateObject();
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cJSON_AddStringToObject(out, "session", store_col(st, 0));
        cJSON_AddNumberToObject(out, "waiting", (double)sqlite3_column_int64(st, 1));
    } else {
        cJSON_AddNullToObject(out, "session");
        cJSON_AddNumberToObject(out, "waiting", 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cJSON_Delete(out);
        return store_sql_fail(job);
    }
    store_answer(job, out);
    return 0;
}

int store_api_lobby_decide(sqlite3 *db, store_job *job)
{
    const char *session = store_s(job->in, "session");
    const char *client = store_s(job->in, "client_id");
    int admit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "admit"));
    cJSON *details;
    char case_id[64];
    int rc;

    int running = 0;

    if (team_of(db, job, session, case_id, &running, "only counsellors admit clients") != 0)
        return -1;
    if (!running)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_closed", "the session is closed");
    if (store_run(store_q(db, "UPDATE clients SET status = ?3 WHERE id = ?1 AND session = ?2"
                          " AND status = 'waiting'", "sss", client, session,
                          admit ? "admitted" : "declined")) != 0)
        return store_sql_fail(job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "not_waiting",
                            "no such client is waiting");
    details = session_details(session);
    cJSON_AddStringToObject(details, "client", client);
    rc = store_audit_call(db, job, store_actor_id(job), admit ? "lobby.admit" : "lobby.decline",
                          case_id, details);
    cJSON_Delete(details);
    if (rc == 0 && admit) {
        details = session_details(session);
        rc = store_audit_call(db, job, client, "join", case_id, details);
        cJSON_Delete(details);
    }
    if (rc != 0)
        return -1;
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "client", client);
    cJSON_AddStringToObject(job->out, "status", admit ? "admitted" : "declined");
    cJSON_AddStringToObject(job->out, "case_id", case_id);
    return 0;
}

int store_api_client_remove(sqlite3 *db, store_job *job)
{
    const char *session = store_s(job->in, "session");
    const char *client = store_s(job->in, "client_id");
    cJSON *details;
    char case_id[64];
    int rc;

    if (team_of(db, job, session, case_id, NULL, "only counsellors remove clients") != 0)
        return -1;
    if (store_run(store_q(db, "UPDATE clients SET status = 'removed' WHERE id = ?1 AND"
                          " session = ?2 AND status IN ('waiting', 'admitted')", "ss", client,
                          session)) != 0)
        return store_sql_fail(job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "client_not_found",
                            "no such client in this session");
    if (store_run(store_q(db, "DELETE FROM logins WHERE principal = ?1 AND kind = 'client'", "s",
                          client)) != 0)
        return store_sql_fail(job);
    details = session_details(session);
    cJSON_AddStringToObject(details, "client", client);
    rc = store_audit_call(db, job, store_actor_id(job), "client.remove", case_id, details);
    cJSON_Delete(details);
    if (rc == 0) {
        job->out = cJSON_CreateObject();
        cJSON_AddStringToObject(job->out, "case_id", case_id);
    }
    return rc;
}
