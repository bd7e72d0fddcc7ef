/*
 * The checks of `konsil check` (see store_check.h). The op-log check merges two ordered
 * streams, ops and milestones by (doc, v), replaying each document once.
 */
#include "store/store_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "util/json_util.h"

void store_check_init(store_check_result *r)
{
    memset(r, 0, sizeof *r);
}

void store_check_clear(store_check_result *r)
{
    cJSON_Delete(r->problems);
    memset(r, 0, sizeof *r);
}

static void problem(store_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(store_check_result *r, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    r->n_problems++;
    if (r->n_problems > STORE_CHECK_LISTED)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!r->problems)
        r->problems = cJSON_CreateArray();
    if (r->problems)
        cJSON_AddItemToArray(r->problems, cJSON_CreateString(text));
}

static int sql_fail(sqlite3 *db, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    return -1;
}

int store_check_integrity(sqlite3 *db, store_check_result *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        if (line && strcmp(line, "ok") != 0)
            problem(r, "integrity: %s", line);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, errlen);
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        problem(r, "foreign key: row %lld of %s names a missing row of %s",
                (long long)sqlite3_column_int64(st, 1),
                (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_fail(db, err, errlen);
}

/* The milestone stream: its current row, or done. */
typedef struct ms_cursor {
    sqlite3_stmt *st;
    int row;            /* a row is current */
    const char *doc;    /* valid while row */
    int64_t v;
} ms_cursor;

static int ms_next(ms_cursor *m)
{
    int rc = sqlite3_step(m->st);

    m->row = rc == SQLITE_ROW;
    if (m->row) {
        m->doc = (const char *)sqlite3_column_text(m->st, 0);
        m->v = sqlite3_column_int64(m->st, 1);
        if (!m->doc)
            m->doc = "";
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* One document being replayed. */
typedef struct doc_check {
    char *id;
    doc_state state;
    int broken;         /* replay stopped: a gap or an op that does not apply */
    int unopened;       /* replay stopped: sealed contents that could not be opened */
    int64_t next_v;     /* the version the next op must have */
    int64_t last_ts;
} doc_check;

/* Compares the current milestone (of d, at d's version) with the replayed document. */
static void compare_milestone(store_check_result *r, doc_check *d, ms_cursor *m)
{
    const char *type = (const char *)sqlite3_column_text(m->st, 2);
    const char *data = (const char *)sqlite3_column_text(m->st, 3);
    cJSON *stored;

    r->milestones++;
    if (d->broken || d->unopened)
        return;
    if (!type) {
        if (d->state.exists)
            problem(r, "milestone %s v%lld says the document does not exist; its ops made it",
                    d->id, (long long)m->v);
        return;
    }
    if (!d->state.exists) {
        problem(r, "milestone %s v%lld holds a document its ops deleted or never created",
                d->id, (long long)m->v);
        return;
    }
    if (!data && sqlite3_column_int(m->st, 4))     /* sealed and not opened */
        return;
    stored = data ? cJSON_Parse(data) : NULL;
    if (!stored)
        problem(r, "milestone %s v%lld is not JSON", d->id, (long long)m->v);
    else if (!json_equal(stored, d->state.data))
        problem(r, "milestone %s v%lld differs from the document its ops rebuild", d->id,
                (long long)m->v);
    cJSON_Delete(stored);
}

/* Takes the milestones of d up to its current version: compared at equal versions. */
static int milestones_upto(store_check_result *r, doc_check *d, ms_cursor *m)
{
    while (m->row && strcmp(m->doc, d->id) == 0 && m->v <= d->state.v) {
        if (m->v == d->state.v)
            compare_milestone(r, d, m);
        else if (!d->broken && !d->unopened) {
            r->milestones++;
            problem(r, "milestone %s v%lld was passed by the replay", d->id, (long long)m->v);
        } else
            r->milestones++;
        if (ms_next(m) != 0)
            return -1;
    }
    return 0;
}

/* Milestones of documents before `doc` in order, which have no ops. */
static int milestones_orphaned(store_check_result *r, ms_cursor *m, const char *doc)
{
    while (m->row && (!doc || strcmp(m->doc, doc) < 0)) {
        r->milestones++;
        problem(r, "milestone %s v%lld belongs to a document without ops", m->doc,
                (long long)m->v);
        if (ms_next(m) != 0)
            return -1;
    }
    return 0;
}

/* Ends d: its remaining milestones lie beyond its last op. */
static int doc_end(store_check_result *r, doc_check *d, ms_cursor *m)
{
    int rc = 0;

    if (!d->id)
        return 0;
    if (!d->broken && !d->unopened)
        rc = milestones_upto(r, d, m);
    while (rc == 0 && m->row && strcmp(m->doc, d->id) == 0) {
        r->milestones++;
        if (!d->broken && !d->unopened)
            problem(r, "milestone %s v%lld lies beyond the last op (v%lld)", d->id,
                    (long long)m->v, (long long)(d->next_v - 1));
        rc = ms_next(m);
    }
    free(d->id);
    doc_clear(&d->state);
    memset(d, 0, sizeof *d);
    return rc;
}

static doc_op_kind kind_of(int kind)
{
    return kind == 1 ? DOC_OP_CREATE : kind == 2 ? DOC_OP_DEL : DOC_OP_EDIT;
}

/* One op of d: its version, time, and what it does to the document. */
static int doc_op(store_check_result *r, doc_check *d, ms_cursor *m, sqlite3_stmt *st)
{
    int64_t v = sqlite3_column_int64(st, 1), ts = sqlite3_column_int64(st, 3);
    int kind = sqlite3_column_int(st, 2);
    const char *text = (const char *)sqlite3_column_text(st, 4);
    cJSON *payload = NULL;
    ot_error oerr = {""};

    r->ops++;
    if (v != d->next_v && !d->broken && d->next_v == 0)
        problem(r, "op log of %s starts at v%lld, not at v0", d->id, (long long)v);
    else if (v != d->next_v && !d->broken)
        problem(r, "op log of %s: v%lld follows v%lld (a gap)", d->id, (long long)v,
                (long long)(d->next_v - 1));
    if (v != d->next_v)
        d->broken = 1;
    d->next_v = v + 1;
    if (ts < d->last_ts && !d->broken)
        problem(r, "op log of %s: v%lld is older than the op before it", d->id, (long long)v);
    d->last_ts = ts;
    if (d->broken || d->unopened)
        return 0;
    if (milestones_upto(r, d, m) != 0)
        return -1;
    if (kind != 2 && !text && sqlite3_column_int(st, 5)) {    /* sealed and not opened */
        d->unopened = 1;
        r->unopened++;
        return 0;
    }
    if (kind < 0 || kind > 2) {
        problem(r, "op log of %s: v%lld has an unknown kind %d", d->id, (long long)v, kind);
        d->broken = 1;
        return 0;
    }
    if (kind != 2 && !(payload = text ? cJSON_Parse(text) : NULL)) {
        problem(r, "op log of %s: v%lld is not JSON", d->id, (long long)v);
        d->broken = 1;
        return 0;
    }
    if (doc_apply(&d->state, kind_of(kind), payload, &oerr) != DOC_OK) {
        problem(r, "op log of %s: v%lld does not apply to the document before it%s%s", d->id,
                (long long)v, oerr.message[0] ? ": " : "", oerr.message);
        d->broken = 1;
    }
    cJSON_Delete(payload);
    return 0;
}

/* The op and milestone texts as each way of reading them gives them, and whether each
 * is sealed. A sealed record that cannot be opened reads as NULL. */
static const char *const op_sql[] = {
    [STORE_CHECK_PLAIN] = "SELECT doc, v, kind, ts, op, 0 FROM ops ORDER BY doc, v",
    [STORE_CHECK_OPEN] = "SELECT doc, v, kind, ts, CASE WHEN typeof(op) = 'blob' AND "
                         "konsil_has_key(doc) IS NOT 1 THEN NULL ELSE konsil_open(op, doc, "
                         "'ops', v) END, typeof(op) = 'blob' FROM ops ORDER BY doc, v",
    [STORE_CHECK_SKIP] = "SELECT doc, v, kind, ts, CASE WHEN typeof(op) = 'blob' THEN NULL "
                         "ELSE op END, typeof(op) = 'blob' FROM ops ORDER BY doc, v",
};
static const char *const ms_sql[] = {
    [STORE_CHECK_PLAIN] = "SELECT doc, v, type, data, 0 FROM milestones ORDER BY doc, v",
    [STORE_CHECK_OPEN] = "SELECT doc, v, type, CASE WHEN typeof(data) = 'blob' AND "
                         "konsil_has_key(doc) IS NOT 1 THEN NULL ELSE konsil_open(data, doc, "
                         "'milestones', v) END, typeof(data) = 'blob' FROM milestones ORDER "
                         "BY doc, v",
    [STORE_CHECK_SKIP] = "SELECT doc, v, type, CASE WHEN typeof(data) = 'blob' THEN NULL "
                         "ELSE data END, typeof(data) = 'blob' FROM milestones ORDER BY doc, v",
};

int store_check_oplog(sqlite3 *db, store_check_sealed how, store_check_result *r, char *err,
                      size_t errlen)
{
    sqlite3_stmt *ops = NULL;
    ms_cursor m = {0};
    doc_check d;
    int rc, fail = 0;

    memset(&d, 0, sizeof d);
    if (sqlite3_prepare_v2(db, op_sql[how], -1, &ops, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ms_sql[how], -1, &m.st, NULL) != SQLITE_OK || ms_next(&m) != 0) {
        sqlite3_finalize(ops);
        sqlite3_finalize(m.st);
        return sql_fail(db, err, errlen);
    }
    while (!fail && (rc = sqlite3_step(ops)) == SQLITE_ROW) {
        const char *doc = (const char *)sqlite3_column_text(ops, 0);
        if (!doc)
            doc = "";
        if (!d.id || strcmp(d.id, doc) != 0) {
            if (doc_end(r, &d, &m) != 0 || milestones_orphaned(r, &m, doc) != 0) {
                fail = 1;
                break;
            }
            d.id = strdup(doc);
            doc_init(&d.state);
            if (!d.id) {
                snprintf(err, errlen, "out of memory");
                sqlite3_finalize(ops);
                sqlite3_finalize(m.st);
                return -1;
            }
            r->documents++;
        }
        if (doc_op(r, &d, &m, ops) != 0)
            fail = 1;
    }
    if (!fail && rc != SQLITE_DONE)
        fail = 1;
    if (!fail && (doc_end(r, &d, &m) != 0 || milestones_orphaned(r, &m, NULL) != 0))
        fail = 1;
    if (fail)
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    doc_end(r, &d, &m);
    sqlite3_finalize(ops);
    sqlite3_finalize(m.st);
    return fail ? -1 : 0;
}
