/*
 * Retention, legal holds and restriction (see store_retention.h).
 */
#include "store/store_retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/template.h"
#include "store/store_api.h"
#include "store/store_sql.h"

/* The latest of a case's activities (?1 its id): created, kept, its latest op, a session
 * started or ended. */
#define LAST_ACTIVITY \
    "MAX(c.created_at, COALESCE(c.kept_at, 0), COALESCE((SELECT o.ts FROM ops o WHERE" \
    " o.doc = c.id ORDER BY o.v DESC LIMIT 1), 0), COALESCE((SELECT MAX(MAX(s.started_at," \
    " COALESCE(s.ended_at, 0))) FROM sessions s WHERE s.case_id = c.id), 0))"
/* A hold that stands at ?2. */
#define HOLD_STANDS "h.lifted_at IS NULL AND (h.until IS NULL OR h.until > ?2)"

static int is_admin(const store_job *job)
{
    const char *role = store_s(store_actor(job), "role");
    return role && strcmp(role, "admin") == 0 && !store_s(store_actor(job), "session");
}

/* The class a case has: its own, or its template's default. NULL when the name is not
 * one of the template's (a template version never changes, so only a damaged row). */
static const template_retention_class *class_of(const template_spec *t, const char *chosen)
{
    return chosen ? template_retention_class_named(t, chosen) : template_retention_default(t);
}

static cJSON *class_json(const template_retention_class *k)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", k->name);
    cJSON_AddNumberToObject(j, "after_closure_days", (double)k->after_closure_days);
    cJSON_AddStringToObject(j, "basis", k->basis);
    return j;
}

/* Refuses unless the actor is the case's lead or an admin (NOT_FOUND for strangers,
 * FORBIDDEN for other members); with need_open, unless the case is open too. */
static int require_lead_or_admin(sqlite3 *db, store_job *job, const char *case_id,
                                 int need_open)
{
    sqlite3_stmt *st = store_q(db, "SELECT status FROM cases WHERE id = ?1", "s", case_id);
    char role[16], status[16] = "";
    int m;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        snprintf(status, sizeof status, "%s", store_col(st, 0));
    sqlite3_finalize(st);
    if (!status[0] || store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (!is_admin(job)) {
        m = store_team_role(db, case_id, store_actor_id(job), role);
        if (m < 0)
            return store_sql_fail(job);
        if (m == 0)
            return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
        if (strcmp(role, "lead") != 0)
            return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                                "only the case's lead or an admin may do this");
    }
    if (need_open && strcmp(status, "open") != 0)
        return store_refuse(job, STORE_ERR_CONFLICT, strcmp(status, "restricted") == 0 ?
                            "case_restricted" : "case_closed",
                            "only an open case's retention is changed");
    return 0;
}

/* The case's template version, parsed, and its chosen class (or NULL) copied. */
static template_spec *case_template(sqlite3 *db, const char *case_id, char chosen[40],
                                    int *has_chosen)
{
    sqlite3_stmt *st = store_q(db, "SELECT t.text, c.retention_class FROM cases c JOIN"
                               " templates t ON t.name = c.template_name AND t.version ="
                               " c.template_version WHERE c.id = ?1", "s", case_id);
    template_spec *t = NULL;
    auth_error err = {{0}};

    *has_chosen = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        t = template_parse(store_col(st, 0), (size_t)sqlite3_column_bytes(st, 0), &err);
        if (store_col(st, 1)) {
            snprintf(chosen, 40, "%s", store_col(st, 1));
            *has_chosen = 1;
        }
    }
    sqlite3_finalize(st);
    return t;
}

int store_retention_schedule(sqlite3 *db, store_job *job, const char *case_id,
                             int64_t closed_at)
{
    char chosen[40];
    int has_chosen, rc;
    template_spec *t = case_template(db, case_id, chosen, &has_chosen);
    const template_retention_class *k = t ? class_of(t, has_chosen ? chosen : NULL) : NULL;
    int64_t delete_at;
    cJSON *details;

    if (!k) {
        template_free(t);
        return store_sql_fail(job);
    }
    delete_at = closed_at + k->after_closure_days * STORE_DAY_MS;
    rc = store_run(store_q(db, "UPDATE cases SET delete_at = ?2 WHERE id = ?1", "si", case_id,
                           delete_at));
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "class", k->name);
    cJSON_AddNumberToObject(details, "delete_at", (double)delete_at);
    template_free(t);
    if (rc != 0) {
        cJSON_Delete(details);
        return store_sql_fail(job);
    }
    rc = store_audit_call(db, job, store_s(store_actor(job), "id") ? store_actor_id(job) :
                          "konsil", "case.retention", case_id, details);
    cJSON_Delete(details);
    return rc;
}

/* [{id, reason?, set_by, set_at, until}] of the holds standing on case_id at now. */
static cJSON *holds_json(sqlite3 *db, const char *case_id, int64_t now, int privileged)
{
    sqlite3_stmt *st = store_q(db, "SELECT h.id, h.reason, h.set_by, h.set_at, h.until FROM"
                               " holds h WHERE h.case_id = ?1 AND " HOLD_STANDS " ORDER BY"
                               " h.set_at, h.id", "si", case_id, now);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "id", store_col(st, 0));
        if (privileged)
            cJSON_AddStringToObject(h, "reason", store_col(st, 1));
        cJSON_AddStringToObject(h, "set_by", store_col(st, 2));
        cJSON_AddNumberToObject(h, "set_at", (double)sqlite3_column_int64(st, 3));
        cJSON_AddItemToObject(h, "until", store_col_number(st, 4));
        cJSON_AddItemToArray(list, h);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* The pending erasure request of case_id, or JSON null. */
static cJSON *request_json(sqlite3 *db, const char *case_id, int privileged)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, reason, requested_by, requested_at FROM"
                               " erasure_requests WHERE case_id = ?1 AND status = 'pending'",
                               "s", case_id);
    cJSON *r = NULL;

    if (st && sqlite3_step(st) == SQLITE_ROW) {
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", store_col(st, 0));
        if (privileged)
            cJSON_AddStringToObject(r, "reason", store_col(st, 1));
        cJSON_AddStringToObject(r, "requested_by", store_col(st, 2));
        cJSON_AddNumberToObject(r, "requested_at", (double)sqlite3_column_int64(st, 3));
    }
    sqlite3_finalize(st);
    return r ? r : cJSON_CreateNull();
}

int store_retention_add(sqlite3 *db, const cJSON *in, int privileged, cJSON *view)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(view, "id"));
    int64_t now = store_i(in, "now"), inactive_ms = store_i(in, "inactive_ms");
    int64_t notice_ms = store_i(in, "notice_ms");
    sqlite3_stmt *st = store_q(db, "SELECT c.status, c.retention_class, c.delete_at,"
                               " c.restricted_at, c.restricted_by, c.restricted_reason,"
                               " c.restricted_from, t.text, " LAST_ACTIVITY " FROM cases c JOIN"
                               " templates t ON t.name = c.template_name AND t.version ="
                               " c.template_version WHERE c.id = ?1", "s", id ? id : "");
    template_spec *t = NULL;
    const template_retention_class *k, *all;
    auth_error err = {{0}};
    cJSON *r, *classes, *holds;
    int64_t last;
    size_t n;
    int open;

    if (!st || sqlite3_step(st) != SQLITE_ROW ||
        !(t = template_parse(store_col(st, 7), (size_t)sqlite3_column_bytes(st, 7), &err)) ||
        !(k = class_of(t, store_col(st, 1)))) {
        sqlite3_finalize(st);
        template_free(t);
        return -1;
    }
    open = strcmp(store_col(st, 0), "open") == 0;
    last = sqlite3_column_int64(st, 8);
    r = cJSON_AddObjectToObject(view, "retention");
    cJSON_AddStringToObject(r, "class", k->name);
    cJSON_AddNumberToObject(r, "after_closure_days", (double)k->after_closure_days);
    cJSON_AddStringToObject(r, "basis", k->basis);
    classes = cJSON_AddArrayToObject(r, "classes");
    all = template_retention_classes(t, &n);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(classes, class_json(&all[i]));
    cJSON_AddItemToObject(r, "delete_at", store_col_number(st, 2));
    cJSON_AddBoolToObject(r, "deletion_soon", sqlite3_column_type(st, 2) != SQLITE_NULL &&
                          sqlite3_column_int64(st, 2) - now <= notice_ms);
    cJSON_AddNumberToObject(r, "last_activity", (double)last);
    cJSON_AddBoolToObject(r, "inactive", open && now - last > inactive_ms);
    holds = holds_json(db, id, now, privileged);
    cJSON_AddBoolToObject(r, "held", holds && cJSON_GetArraySize(holds) > 0);
    cJSON_AddItemToObject(r, "holds", holds ? holds : cJSON_CreateArray());
    cJSON_AddItemToObject(r, "erasure_request", request_json(db, id, privileged));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
        strcmp(store_col(st, 0), "restricted") == 0) {
        cJSON *x = cJSON_AddObjectToObject(view, "restriction");
        cJSON_AddNumberToObject(x, "since", (double)sqlite3_column_int64(st, 3));
        cJSON_AddStringToObject(x, "by", store_col(st, 4));
        if (privileged)
            cJSON_AddStringToObject(x, "reason", store_col(st, 5));
        cJSON_AddStringToObject(x, "from", store_col(st, 6));
    }
    sqlite3_finalize(st);
    template_free(t);
    return holds ? 0 : -1;
}

/* ---- the officer's view ------------------------------------------------------------------ */

/* A parsed template per (name, version), for the officer's list. */
typedef struct tpl_cache {
    char key[80];
    template_spec *t;
} tpl_cache;

static template_spec *cached(tpl_cache *c, size_t *n, size_t cap, const char *name,
                             int64_t version, const char *text, size_t len)
{
    char key[80];
    auth_error err = {{0}};

    snprintf(key, sizeof key, "%.64s@%lld", name, (long long)version);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(c[i].key, key) == 0)
            return c[i].t;
    if (*n == cap)
        return NULL;
    snprintf(c[*n].key, sizeof c[*n].key, "%s", key);
    c[*n].t = template_parse(text, len, &err);
    return c[(*n)++].t;
}

static cJSON *rows_json(sqlite3 *db, const char *sql, int64_t now,
                        cJSON *(*row)(sqlite3_stmt *st))
{
    sqlite3_stmt *st = store_q(db, sql, "i", now);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(list, row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

static cJSON *hold_row(sqlite3_stmt *st)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "id", store_col(st, 0));
    cJSON_AddStringToObject(h, "case_id", store_col(st, 1));
    cJSON_AddStringToObject(h, "reason", store_col(st, 2));
    cJSON_AddStringToObject(h, "set_by", store_col(st, 3));
    cJSON_AddNumberToObject(h, "set_at", (double)sqlite3_column_int64(st, 4));
    cJSON_AddItemToObject(h, "until", store_col_number(st, 5));
    return h;
}

static cJSON *restriction_row(sqlite3_stmt *st)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "case_id", store_col(st, 0));
    cJSON_AddNumberToObject(h, "since", (double)sqlite3_column_int64(st, 1));
    cJSON_AddStringToObject(h, "by", store_col(st, 2));
    cJSON_AddStringToObject(h, "reason", store_col(st, 3));
    cJSON_AddStringToObject(h, "from", store_col(st, 4));
    return h;
}

static cJSON *request_row(sqlite3_stmt *st)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "id", store_col(st, 0));
    cJSON_AddStringToObject(h, "case_id", store_col(st, 1));
    cJSON_AddStringToObject(h, "reason", store_col(st, 2));
    cJSON_AddStringToObject(h, "requested_by", store_col(st, 3));
    cJSON_AddNumberToObject(h, "requested_at", (double)sqlite3_column_int64(st, 4));
    return h;
}

static cJSON *erasure_row(sqlite3_stmt *st)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "case_id", store_col(st, 0));
    cJSON_AddNumberToObject(h, "erased_at", (double)sqlite3_column_int64(st, 1));
    cJSON_AddStringToObject(h, "how", store_col(st, 2));
    cJSON_AddNumberToObject(h, "audit_seq", (double)sqlite3_column_int64(st, 3));
    return h;
}

int store_retention_officer(sqlite3 *db, int64_t now, int64_t inactive_ms, cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, c.status, c.template_name, c.template_version,"
                               " t.text, c.retention_class, c.created_at, c.closed_at,"
                               " c.delete_at, EXISTS (SELECT 1 FROM holds h WHERE h.case_id ="
                               " c.id AND h.lifted_at IS NULL AND (h.until IS NULL OR h.until >"
                               " ?1)), " LAST_ACTIVITY ", (SELECT user_id FROM team WHERE"
                               " case_id = c.id AND role = 'lead' AND removed_at IS NULL) FROM"
                               " cases c JOIN templates t ON t.name = c.template_name AND"
                               " t.version = c.template_version ORDER BY c.delete_at IS NULL,"
                               " c.delete_at, c.created_at, c.id", "i", now);
    tpl_cache cache[64];
    size_t n_cache = 0;
    cJSON *body = cJSON_CreateObject(), *cases = cJSON_AddArrayToObject(body, "cases"), *part;
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        template_spec *t = cached(cache, &n_cache, 64, store_col(st, 2),
                                  sqlite3_column_int64(st, 3), store_col(st, 4),
                                  (size_t)sqlite3_column_bytes(st, 4));
        const template_retention_class *k = t ? class_of(t, store_col(st, 5)) : NULL;
        cJSON *c = cJSON_CreateObject();
        int open = strcmp(store_col(st, 1), "open") == 0;
        cJSON_AddStringToObject(c, "id", store_col(st, 0));
        cJSON_AddStringToObject(c, "status", store_col(st, 1));
        cJSON_AddStringToObject(c, "template", store_col(st, 2));
        cJSON_AddNumberToObject(c, "template_version", (double)sqlite3_column_int64(st, 3));
        cJSON_AddStringToObject(c, "class", k ? k->name : "?");
        cJSON_AddNumberToObject(c, "created_at", (double)sqlite3_column_int64(st, 6));
        cJSON_AddItemToObject(c, "closed_at", store_col_number(st, 7));
        cJSON_AddItemToObject(c, "delete_at", store_col_number(st, 8));
        cJSON_AddBoolToObject(c, "held", sqlite3_column_int(st, 9));
        cJSON_AddBoolToObject(c, "restricted", strcmp(store_col(st, 1), "restricted") == 0);
        cJSON_AddNumberToObject(c, "last_activity", (double)sqlite3_column_int64(st, 10));
        cJSON_AddBoolToObject(c, "inactive", open &&
                              now - sqlite3_column_int64(st, 10) > inactive_ms);
        cJSON_AddBoolToObject(c, "due", sqlite3_column_type(st, 8) != SQLITE_NULL &&
                              sqlite3_column_int64(st, 8) <= now);
        cJSON_AddStringToObject(c, "lead", store_col(st, 11) ? store_col(st, 11) : "");
        cJSON_AddItemToArray(cases, c);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n_cache; i++)
        template_free(cache[i].t);
    if (rc != SQLITE_DONE)
        goto fail;
    if (!(part = rows_json(db, "SELECT h.id, h.case_id, h.reason, h.set_by, h.set_at, h.until"
                           " FROM holds h WHERE h.lifted_at IS NULL AND (h.until IS NULL OR"
                           " h.until > ?1) ORDER BY h.set_at, h.id", now, hold_row)))
        goto fail;
    cJSON_AddItemToObject(body, "holds", part);
    if (!(part = rows_json(db, "SELECT id, restricted_at, restricted_by, restricted_reason,"
                           " restricted_from FROM cases WHERE status = 'restricted' AND ?1 = ?1"
                           " ORDER BY restricted_at, id", now, restriction_row)))
        goto fail;
    cJSON_AddItemToObject(body, "restrictions", part);
    if (!(part = rows_json(db, "SELECT id, case_id, reason, requested_by, requested_at FROM"
                           " erasure_requests WHERE status = 'pending' AND ?1 = ?1 ORDER BY"
                           " requested_at, id", now, request_row)))
        goto fail;
    cJSON_AddItemToObject(body, "requests", part);
    if (!(part = rows_json(db, "SELECT case_id, erased_at, how, audit_seq FROM erasures WHERE"
                           " ?1 = ?1 ORDER BY erased_at DESC, case_id", now, erasure_row)))
        goto fail;
    cJSON_AddItemToObject(body, "erasures", part);
    *out = body;
    return 0;
fail:
    cJSON_Delete(body);
    return -1;
}

/* ---- the REST calls ------------------------------------------------------------------- */

/* Answers with the case resource (and its retention) after a change. */
static int answer(sqlite3 *db, store_job *job, const char *id)
{
    cJSON *view;

    if (store_case_view(db, id, 0, &view) != 0 || !view)
        return store_sql_fail(job);
    if (store_retention_add(db, job->in, 1, view) != 0) {
        cJSON_Delete(view);
        return store_sql_fail(job);
    }
    store_answer(job, view);
    return 0;
}

int store_api_retention_settle(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, closed_at FROM cases WHERE status = 'closed' AND"
                               " delete_at IS NULL AND closed_at IS NOT NULL", "");
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char id[64];
        snprintf(id, sizeof id, "%s", store_col(st, 0));
        if (store_retention_schedule(db, job, id, sqlite3_column_int64(st, 1)) != 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_sql_fail(job);
}

int store_api_retention_class(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *name = store_s(job->in, "class");
    char chosen[40];
    int has_chosen, known, rc;
    template_spec *t;
    cJSON *details;

    if (require_lead_or_admin(db, job, id, 1) != 0)
        return -1;
    if (is_admin(job))
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "the case's lead chooses its retention class");
    t = case_template(db, id, chosen, &has_chosen);
    known = t && template_retention_class_named(t, name) != NULL;
    template_free(t);
    if (!t)
        return store_sql_fail(job);
    if (!known)
        return store_refuse(job, STORE_ERR_INVALID, "unknown_class",
                            "the case's template has no retention class of that name");
    if (store_run(store_q(db, "UPDATE cases SET retention_class = ?2 WHERE id = ?1", "ss", id,
                          name)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "class", name);
    rc = store_audit_call(db, job, store_actor_id(job), "case.retention", id, details);
    cJSON_Delete(details);
    return rc != 0 ? -1 : answer(db, job, id);
}

int store_api_case_keep(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");

    if (require_lead_or_admin(db, job, id, 1) != 0)
        return -1;
    if (is_admin(job))
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "the case's lead says whether it is still active");
    if (store_run(store_q(db, "UPDATE cases SET kept_at = ?2 WHERE id = ?1", "si", id,
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    if (store_audit_call(db, job, store_actor_id(job), "case.keep", id, NULL) != 0)
        return -1;
    return answer(db, job, id);
}

static int answer_hold(sqlite3 *db, store_job *job, const char *hold)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, case_id, reason, set_by, set_at, until, lifted_at,"
                               " lifted_by, lift_reason FROM holds WHERE id = ?1", "s", hold);
    cJSON *h;

    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_sql_fail(job);
    }
    h = hold_row(st);
    cJSON_AddItemToObject(h, "lifted_at", store_col_number(st, 6));
    if (store_col(st, 7)) {
        cJSON_AddStringToObject(h, "lifted_by", store_col(st, 7));
        cJSON_AddStringToObject(h, "lift_reason", store_col(st, 8));
    }
    sqlite3_finalize(st);
    store_answer(job, h);
    return 0;
}

int store_api_hold_set(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *hold = store_s(job->in, "hold_id");
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(job->in, "until");
    cJSON *details;
    int rc;

    if (require_lead_or_admin(db, job, id, 0) != 0)
        return -1;
    if (cJSON_IsNumber(until) && until->valuedouble <= (double)store_i(job->in, "now"))
        return store_refuse(job, STORE_ERR_BAD_REQUEST, NULL, "until lies in the past");
    if (store_run(store_q(db, "INSERT INTO holds (id, case_id, reason, set_by, set_at, until)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "ssssi", hold, id,
                          store_s(job->in, "reason"), store_actor_id(job),
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    if (cJSON_IsNumber(until) &&
        store_run(store_q(db, "UPDATE holds SET until = ?2 WHERE id = ?1", "si", hold,
                          (int64_t)until->valuedouble)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "hold", hold);
    cJSON_AddStringToObject(details, "reason", store_s(job->in, "reason"));
    cJSON_AddItemToObject(details, "until", cJSON_IsNumber(until) ?
                          cJSON_CreateNumber(until->valuedouble) : cJSON_CreateNull());
    rc = store_audit_call(db, job, store_actor_id(job), "hold.set", id, details);
    cJSON_Delete(details);
    return rc != 0 ? -1 : answer_hold(db, job, hold);
}

int store_api_hold_lift(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *hold = store_s(job->in, "hold_id");
    int64_t now = store_i(job->in, "now");
    sqlite3_stmt *st;
    cJSON *details;
    int rc;

    if (require_lead_or_admin(db, job, id, 0) != 0)
        return -1;
    st = store_q(db, "SELECT 1 FROM holds h WHERE h.id = ?1 AND h.case_id = ?3 AND "
                 HOLD_STANDS, "sis", hold, now, id);
    rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "hold_not_found",
                            "no such hold standing on the case");
    if (rc != SQLITE_ROW ||
        store_run(store_q(db, "UPDATE holds SET lifted_at = ?2, lifted_by = ?3, lift_reason ="
                          " ?4 WHERE id = ?1", "siss", hold, now, store_actor_id(job),
                          store_s(job->in, "reason"))) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "hold", hold);
    cJSON_AddStringToObject(details, "reason", store_s(job->in, "reason"));
    rc = store_audit_call(db, job, store_actor_id(job), "hold.lift", id, details);
    cJSON_Delete(details);
    return rc != 0 ? -1 : answer_hold(db, job, hold);
}

int store_api_case_restrict(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *reason = store_s(job->in, "reason");
    sqlite3_stmt *st;
    char status[16] = "", running[64];
    cJSON *details, *ended = cJSON_CreateArray();
    int rc;

    if (require_lead_or_admin(db, job, id, 0) != 0) {
        cJSON_Delete(ended);
        return -1;
    }
    st = store_q(db, "SELECT status FROM cases WHERE id = ?1", "s", id);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        snprintf(status, sizeof status, "%s", store_col(st, 0));
    sqlite3_finalize(st);
    if (strcmp(status, "restricted") == 0) {
        cJSON_Delete(ended);
        return store_refuse(job, STORE_ERR_CONFLICT, "case_restricted",
                            "the case is restricted already");
    }
    for (;;) {      /* its running session ends: no client reaches it any more */
        st = store_q(db, "SELECT id FROM sessions WHERE case_id = ?1 AND ended_at IS NULL"
                     " LIMIT 1", "s", id);
        rc = st ? sqlite3_step(st) : SQLITE_ERROR;
        if (rc == SQLITE_ROW)
            snprintf(running, sizeof running, "%s", store_col(st, 0));
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW || store_session_finish(db, job, running, id) != 0) {
            cJSON_Delete(ended);
            return rc != SQLITE_ROW ? store_sql_fail(job) : -1;
        }
        cJSON_AddItemToArray(ended, cJSON_CreateString(running));
    }
    if (store_run(store_q(db, "UPDATE cases SET status = 'restricted', restricted_from = ?2,"
                          " restricted_at = ?3, restricted_by = ?4, restricted_reason = ?5"
                          " WHERE id = ?1", "ssiss", id, status, store_i(job->in, "now"),
                          store_actor_id(job), reason)) != 0) {
        cJSON_Delete(ended);
        return store_sql_fail(job);
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "reason", reason);
    cJSON_AddStringToObject(details, "from", status);
    rc = store_audit_call(db, job, store_actor_id(job), "case.restrict", id, details);
    cJSON_Delete(details);
    if (rc != 0 || answer(db, job, id) != 0) {
        cJSON_Delete(ended);
        return -1;
    }
    cJSON_AddItemToObject(job->out, "ended_sessions", ended);
    return 0;
}

int store_api_case_unrestrict(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    sqlite3_stmt *st;
    char from[16] = "";
    cJSON *details;
    int rc;

    if (require_lead_or_admin(db, job, id, 0) != 0)
        return -1;
    st = store_q(db, "SELECT restricted_from FROM cases WHERE id = ?1 AND status ="
                 " 'restricted'", "s", id);
    rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW)
        snprintf(from, sizeof from, "%s", store_col(st, 0) ? store_col(st, 0) : "closed");
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return store_refuse(job, STORE_ERR_CONFLICT, "not_restricted",
                            "the case is not restricted");
    if (rc != SQLITE_ROW ||
        store_run(store_q(db, "UPDATE cases SET status = ?2, restricted_from = NULL,"
                          " restricted_at = NULL, restricted_by = NULL, restricted_reason ="
                          " NULL WHERE id = ?1", "ss", id, from)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "reason", store_s(job->in, "reason"));
    cJSON_AddStringToObject(details, "to", from);
    rc = store_audit_call(db, job, store_actor_id(job), "case.unrestrict", id, details);
    cJSON_Delete(details);
    return rc != 0 ? -1 : answer(db, job, id);
}

int store_api_officer(sqlite3 *db, store_job *job)
{
    cJSON *out;

    if (!is_admin(job))
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "the retention overview is for admins");
    if (store_retention_officer(db, store_i(job->in, "now"), store_i(job->in, "inactive_ms"),
                                &out) != 0)
        return store_sql_fail(job);
    store_answer(job, out);
    return 0;
}
