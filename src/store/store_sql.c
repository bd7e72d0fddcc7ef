/*
 * The REST calls' shared steps (see store_sql.h).
 */
#include "store/store_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/store_audit.h"

sqlite3_stmt *store_q(sqlite3 *db, const char *sql, const char *types, ...)
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

int store_run(sqlite3_stmt *st)
{
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

const char *store_s(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t store_i(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

const char *store_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

cJSON *store_col_number(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return cJSON_CreateNull();
    return cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
}

void store_answer(store_job *job, cJSON *out)
{
    cJSON_Delete(job->out);
    job->out = out;
}

int store_sql_fail(store_job *job)
{
    return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the database could not answer");
}

int store_audit_call(sqlite3 *db, store_job *job, const char *actor, const char *action,
                     const char *case_id, const cJSON *details)
{
    char err[200];

    if (store_audit_append(db, store_i(job->in, "now"), actor, action, case_id, details, err,
                           sizeof err) != 0)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL,
                            "the audit trail could not be written");
    return 0;
}

cJSON *store_principal_json(sqlite3_stmt *st, int c)
{
    cJSON *p = cJSON_CreateObject();
    const char *spec = store_col(st, c + 3);

    cJSON_AddStringToObject(p, "id", store_col(st, c) ? store_col(st, c) : "");
    cJSON_AddStringToObject(p, "name", store_col(st, c + 1) ? store_col(st, c + 1) : "");
    cJSON_AddStringToObject(p, "role", store_col(st, c + 2) ? store_col(st, c + 2) : "");
    if (spec && strcmp(spec, "none") != 0)
        cJSON_AddStringToObject(p, "specialty", spec);
    return p;
}

const cJSON *store_actor(const store_job *job)
{
    return cJSON_GetObjectItemCaseSensitive(job->in, "actor");
}

const char *store_actor_id(const store_job *job)
{
    const char *id = store_s(store_actor(job), "id");
    return id ? id : "";
}

int64_t store_doc_head(sqlite3 *db, const char *doc)
{
    sqlite3_stmt *st = store_q(db, "SELECT COALESCE(MAX(v) + 1, 0) FROM ops WHERE doc = ?1",
                               "s", doc);
    int64_t head = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        head = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return head;
}

int store_team_role(sqlite3 *db, const char *case_id, const char *user_id, char role[16])
{
    sqlite3_stmt *st = store_q(db, "SELECT role FROM team WHERE case_id = ?1 AND user_id = ?2 "
                               "AND removed_at IS NULL", "ss", case_id, user_id);
    int rc;

    role[0] = '\0';
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(role, 16, "%s", store_col(st, 0) ? store_col(st, 0) : "");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_session_case(sqlite3 *db, const char *session, char case_id[64], int *running)
{
    sqlite3_stmt *st = store_q(db, "SELECT case_id, ended_at IS NULL FROM sessions WHERE id = ?1",
                               "s", session);
    int rc;

    case_id[0] = '\0';
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(case_id, 64, "%s", store_col(st, 0) ? store_col(st, 0) : "");
        if (running)
            *running = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

cJSON *store_strings(sqlite3_stmt *st)
{
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(list, cJSON_CreateString(store_col(st, 0)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}
