/*
 * Accounts' logins and the login-session cache's SQL (see store_api.h): password
 * checks, login sessions recorded and ended, the cache loaded and its idle times
 * written back, audit entries the hub appends on its own.
 */
#include "store/store_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "store/store_audit.h"
#include "store/store_sql.h"

int store_api_login_check(sqlite3 *db, store_job *job)
{
    /* A hash to verify against when the user does not exist, so that the answer takes
     * as long for unknown names as for wrong passwords. */
    static const char dummy[] =
        "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *user = store_s(job->in, "username"), *pw = store_s(job->in, "password");
    sqlite3_stmt *st = store_q(db, "SELECT id, display_name, role, specialty, password, "
                               "disabled, totp_enabled_at IS NOT NULL, totp_pending IS NOT "
                               "NULL FROM users WHERE username = ?1", "s", user);
    auth_error err = {{0}};
    int found, ok;

    if (!st)
        return store_sql_fail(job);
    found = sqlite3_step(st) == SQLITE_ROW;
    ok = auth_password_verify(pw, found ? store_col(st, 4) : dummy, &err) == 1;
    if (found && ok && sqlite3_column_int(st, 5) == 0) {
        cJSON *out = cJSON_CreateObject(), *totp;
        cJSON_AddItemToObject(out, "principal", store_principal_json(st, 0));
        totp = cJSON_AddObjectToObject(out, "totp");
        cJSON_AddBoolToObject(totp, "enabled", sqlite3_column_int(st, 6) != 0);
        cJSON_AddBoolToObject(totp, "pending", sqlite3_column_int(st, 7) != 0);
        store_answer(job, out);
    } else
        store_refuse(job, STORE_ERR_UNAUTHENTICATED, "invalid_credentials",
                     "unknown username or wrong password");
    sqlite3_finalize(st);
    return 0;
}

int store_api_login_record(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in, *who = cJSON_GetObjectItemCaseSensitive(in, "principal");
    const cJSON *second = cJSON_GetObjectItemCaseSensitive(in, "second");
    cJSON *details, *out = cJSON_CreateObject();
    int rc;

    /* The second factor first: a code that does not pass records no login. */
    if (second && store_totp_second_factor(db, job, store_s(who, "id"), second, out) != 0) {
        cJSON_Delete(out);
        return -1;
    }
    /* An account disabled since its password was checked gets no login session (else
     * enabling it again would bring one back). */
    if (store_run(store_q(db, "INSERT INTO logins (token_hash, principal, kind, session, "
                          "created_at, last_used, expires_at) SELECT ?1, ?2, ?3, NULL, ?4, "
                          "?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = ?2 AND "
                          "disabled <> 0)", "sssii", store_s(in, "hash"), store_s(who, "id"),
                          store_s(in, "kind"), store_i(in, "now"),
                          store_i(in, "expires_at"))) != 0) {
        cJSON_Delete(out);
        return store_sql_fail(job);
    }
    if (sqlite3_changes(db) == 0) {
        cJSON_Delete(out);
        return store_refuse(job, STORE_ERR_UNAUTHENTICATED, "invalid_credentials",
                            "unknown username or wrong password");
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "addr", store_s(in, "addr") ? store_s(in, "addr") : "");
    if (second)
        cJSON_AddStringToObject(details, "second_factor", store_s(second, "kind"));
    rc = store_audit_call(db, job, store_s(who, "id"), "login.ok", NULL, details);
    cJSON_Delete(details);
    if (rc == 0)
        store_answer(job, out);
    else
        cJSON_Delete(out);
    return rc;
}

int store_api_logout(sqlite3 *db, store_job *job)
{
    if (store_run(store_q(db, "DELETE FROM logins WHERE token_hash = ?1", "s",
                          store_s(job->in, "hash"))) != 0)
        return store_sql_fail(job);
    return store_audit_call(db, job, store_actor_id(job), "logout", NULL, NULL);
}

int store_api_logins_load(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db,
        "SELECT l.token_hash, l.kind, l.session, l.created_at, l.last_used, l.expires_at,"
        " u.id, u.display_name, u.role, u.specialty, NULL, NULL FROM logins l JOIN users u"
        " ON u.id = l.principal WHERE l.kind = 'user' AND u.disabled = 0 AND l.expires_at > ?1"
        " UNION ALL "
        "SELECT l.token_hash, l.kind, l.session, l.created_at, l.last_used, l.expires_at,"
        " c.id, konsil_open(c.display_name, s.case_id, 'clients.display_name', c.id), 'client',"
        " NULL,"
        " CASE WHEN s.ended_at IS NOT NULL THEN 'ended' ELSE c.status END, s.case_id"
        " FROM logins l JOIN clients c ON c.id = l.principal JOIN sessions s ON s.id = c.session"
        " WHERE l.kind = 'client' AND c.status IN ('waiting', 'admitted') AND l.expires_at > ?1"
        /* a client of a case whose key is gone (erased) logs in no more */
        " AND (typeof(c.display_name) <> 'blob' OR konsil_has_key(s.case_id) IS NOT 0)",
        "i", store_i(job->in, "now"));
    cJSON *list = cJSON_CreateArray();
    int rc;

    if (!st) {
        cJSON_Delete(list);
        return store_sql_fail(job);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "hash", store_col(st, 0));
        cJSON_AddStringToObject(e, "kind", store_col(st, 1));
        if (store_col(st, 2))
            cJSON_AddStringToObject(e, "session", store_col(st, 2));
        cJSON_AddNumberToObject(e, "created_at", (double)sqlite3_column_int64(st, 3));
        cJSON_AddNumberToObject(e, "last_used", (double)sqlite3_column_int64(st, 4));
        cJSON_AddNumberToObject(e, "expires_at", (double)sqlite3_column_int64(st, 5));
        if (store_col(st, 10))
            cJSON_AddStringToObject(e, "status", store_col(st, 10));
        if (store_col(st, 11))
            cJSON_AddStringToObject(e, "case_id", store_col(st, 11));
        cJSON_AddItemToObject(e, "principal", store_principal_json(st, 6));
        cJSON_AddItemToArray(list, e);
    }
    sqlite3_finalize(st);
    store_answer(job, list);
    return rc == SQLITE_DONE ? 0 : store_sql_fail(job);
}

int store_api_logins_touch(sqlite3 *db, store_job *job)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, job->in)
        if (store_run(store_q(db, "UPDATE logins SET last_used = MAX(last_used, ?2) WHERE "
                              "token_hash = ?1", "si", store_s(e, "hash"),
                              store_i(e, "last_used"))) != 0)
            return store_sql_fail(job);
    return 0;
}

int store_api_audit(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    char err[200];
    sqlite3_stmt *st;
    int erased;

    /* Nothing is recorded about an erased case after its erasure (a connection closed by
     * it reports its read's end afterwards). */
    if (store_s(in, "session")) {
        st = store_q(db, "SELECT 1 FROM erasures WHERE case_id = ?1", "s", store_s(in, "session"));
        erased = st ? sqlite3_step(st) : SQLITE_ERROR;
        sqlite3_finalize(st);
        if (erased == SQLITE_ROW)
            return 0;
        if (erased != SQLITE_DONE)
            return store_sql_fail(job);
    }
    if (store_audit_append(db, store_i(in, "ts"), store_s(in, "actor"), store_s(in, "action"),
                           store_s(in, "session"), cJSON_GetObjectItemCaseSensitive(in, "details"),
                           err, sizeof err) != 0) {
        snprintf(job->error, sizeof job->error, "%.150s", err);
        return store_refuse(job, STORE_ERR_INTERNAL, NULL,
                            "the audit trail could not be written");
    }
    return 0;
}
