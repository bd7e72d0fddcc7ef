/*
 * The templates table (see store_templates.h) and its REST calls (store_api.h).
 */
#include "store/store_templates.h"

#include <stdio.h>
#include <string.h>

#include "auth/template.h"
#include "case/case_templates.h"
#include "store/store_api.h"
#include "store/store_audit.h"
#include "store/store_sql.h"

int store_templates_add(sqlite3 *db, const char *text, size_t len, const char *by,
                        int64_t now, int *version, char name[65], char *err, size_t errlen)
{
    auth_error aerr = {{0}};
    template_spec *t = template_parse(text, len, &aerr);
    sqlite3_stmt *st;
    cJSON *details;
    int rc;

    if (!t) {
        snprintf(err, errlen, "%s", aerr.message);
        return -1;
    }
    snprintf(name, 65, "%s", template_name(t));
    template_free(t);
    /* the text as stored, and the highest version of the name */
    st = store_q(db, "SELECT (SELECT version FROM templates WHERE name = ?1 AND text = ?2),"
                 " (SELECT COALESCE(MAX(version), 0) FROM templates WHERE name = ?1)", "ss",
                 name, NULL);
    if (st)
        sqlite3_bind_text(st, 2, text, (int)len, SQLITE_TRANSIENT);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return 0;
    }
    *version = sqlite3_column_int(st, 1) + 1;
    sqlite3_finalize(st);
    st = store_q(db, "INSERT INTO templates (name, version, added_at, added_by, text) VALUES"
                 " (?1, ?2, ?3, ?4, ?5)", "siis", name, (int64_t)*version, now, by);
    if (st)
        sqlite3_bind_text(st, 5, text, (int)len, SQLITE_TRANSIENT);
    if (store_run(st) != 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "name", name);
    cJSON_AddNumberToObject(details, "version", *version);
    rc = store_audit_append(db, now, by, "template.add", NULL, details, err, errlen);
    cJSON_Delete(details);
    return rc == 0 ? 1 : -1;
}

/* Whether the operator added a version of name: 1, 0, -1. */
static int operator_version(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = store_q(db, "SELECT 1 FROM templates WHERE name = ?1 AND added_by IN"
                               " (?2, ?3) LIMIT 1", "sss", name, STORE_TEMPLATE_CLI,
                               STORE_TEMPLATE_SERVE);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_templates_seed(sqlite3 *db, int64_t now, char *err, size_t errlen)
{
    const char *text;

    for (size_t i = 0; (text = case_templates_shipped(i)); i++) {
        auth_error aerr = {{0}};
        template_spec *t = template_parse(text, strlen(text), &aerr);
        char name[65];
        int version, own;

        if (!t) {
            snprintf(err, errlen, "shipped template %zu: %s", i, aerr.message);
            return -1;
        }
        snprintf(name, sizeof name, "%s", template_name(t));
        template_free(t);
        own = operator_version(db, name);
        if (own < 0) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            return -1;
        }
        if (!own && store_templates_add(db, text, strlen(text), STORE_TEMPLATE_SHIPPED, now,
                                        &version, name, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int store_api_templates_install(sqlite3 *db, store_job *job)
{
    int64_t now = store_i(job->in, "now");
    const cJSON *text;
    char err[300], name[65];
    int version;

    if (store_templates_seed(db, now, err, sizeof err) != 0)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, err);
    cJSON_ArrayForEach(text, cJSON_GetObjectItemCaseSensitive(job->in, "texts")) {
        const char *s = cJSON_GetStringValue(text);
        if (!s || store_templates_add(db, s, strlen(s), STORE_TEMPLATE_SERVE, now, &version,
                                      name, err, sizeof err) < 0)
            return store_refuse(job, STORE_ERR_BAD_REQUEST, NULL, s ? err : "not a text");
    }
    return 0;
}

int store_api_templates_list(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT t.name, t.version, t.text FROM templates t WHERE"
                               " t.version = (SELECT MAX(version) FROM templates WHERE"
                               " name = t.name) ORDER BY t.name", "");
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "templates");
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *text = cJSON_Parse(store_col(st, 2)), *e = cJSON_CreateObject();
        const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(text, "title"));
        const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(text,
                                                                                   "description"));
        cJSON_AddStringToObject(e, "name", store_col(st, 0));
        cJSON_AddNumberToObject(e, "version", (double)sqlite3_column_int64(st, 1));
        cJSON_AddStringToObject(e, "title", title ? title : store_col(st, 0));
        if (desc)
            cJSON_AddStringToObject(e, "description", desc);
        cJSON_Delete(text);
        cJSON_AddItemToArray(list, e);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(body);
        return store_sql_fail(job);
    }
    store_answer(job, body);
    return 0;
}
