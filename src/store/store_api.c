/*
 * REST and login-session SQL (see store_api.h). Each call validates what it is given
 * against the database (membership, lead, link state) and answers with data in
 * job->out or refuses with a store_err (store_refuse); refusals return -1 so the
 * writer's savepoint undoes partial writes.
 * Statements bind every value (no SQL is ever built from input).
 */
#include "store/store_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "store/store_audit.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Prepares sql and binds the arguments types names: 's' text (NULL binds null),
 * 'i' int64. NULL on failure. */
static sqlite3_stmt *q(sqlite3 *db, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 's') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        } else {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    return st;
}

/* Runs a statement that returns no rows; 0 or -1. */
static int run(sqlite3_stmt *st)
{
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static const char *s_in(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t i_in(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

/* Answers with data (taken; NULL for none). */
static void answer(store_job *job, cJSON *out)
{
    cJSON_Delete(job->out);
    job->out = out;
}

static int sql_fail(sqlite3 *db, store_job *job)
{
    (void)db;
    return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the database could not answer");
}

static int audit(sqlite3 *db, store_job *job, const char *actor, const char *action,
                 const char *session, const cJSON *details)
{
    char err[200];

    if (store_audit_append(db, i_in(job->in, "now"), actor, action, session, details, err,
                           sizeof err) != 0)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL,
                            "the audit trail could not be written");
    return 0;
}

/* {id, name, role, specialty?} of a user row's columns (id, display_name, role,
 * specialty) starting at column c. */
static cJSON *principal_json(sqlite3_stmt *st, int c)
{
    cJSON *p = cJSON_CreateObject();
    const char *spec = col(st, c + 3);

    cJSON_AddStringToObject(p, "id", col(st, c) ? col(st, c) : "");
    cJSON_AddStringToObject(p, "name", col(st, c + 1) ? col(st, c + 1) : "");
    cJSON_AddStringToObject(p, "role", col(st, c + 2) ? col(st, c + 2) : "");
    if (spec && strcmp(spec, "none") != 0)
        cJSON_AddStringToObject(p, "specialty", spec);
    return p;
}

static const char *actor_id(const store_job *job)
{
    const char *id = s_in(cJSON_GetObjectItemCaseSensitive(job->in, "actor"), "id");
    return id ? id : "";
}

/* Whether the actor (a user) takes part in session id; *lead says if it leads it.
 * -1 on an SQL error. */
static int participant(sqlite3 *db, const char *session, const char *user, int *lead)
{
    sqlite3_stmt *st = q(db, "SELECT s.lead = ?2 FROM participants p JOIN sessions s "
                         "ON s.id = p.session WHERE p.session = ?1 AND p.user_id = ?2",
                         "ss", session, user);
    int rc;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (lead)
        *lead = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* 1 open, 0 closed, -1 no such session or an error. */
static int session_open(sqlite3 *db, const char *id)
{
    sqlite3_stmt *st = q(db, "SELECT closed_at IS NULL FROM sessions WHERE id = ?1", "s", id);
    int rc = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        rc = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* ---- session meta -------------------------------------------------------------- */

static cJSON *participants_json(sqlite3 *db, const char *session, const char *lead)
{
    sqlite3_stmt *st = q(db, "SELECT u.id, u.display_name, u.role, u.specialty FROM "
                         "participants p JOIN users u ON u.id = p.user_id WHERE "
                         "p.session = ?1 ORDER BY p.added_at, u.username", "s", session);
    cJSON *list = cJSON_CreateArray();

    while (st && list && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *p = principal_json(st, 0);
        cJSON_AddBoolToObject(p, "lead", lead && strcmp(col(st, 0), lead) == 0);
        cJSON_AddItemToArray(list, p);
    }
    if (!st) {
        cJSON_Delete(list);
        list = NULL;
    }
    sqlite3_finalize(st);
    return list;
}

/* The display names the session's clients gave when joining: the hub's pseudonymised
 * views redact them (access_pseudo.h); never part of a public session view. */
static cJSON *client_names(sqlite3 *db, const char *id)
{
    sqlite3_stmt *st = q(db, "SELECT display_name FROM clients WHERE session = ?1", "s", id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_DONE;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(list, cJSON_CreateString(col(st, 0)));
    if (list && rc != SQLITE_DONE) {
        cJSON_Delete(list);
        list = NULL;
    }
    sqlite3_finalize(st);
    return list;
}

int store_api_session_meta(sqlite3 *db, const char *id, cJSON **out)
{
    sqlite3_stmt *st = q(db, "SELECT id, title, template_name, template, lead, created_at, "
                         "closed_at FROM sessions WHERE id = ?1", "s", id);
    cJSON *m, *parts;
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
    cJSON_AddStringToObject(m, "id", col(st, 0));
    cJSON_AddStringToObject(m, "title", col(st, 1));
    cJSON_AddStringToObject(m, "template_name", col(st, 2));
    cJSON_AddStringToObject(m, "template", col(st, 3));
    cJSON_AddStringToObject(m, "lead", col(st, 4));
    cJSON_AddNumberToObject(m, "created_at", (double)sqlite3_column_int64(st, 5));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL)
        cJSON_AddNullToObject(m, "closed_at");
    else
        cJSON_AddNumberToObject(m, "closed_at", (double)sqlite3_column_int64(st, 6));
    parts = participants_json(db, id, col(st, 4));
    sqlite3_finalize(st);
    if (!parts) {
        cJSON_Delete(m);
        return -1;
    }
    cJSON_AddItemToObject(m, "participants", parts);
    parts = client_names(db, id);
    if (!parts) {
        cJSON_Delete(m);
        return -1;
    }
    cJSON_AddItemToObject(m, "client_names", parts);
    *out = m;
    return 0;
}

/* The public view of a session: meta without the template text. */
static cJSON *session_view(cJSON *meta)
{
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "template");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "client_names");
    cJSON_AddStringToObject(meta, "status",
                            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(meta, "closed_at")) ?
                            "open" : "closed");
    return meta;
}

/* ---- logins -------------------------------------------------------------------- */

int store_api_login_check(sqlite3 *db, store_job *job)
{
    /* A hash to verify against when the user does not exist, so that the answer takes
     * as long for unknown names as for wrong passwords. */
    static const char dummy[] =
        "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *user = s_in(job->in, "username"), *pw = s_in(job->in, "password");
    sqlite3_stmt *st = q(db, "SELECT id, display_name, role, specialty, password, disabled "
                         "FROM users WHERE username = ?1", "s", user);
    auth_error err = {{0}};
    int found, ok;

    if (!st)
        return sql_fail(db, job);
    found = sqlite3_step(st) == SQLITE_ROW;
    ok = auth_password_verify(pw, found ? col(st, 4) : dummy, &err) == 1;
    if (found && ok && sqlite3_column_int(st, 5) == 0)
        answer(job, principal_json(st, 0));
    else
        store_refuse(job, STORE_ERR_UNAUTHENTICATED, "invalid_credentials",
                     "unknown username or wrong password");
    sqlite3_finalize(st);
    return 0;
}

int store_api_login_record(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in, *who = cJSON_GetObjectItemCaseSensitive(in, "principal");
    const char *kind = s_in(in, "kind"), *session = s_in(in, "session");
    cJSON *details;

    if (run(q(db, "INSERT INTO logins (token_hash, principal, kind, session, created_at, "
              "last_used, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)", "ssssii",
              s_in(in, "hash"), s_in(who, "id"), kind, session, i_in(in, "now"),
              i_in(in, "expires_at"))) != 0)
        return sql_fail(db, job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "addr", s_in(in, "addr") ? s_in(in, "addr") : "");
    if (audit(db, job, s_in(who, "id"), "login.ok", session, details) != 0) {
        cJSON_Delete(details);
        return -1;
    }
    cJSON_Delete(details);
    return 0;
}

int store_api_logout(sqlite3 *db, store_job *job)
{
    if (run(q(db, "DELETE FROM logins WHERE token_hash = ?1", "s", s_in(job->in, "hash"))) != 0)
        return sql_fail(db, job);
    if (audit(db, job, actor_id(job), "logout", NULL, NULL) != 0)
        return -1;
    return 0;
}

int store_api_logins_load(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = q(db,
        "SELECT l.token_hash, l.kind, l.session, l.created_at, l.last_used, l.expires_at,"
        " u.id, u.display_name, u.role, u.specialty, NULL FROM logins l JOIN users u"
        " ON u.id = l.principal WHERE l.kind = 'user' AND u.disabled = 0 AND l.expires_at > ?1"
        " UNION ALL "
        "SELECT l.token_hash, l.kind, l.session, l.created_at, l.last_used, l.expires_at,"
        " c.id, c.display_name, 'client', NULL, c.status FROM logins l JOIN clients c"
        " ON c.id = l.principal JOIN sessions s ON s.id = c.session"
        " WHERE l.kind = 'client' AND c.status <> 'declined' AND l.expires_at > ?1",
        "i", i_in(job->in, "now"));
    cJSON *list = cJSON_CreateArray();
    int rc;

    if (!st)
        return sql_fail(db, job);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "hash", col(st, 0));
        cJSON_AddStringToObject(e, "kind", col(st, 1));
        if (col(st, 2))
            cJSON_AddStringToObject(e, "session", col(st, 2));
        cJSON_AddNumberToObject(e, "created_at", (double)sqlite3_column_int64(st, 3));
        cJSON_AddNumberToObject(e, "last_used", (double)sqlite3_column_int64(st, 4));
        cJSON_AddNumberToObject(e, "expires_at", (double)sqlite3_column_int64(st, 5));
        if (col(st, 10))
            cJSON_AddStringToObject(e, "status", col(st, 10));
        cJSON_AddItemToObject(e, "principal", principal_json(st, 6));
        cJSON_AddItemToArray(list, e);
    }
    sqlite3_finalize(st);
    answer(job, list);
    return rc == SQLITE_DONE ? 0 : sql_fail(db, job);
}

int store_api_logins_touch(sqlite3 *db, store_job *job)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, job->in)
        if (run(q(db, "UPDATE logins SET last_used = MAX(last_used, ?2) WHERE token_hash = ?1",
                  "si", s_in(e, "hash"), i_in(e, "last_used"))) != 0)
            return sql_fail(db, job);
    return 0;
}

int store_api_audit(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    char err[200];

    if (store_audit_append(db, i_in(in, "ts"), s_in(in, "actor"), s_in(in, "action"),
                           s_in(in, "session"), cJSON_GetObjectItemCaseSensitive(in, "details"),
                           err, sizeof err) != 0) {
        snprintf(job->error, sizeof job->error, "%.150s", err);
        return store_refuse(job, STORE_ERR_INTERNAL, NULL,
                            "the audit trail could not be written");
    }
    return 0;
}

/* ---- sessions ------------------------------------------------------------------ */

static int answer_session(sqlite3 *db, store_job *job, const char *id)
{
    cJSON *meta;

    if (store_api_session_meta(db, id, &meta) != 0 || !meta)
        return sql_fail(db, job);
    answer(job, session_view(meta));
    return 0;
}

int store_api_session_create(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *id = s_in(in, "id"), *lead = actor_id(job);
    int64_t now = i_in(in, "now");
    cJSON *create = doc_create_payload(cJSON_GetObjectItemCaseSensitive(in, "document"));
    cJSON *details;
    char *create_text;
    int rc;

    create_text = create ? cJSON_PrintUnformatted(create) : NULL;
    cJSON_Delete(create);
    if (!create_text)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, "out of memory");
    rc = run(q(db, "INSERT INTO sessions (id, title, template_name, template, lead, "
               "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "sssssi", id,
               s_in(in, "title"), s_in(in, "template_name"), s_in(in, "template"), lead, now));
    if (rc == 0)
        rc = run(q(db, "INSERT INTO participants (session, user_id, added_at) VALUES "
                   "(?1, ?2, ?3)", "ssi", id, lead, now));
    /* The document's create op (kind 1: STORE_OP_CREATE) at version 0, authored by the
     * lead (invariant 1). */
    if (rc == 0)
        rc = run(q(db, "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES "
                   "(?1, 0, 1, 'konsil', 1, ?2, ?3, ?4)", "siss", id, now, lead,
                   create_text));
    free(create_text);
    if (rc != 0)
        return sql_fail(db, job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "template", s_in(in, "template_name"));
    rc = audit(db, job, lead, "session.create", id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    return answer_session(db, job, id) == 0 ? 0 : -1;
}

int store_api_sessions_list(sqlite3 *db, store_job *job)
{
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(job->in, "actor");
    sqlite3_stmt *st;
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "sessions");
    int rc;

    /* A client belongs to its one session only. */
    if (s_in(actor, "session"))
        st = q(db, "SELECT id FROM sessions WHERE id = ?1", "s", s_in(actor, "session"));
    else
        st = q(db, "SELECT s.id FROM sessions s JOIN participants p ON p.session = s.id "
               "WHERE p.user_id = ?1 ORDER BY s.created_at DESC, s.id", "s", s_in(actor, "id"));
    if (!st) {
        cJSON_Delete(body);
        return sql_fail(db, job);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *meta;
        if (store_api_session_meta(db, col(st, 0), &meta) != 0 || !meta) {
            rc = SQLITE_ERROR;
            break;
        }
        cJSON_AddItemToArray(list, session_view(meta));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        return sql_fail(db, job);
    }
    answer(job, body);
    return 0;
}

int store_api_member(sqlite3 *db, const cJSON *actor, const char *id, int *lead)
{
    const char *bound = s_in(actor, "session");

    if (lead)
        *lead = 0;
    if (bound)
        return strcmp(bound, id) == 0;
    return participant(db, id, s_in(actor, "id"), lead);
}

int store_api_session_get(sqlite3 *db, store_job *job)
{
    const char *id = s_in(job->in, "id");
    int m = store_api_member(db, cJSON_GetObjectItemCaseSensitive(job->in, "actor"), id, NULL);

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0 || session_open(db, id) < 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    return answer_session(db, job, id);
}

/* Refuses unless the actor leads session id and it is open; 0 when it may go on. */
static int require_lead(sqlite3 *db, store_job *job, const char *id, int need_open)
{
    int lead, m = participant(db, id, actor_id(job), &lead), open;

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    if (!lead)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "only the session's lead may do this");
    open = session_open(db, id);
    if (need_open && open == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_closed", "the session is closed");
    return 0;
}

int store_api_session_close(sqlite3 *db, store_job *job)
{
    const char *id = s_in(job->in, "id");

    if (require_lead(db, job, id, 1) != 0)
        return -1;
    if (run(q(db, "UPDATE sessions SET closed_at = ?2 WHERE id = ?1", "si", id,
              i_in(job->in, "now"))) != 0)
        return sql_fail(db, job);
    if (audit(db, job, actor_id(job), "session.close", id, NULL) != 0)
        return -1;
    return answer_session(db, job, id) == 0 ? 0 : -1;
}

int store_api_participant_add(sqlite3 *db, store_job *job)
{
    const char *id = s_in(job->in, "id"), *username = s_in(job->in, "username");
    sqlite3_stmt *st;
    cJSON *who, *details;
    int rc;

    if (require_lead(db, job, id, 1) != 0)
        return -1;
    st = q(db, "SELECT id, display_name, role, specialty, disabled FROM users "
           "WHERE username = ?1", "s", username);
    if (!st)
        return sql_fail(db, job);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 4) != 0) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such user");
    }
    if (strcmp(col(st, 2), "counsellor") != 0 && strcmp(col(st, 2), "supervisor") != 0) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_INVALID, "invalid_role",
                            "only counsellors and supervisors take part in sessions");
    }
    who = principal_json(st, 0);
    sqlite3_finalize(st);
    rc = participant(db, id, s_in(who, "id"), NULL);
    if (rc != 0) {
        cJSON_Delete(who);
        return rc < 0 ? sql_fail(db, job) :
               store_refuse(job, STORE_ERR_CONFLICT, "already_participant",
                            "the user already takes part");
    }
    if (run(q(db, "INSERT INTO participants (session, user_id, added_at) VALUES (?1, ?2, ?3)",
              "ssi", id, s_in(who, "id"), i_in(job->in, "now"))) != 0) {
        cJSON_Delete(who);
        return sql_fail(db, job);
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "user", s_in(who, "id"));
    cJSON_AddStringToObject(details, "role", s_in(who, "role"));
    rc = audit(db, job, actor_id(job), "participant.add", id, details);
    cJSON_Delete(details);
    if (rc != 0) {
        cJSON_Delete(who);
        return -1;
    }
    answer(job, who);
    return 0;
}

int store_api_grant_create(sqlite3 *db, store_job *job)
{
    const char *id = s_in(job->in, "id"), *username = s_in(job->in, "username");
    int64_t now = i_in(job->in, "now"), expires_at = now + i_in(job->in, "expires_in_s") * 1000;
    sqlite3_stmt *st;
    cJSON *body = NULL, *details;
    int rc;

    if (require_lead(db, job, id, 0) != 0)
        return -1;
    st = q(db, "SELECT u.id, u.display_name, u.role, u.specialty, lower(hex(randomblob(16))),"
           " p.user_id FROM users u LEFT JOIN participants p ON p.session = ?2 AND"
           " p.user_id = u.id WHERE u.username = ?1 AND u.disabled = 0", "ss", username, id);
    if (!st)
        return sql_fail(db, job);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such user");
    else if (strcmp(col(st, 2), "supervisor") != 0)
        rc = store_refuse(job, STORE_ERR_INVALID, "invalid_role",
                          "identified reading is granted to supervisors");
    else if (!col(st, 5))
        rc = store_refuse(job, STORE_ERR_CONFLICT, "not_participant",
                          "the supervisor does not take part");
    else if (run(q(db, "INSERT INTO grants (id, session, user_id, granted_by, created_at,"
                   " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "ssssii", col(st, 4), id,
                   col(st, 0), actor_id(job), now, expires_at)) != 0)
        rc = sql_fail(db, job);
    else if (!(body = cJSON_CreateObject()))
        rc = sql_fail(db, job);
    else
        rc = 0;
    if (rc == 0) {
        cJSON_AddStringToObject(body, "id", col(st, 4));
        cJSON_AddItemToObject(body, "user", principal_json(st, 0));
        cJSON_AddNumberToObject(body, "expires_at", (double)expires_at);
        details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "grant", col(st, 4));
        cJSON_AddStringToObject(details, "user", col(st, 0));
        cJSON_AddNumberToObject(details, "expires_at", (double)expires_at);
        rc = audit(db, job, actor_id(job), "grant.create", id, details);
        cJSON_Delete(details);
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        cJSON_Delete(body);
        return -1;
    }
    answer(job, body);
    return 0;
}

/* ---- links, joining, the lobby -------------------------------------------------- */

int store_api_link_create(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *session = s_in(in, "session");
    int64_t max_uses = i_in(in, "max_uses");
    int m = participant(db, session, actor_id(job), NULL);
    sqlite3_stmt *st;
    cJSON *details;
    int rc;

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0 || strcmp(s_in(cJSON_GetObjectItemCaseSensitive(in, "actor"), "role"),
                         "counsellor") != 0)
        return m == 0 ? store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session") :
               store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "only counsellors create join links");
    if (session_open(db, session) == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "session_closed", "the session is closed");
    st = q(db, "INSERT INTO links (id, session, token_hash, created_by, created_at, expires_at,"
           " max_uses, lobby) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "ssssiiii",
           s_in(in, "link_id"), session, s_in(in, "hash"), actor_id(job), i_in(in, "now"),
           i_in(in, "expires_at"), max_uses, (int64_t)cJSON_IsTrue(
               cJSON_GetObjectItemCaseSensitive(in, "lobby")));
    if (st && max_uses <= 0)
        sqlite3_bind_null(st, 7);
    if (run(st) != 0)
        return sql_fail(db, job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "link", s_in(in, "link_id"));
    cJSON_AddNumberToObject(details, "expires_at", (double)i_in(in, "expires_at"));
    rc = audit(db, job, actor_id(job), "link.create", session, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    return 0;
}

int store_api_link_revoke(sqlite3 *db, store_job *job)
{
    const char *session = s_in(job->in, "session"), *link = s_in(job->in, "link_id");
    int m = participant(db, session, actor_id(job), NULL);
    sqlite3_stmt *st;
    cJSON *details;
    int rc;

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    st = q(db, "UPDATE links SET revoked_at = ?3 WHERE id = ?1 AND session = ?2 AND "
           "revoked_at IS NULL", "ssi", link, session, i_in(job->in, "now"));
    if (run(st) != 0)
        return sql_fail(db, job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "link_not_found",
                            "no such link, or it is revoked already");
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "link", link);
    rc = audit(db, job, actor_id(job), "link.revoke", session, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    return 0;
}

int store_api_join(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *client = s_in(in, "client_id"), *name = s_in(in, "display_name");
    int64_t now = i_in(in, "now");
    sqlite3_stmt *st = q(db, "SELECT l.id, l.session, l.expires_at, l.max_uses, l.uses, "
                         "l.lobby, l.revoked_at IS NOT NULL, s.closed_at IS NOT NULL FROM "
                         "links l JOIN sessions s ON s.id = l.session WHERE l.token_hash = ?1",
                         "s", s_in(in, "link_hash"));
    char link[80], session[80];
    const char *status;
    cJSON *details, *who;
    int rc, lobby;

    if (!st)
        return sql_fail(db, job);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_refuse(job, STORE_ERR_NOT_FOUND, "link_invalid", "this link is not valid");
    }
    snprintf(link, sizeof link, "%s", col(st, 0));
    snprintf(session, sizeof session, "%s", col(st, 1));
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
    if (run(q(db, "UPDATE links SET uses = uses + 1 WHERE id = ?1", "s", link)) != 0 ||
        run(q(db, "INSERT INTO clients (id, session, link_id, display_name, status, "
              "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "sssssi", client, session, link,
              name, status, now)) != 0 ||
        run(q(db, "INSERT INTO logins (token_hash, principal, kind, session, created_at, "
              "last_used, expires_at) VALUES (?1, ?2, 'client', ?3, ?4, ?4, ?5)", "sssii",
              s_in(in, "login_hash"), client, session, now, i_in(in, "expires_at"))) != 0)
        return sql_fail(db, job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "link", link);
    cJSON_AddStringToObject(details, "status", status);
    rc = audit(db, job, client, "link.use", session, details);
    if (rc == 0 && !lobby)
        rc = audit(db, job, client, "join", session, NULL);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "session", session);
    cJSON_AddStringToObject(job->out, "status", status);
    who = cJSON_AddObjectToObject(job->out, "principal");
    cJSON_AddStringToObject(who, "id", client);
    cJSON_AddStringToObject(who, "name", name);
    cJSON_AddStringToObject(who, "role", "client");
    return 0;
}

int store_api_lobby_list(sqlite3 *db, store_job *job)
{
    const char *session = s_in(job->in, "session");
    int m = participant(db, session, actor_id(job), NULL), rc;
    sqlite3_stmt *st;
    cJSON *body, *list;

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    st = q(db, "SELECT id, display_name, created_at FROM clients WHERE session = ?1 AND "
           "status = 'waiting' ORDER BY created_at, id", "s", session);
    if (!st)
        return sql_fail(db, job);
    body = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(body, "waiting");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", col(st, 0));
        cJSON_AddStringToObject(c, "name", col(st, 1));
        cJSON_AddNumberToObject(c, "since", (double)sqlite3_column_int64(st, 2));
        cJSON_AddItemToArray(list, c);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        return sql_fail(db, job);
    }
    answer(job, body);
    return 0;
}

int store_api_lobby_decide(sqlite3 *db, store_job *job)
{
    const char *session = s_in(job->in, "session"), *client = s_in(job->in, "client_id");
    int admit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "admit"));
    int m = participant(db, session, actor_id(job), NULL), rc;
    cJSON *details;

    if (m < 0)
        return sql_fail(db, job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
    if (strcmp(s_in(cJSON_GetObjectItemCaseSensitive(job->in, "actor"), "role"),
               "counsellor") != 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, "only counsellors admit clients");
    if (run(q(db, "UPDATE clients SET status = ?3 WHERE id = ?1 AND session = ?2 AND "
              "status = 'waiting'", "sss", client, session,
              admit ? "admitted" : "declined")) != 0)
        return sql_fail(db, job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "not_waiting",
                            "no such client is waiting");
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "client", client);
    rc = audit(db, job, actor_id(job), admit ? "lobby.admit" : "lobby.decline", session,
               details);
    if (rc == 0 && admit)
        rc = audit(db, job, client, "join", session, NULL);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    job->out = cJSON_CreateObject();
    cJSON_AddStringToObject(job->out, "client", client);
    cJSON_AddStringToObject(job->out, "status", admit ? "admitted" : "declined");
    return 0;
}
