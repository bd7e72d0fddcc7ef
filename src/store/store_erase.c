/*
 * Erasure (see store_erase.h).
 */
#include "store/store_erase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_audit.h"
#include "store/store_crypt.h"
#include "store/store_sql.h"

int store_erase_blocked(sqlite3 *db, const char *case_id, int64_t now)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.status = 'restricted', EXISTS (SELECT 1 FROM holds"
                               " h WHERE h.case_id = c.id AND h.lifted_at IS NULL AND (h.until"
                               " IS NULL OR h.until > ?2)) FROM cases c WHERE c.id = ?1", "si",
                               case_id, now);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR, why;

    why = rc == SQLITE_ROW ? (sqlite3_column_int(st, 1) ? 1 : sqlite3_column_int(st, 0) ? 2 : 0)
          : rc == SQLITE_DONE ? 3 : -1;
    sqlite3_finalize(st);
    return why;
}

/* The ids a query on ?1 = case_id returns, as a JSON array; NULL on an SQL error. */
static cJSON *ids_of(sqlite3 *db, const char *sql, const char *case_id)
{
    return store_strings(store_q(db, sql, "s", case_id));
}

static int64_t count_of(sqlite3 *db, const char *sql, const char *case_id)
{
    sqlite3_stmt *st = store_q(db, sql, "s", case_id);
    int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;

    sqlite3_finalize(st);
    return n;
}

int store_erase_case(sqlite3 *db, const char *case_id, const char *how, const char *actor,
                     int64_t now, const cJSON *details, cJSON **out, char *err, size_t errlen)
{
    /* Children first (foreign keys); every statement binds the case id as ?1. */
    static const char *const deletes[] = {
        "DELETE FROM logins WHERE kind = 'client' AND (session IN (SELECT id FROM sessions"
        " WHERE case_id = ?1) OR principal IN (SELECT c.id FROM clients c JOIN sessions s ON"
        " s.id = c.session WHERE s.case_id = ?1))",
        "DELETE FROM links WHERE session IN (SELECT id FROM sessions WHERE case_id = ?1)",
        "DELETE FROM clients WHERE session IN (SELECT id FROM sessions WHERE case_id = ?1)",
        "DELETE FROM grants WHERE case_id = ?1",
        "DELETE FROM team WHERE case_id = ?1",
        "DELETE FROM holds WHERE case_id = ?1",
        "DELETE FROM erasure_requests WHERE case_id = ?1",
        "DELETE FROM sessions WHERE case_id = ?1",
        "DELETE FROM ops WHERE doc = ?1",
        "DELETE FROM milestones WHERE doc = ?1",
        "DELETE FROM cases WHERE id = ?1",
    };
    cJSON *sessions, *clients, *entry = NULL;
    char digest[AUDIT_HASH_LEN + 1];
    int64_t ops, seq = 0, emptied = 0;
    int rc = -1;

    sessions = ids_of(db, "SELECT id FROM sessions WHERE case_id = ?1 ORDER BY started_at, id",
                      case_id);
    clients = ids_of(db, "SELECT c.id FROM clients c JOIN sessions s ON s.id = c.session WHERE"
                     " s.case_id = ?1 ORDER BY c.id", case_id);
    ops = count_of(db, "SELECT COUNT(*) FROM ops WHERE doc = ?1", case_id);
    if (!sessions || !clients || ops < 0)
        goto sqlfail;
    /* The key goes first and durably: from here on no copy of the database can be read
     * for this case, whatever happens to the rest of the transaction. */
    if (store_crypt_key_destroy(db, case_id) != 0)
        goto sqlfail;
    for (size_t i = 0; i < sizeof deletes / sizeof deletes[0]; i++)
        if (store_run(store_q(db, deletes[i], "s", case_id)) != 0)
            goto sqlfail;
    if (store_audit_empty(db, case_id, clients, &seq, &emptied, digest, err, errlen) != 0)
        goto out;
    entry = details ? cJSON_Duplicate(details, 1) : cJSON_CreateObject();
    if (!entry) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    cJSON_AddStringToObject(entry, "how", how);
    cJSON_AddNumberToObject(entry, "ops", (double)ops);
    cJSON_AddNumberToObject(entry, "sessions", cJSON_GetArraySize(sessions));
    cJSON_AddNumberToObject(entry, "clients", cJSON_GetArraySize(clients));
    cJSON_AddNumberToObject(entry, "emptied", (double)emptied);
    cJSON_AddStringToObject(entry, "emptied_digest", digest);
    if (store_audit_append(db, now, actor, AUDIT_ERASE_ACTION, case_id, entry, err,
                           errlen) != 0)
        goto out;
    if (store_run(store_q(db, "INSERT INTO erasures (case_id, erased_at, how, audit_seq) VALUES"
                          " (?1, ?2, ?3, ?4)", "sisi", case_id, now, how, seq)) != 0)
        goto sqlfail;
    if (out) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "case_id", case_id);
        cJSON_AddNumberToObject(*out, "erased_at", (double)now);
        cJSON_AddStringToObject(*out, "how", how);
        cJSON_AddNumberToObject(*out, "audit_seq", (double)seq);
        cJSON_AddItemToObject(*out, "sessions", sessions);
        cJSON_AddItemToObject(*out, "clients", clients);
        sessions = clients = NULL;
    }
    rc = 0;
    goto out;
sqlfail:
    snprintf(err, errlen, "erasure: %s", sqlite3_errmsg(db));
out:
    cJSON_Delete(entry);
    cJSON_Delete(sessions);
    cJSON_Delete(clients);
    return rc;
}

int store_erase_checkpoint(const char *path, int tries, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "checkpoint: %s", db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 50);
    for (int i = 0; i < tries && rc != 0; i++) {
        int log = -1, done = -1;
        /* TRUNCATE waits (busy timeout) for readers to leave the WAL, copies every page
         * back and cuts the WAL to nothing; a reader still in it makes it SQLITE_BUSY. */
        if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) ==
            SQLITE_OK)
            rc = 0;
        else {
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (rc != 0)
        snprintf(err, errlen, "checkpoint: readers kept the WAL busy (%s)", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* ---- the REST calls ------------------------------------------------------------------- */

static int is_admin(const store_job *job)
{
    const char *role = store_s(store_actor(job), "role");
    return role && strcmp(role, "admin") == 0 && !store_s(store_actor(job), "session");
}

/* Refuses unless the actor is the case's lead or an admin (NOT_FOUND for strangers,
 * FORBIDDEN for other members). 0 when it may. */
static int require_lead_or_admin(sqlite3 *db, store_job *job, const char *case_id)
{
    char role[16];
    int m;

    if (count_of(db, "SELECT COUNT(*) FROM cases WHERE id = ?1", case_id) != 1)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (is_admin(job))
        return 0;
    if (store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    m = store_team_role(db, case_id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (strcmp(role, "lead") != 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "only the case's lead or an admin may do this");
    return 0;
}

/* Refuses a held or restricted case. 0 when it may be erased. */
static int refuse_blocked(sqlite3 *db, store_job *job, const char *case_id)
{
    switch (store_erase_blocked(db, case_id, store_i(job->in, "now"))) {
    case 0: return 0;
    case 1: return store_refuse(job, STORE_ERR_CONFLICT, "case_held",
                                "a legal hold stands on the case: it is not erased");
    case 2: return store_refuse(job, STORE_ERR_CONFLICT, "case_restricted",
                                "the case is restricted: lift the restriction first");
    case 3: return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    default: return store_sql_fail(job);
    }
}

static cJSON *request_json(sqlite3_stmt *st)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddStringToObject(r, "id", store_col(st, 0));
    cJSON_AddStringToObject(r, "case_id", store_col(st, 1));
    cJSON_AddStringToObject(r, "reason", store_col(st, 2));
    cJSON_AddStringToObject(r, "requested_by", store_col(st, 3));
    cJSON_AddNumberToObject(r, "requested_at", (double)sqlite3_column_int64(st, 4));
    cJSON_AddStringToObject(r, "status", store_col(st, 5));
    return r;
}

#define REQUEST_COLUMNS "id, case_id, reason, requested_by, requested_at, status"

int store_api_erasure_request(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *request = store_s(job->in, "request_id");
    const char *reason = store_s(job->in, "reason");
    sqlite3_stmt *st;
    cJSON *details;
    int rc;

    if (require_lead_or_admin(db, job, id) != 0 || refuse_blocked(db, job, id) != 0)
        return -1;
    if (count_of(db, "SELECT COUNT(*) FROM erasure_requests WHERE case_id = ?1 AND status ="
                 " 'pending'", id) != 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "erasure_pending",
                            "an erasure of the case waits for its confirmation already");
    if (store_run(store_q(db, "INSERT INTO erasure_requests (id, case_id, reason, requested_by,"
                          " requested_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
                          "ssssi", request, id, reason, store_actor_id(job),
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "request", request);
    cJSON_AddStringToObject(details, "reason", reason);
    rc = store_audit_call(db, job, store_actor_id(job), "case.erase.request", id, details);
    cJSON_Delete(details);
    if (rc != 0)
        return -1;
    st = store_q(db, "SELECT " REQUEST_COLUMNS " FROM erasure_requests WHERE id = ?1", "s",
                 request);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_sql_fail(job);
    }
    store_answer(job, request_json(st));
    sqlite3_finalize(st);
    return 0;
}

/* The pending request request_id of case id: its requester and reason copied out. 0, or
 * -1 refused. */
static int pending_request(sqlite3 *db, store_job *job, const char *id, const char *request,
                           char requester[64], char **reason)
{
    sqlite3_stmt *st = store_q(db, "SELECT requested_by, reason FROM erasure_requests WHERE"
                               " id = ?1 AND case_id = ?2 AND status = 'pending'", "ss",
                               request, id);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    if (rc == SQLITE_ROW) {
        snprintf(requester, 64, "%s", store_col(st, 0));
        *reason = strdup(store_col(st, 1));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "request_not_found",
                            "no such erasure request waiting for confirmation");
    if (rc != SQLITE_ROW || !*reason)
        return store_sql_fail(job);
    return 0;
}

int store_api_erasure_confirm(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *request = store_s(job->in, "request_id");
    const char *me = store_actor_id(job);
    char requester[64], role[16], err[200] = "";
    char *reason = NULL;
    cJSON *details, *out = NULL;
    int m, rc;

    if (count_of(db, "SELECT COUNT(*) FROM cases WHERE id = ?1", id) != 1 ||
        store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    m = is_admin(job) ? 1 : store_team_role(db, id, me, role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (!is_admin(job) && strcmp(role, "supervisor") == 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, "an erasure is confirmed by a "
                            "counsellor of the case's team or an admin");
    if (pending_request(db, job, id, request, requester, &reason) != 0)
        return -1;
    if (strcmp(requester, me) == 0) {
        free(reason);
        return store_refuse(job, STORE_ERR_FORBIDDEN, "second_person_needed", "a second "
                            "staff member confirms an erasure, not the one who asked for it");
    }
    if (refuse_blocked(db, job, id) != 0) {
        free(reason);
        return -1;
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "request", request);
    cJSON_AddStringToObject(details, "requested_by", requester);
    cJSON_AddStringToObject(details, "confirmed_by", me);
    cJSON_AddStringToObject(details, "reason", reason);
    free(reason);
    rc = store_erase_case(db, id, "request", me, store_i(job->in, "now"), details, &out, err,
                          sizeof err);
    cJSON_Delete(details);
    if (rc != 0) {
        snprintf(job->error, sizeof job->error, "%.150s", err);
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the case could not be erased");
    }
    store_answer(job, out);
    return 0;
}

int store_api_erasure_cancel(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *request = store_s(job->in, "request_id");
    char requester[64];
    char *reason = NULL;
    cJSON *details;
    int rc;

    if (count_of(db, "SELECT COUNT(*) FROM cases WHERE id = ?1", id) != 1)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (pending_request(db, job, id, request, requester, &reason) != 0)
        return -1;
    free(reason);
    if (strcmp(requester, store_actor_id(job)) != 0 && require_lead_or_admin(db, job, id) != 0)
        return -1;
    if (store_run(store_q(db, "UPDATE erasure_requests SET status = 'cancelled', decided_by ="
                          " ?2, decided_at = ?3 WHERE id = ?1", "ssi", request,
                          store_actor_id(job), store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "request", request);
    rc = store_audit_call(db, job, store_actor_id(job), "case.erase.cancel", id, details);
    cJSON_Delete(details);
    return rc;
}

/* Closed, past its deletion date, no standing hold, not restricted. */
#define DUE_SQL \
    "SELECT c.id FROM cases c WHERE c.status = 'closed' AND c.delete_at IS NOT NULL AND" \
    " c.delete_at <= ?1 AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.case_id = c.id AND" \
    " h.lifted_at IS NULL AND (h.until IS NULL OR h.until > ?1))"
/* Sealed data whose key is gone (konsil_has_key is NULL without a key store). */
#define KEY_DESTROYED_SQL \
    "SELECT c.id FROM cases c WHERE konsil_has_key(c.id) = 0 AND (SELECT typeof(o.op) FROM" \
    " ops o WHERE o.doc = c.id ORDER BY o.v LIMIT 1) = 'blob'"

static cJSON *list_of(sqlite3 *db, const char *sql, int64_t now)
{
    return store_strings(store_q(db, sql, "i", now));
}

int store_api_erase_due_list(sqlite3 *db, store_job *job)
{
    int64_t now = store_i(job->in, "now");
    cJSON *due = list_of(db, DUE_SQL " ORDER BY c.delete_at, c.id", now);
    cJSON *gone = list_of(db, KEY_DESTROYED_SQL " AND ?1 = ?1 ORDER BY c.id", now);
    cJSON *out;

    if (!due || !gone) {
        cJSON_Delete(due);
        cJSON_Delete(gone);
        return store_sql_fail(job);
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "due", due);
    cJSON_AddItemToObject(out, "key_destroyed", gone);
    store_answer(job, out);
    return 0;
}

int store_api_erase_due(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id"), *how = store_s(job->in, "how");
    int64_t now = store_i(job->in, "now");
    int key_destroyed = how && strcmp(how, "key_destroyed") == 0;
    sqlite3_stmt *st = store_q(db, key_destroyed ? KEY_DESTROYED_SQL " AND c.id = ?2 AND"
                               " ?1 = ?1" : DUE_SQL " AND c.id = ?2", "is", now, id);
    char err[200] = "";
    cJSON *out = NULL;
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        store_answer(job, cJSON_CreateNull());
        return 0;
    }
    if (rc != SQLITE_ROW)
        return store_sql_fail(job);
    if (store_erase_case(db, id, key_destroyed ? "key_destroyed" : "due",
                         store_s(store_actor(job), "id") ? store_actor_id(job) : "konsil", now,
                         NULL, &out, err, sizeof err) != 0) {
        snprintf(job->error, sizeof job->error, "%.150s", err);
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the case could not be erased");
    }
    store_answer(job, out);
    return 0;
}

int store_api_erasures_since(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT case_id, erased_at, how FROM erasures WHERE"
                               " erased_at >= ?1 ORDER BY erased_at, case_id", "i",
                               store_i(job->in, "since"));
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "erasures");
    int rc = SQLITE_ERROR;

    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "case_id", store_col(st, 0));
        cJSON_AddNumberToObject(e, "erased_at", (double)sqlite3_column_int64(st, 1));
        cJSON_AddStringToObject(e, "how", store_col(st, 2));
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

int store_api_erase_purge(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");

    if (count_of(db, "SELECT COUNT(*) FROM erasures WHERE case_id = ?1", id) != 1)
        return 0;   /* not erased: nothing of it is purged */
    if (store_crypt_keys_reload(db) != 0 ||
        store_crypt_key_destroy(db, id) != 0 ||
        store_run(store_q(db, "DELETE FROM ops WHERE doc = ?1", "s", id)) != 0 ||
        store_run(store_q(db, "DELETE FROM milestones WHERE doc = ?1", "s", id)) != 0)
        return store_sql_fail(job);
    return 0;
}

int store_api_checkpoint(sqlite3 *db, store_job *job)
{
    char err[200];
    const char *path = sqlite3_db_filename(db, "main");

    if (!path || store_erase_checkpoint(path, 100, err, sizeof err) != 0) {
        snprintf(job->error, sizeof job->error, "%.150s", path ? err : "no database file");
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the WAL could not be truncated");
    }
    return 0;
}
