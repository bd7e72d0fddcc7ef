/*
 * The reader's SQL: loading a document for a room, reading committed op ranges, and
 * rebuilding the document at a past version or time. Each job runs in one read
 * transaction, so it sees one consistent state of the log however the writer moves on.
 * Rebuilding starts from the latest milestone at or below the target version, so it
 * replays no more ops than lie between two milestones.
 */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_api.h"
#include "store/store_history.h"

/* The op text opened where it is sealed (store_crypt.h). */
#define OP_COLUMNS "v, kind, src, seq, ts, author, konsil_open(op, doc, 'ops', v)"

static int fail(store_job *job, sqlite3 *db, const char *what)
{
    job->status = STORE_FAILED;
    snprintf(job->error, sizeof job->error, "%s: %s", what, db ? sqlite3_errmsg(db) : "");
    return -1;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* Reads one OP_COLUMNS row; the op text is parsed for the caller's transforms. */
static int read_op(sqlite3_stmt *st, store_op *op)
{
    memset(op, 0, sizeof *op);
    op->v = sqlite3_column_int64(st, 0);
    op->kind = (store_op_kind)sqlite3_column_int(st, 1);
    op->seq = sqlite3_column_int64(st, 3);
    op->ts = sqlite3_column_int64(st, 4);
    op->src = column_dup(st, 2);
    op->author = column_dup(st, 5);
    op->op_text = column_dup(st, 6);
    if (!op->src || !op->author)
        return -1;
    if (op->kind != STORE_OP_DEL) {
        if (!op->op_text)
            return -1;
        op->op = cJSON_Parse(op->op_text);
        if (!op->op)
            return -1;
    }
    return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

/* The latest milestone at or below max_v (max_v < 0: the latest of all) into *doc. */
static int load_milestone(sqlite3 *db, const char *id, int64_t max_v, doc_state *doc,
                          store_job *job)
{
    sqlite3_stmt *st = NULL;
    int rc;

    doc_clear(doc);
    if (prepare(db, max_v < 0 ?
                "SELECT v, type, konsil_open(data, doc, 'milestones', v) FROM milestones"
                " WHERE doc=?1 ORDER BY v DESC LIMIT 1" :
                "SELECT v, type, konsil_open(data, doc, 'milestones', v) FROM milestones"
                " WHERE doc=?1 AND v<=?2 "
                "ORDER BY v DESC LIMIT 1", &st) != 0)
        return fail(job, db, "milestone");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (max_v >= 0)
        sqlite3_bind_int64(st, 2, max_v);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        doc->v = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            const char *data = (const char *)sqlite3_column_text(st, 2);
            cJSON *tree = data ? cJSON_Parse(data) : NULL;
            if (!tree) {
                sqlite3_finalize(st);
                return fail(job, NULL, "milestone data is not JSON");
            }
            doc_adopt(doc, doc->v, tree);
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return fail(job, db, "milestone");
    }
    sqlite3_finalize(st);
    return 0;
}

/* What a stored op does to the document. */
static doc_op_kind doc_kind(store_op_kind kind)
{
    switch (kind) {
    case STORE_OP_CREATE: return DOC_OP_CREATE;
    case STORE_OP_DEL: return DOC_OP_DEL;
    default: return DOC_OP_EDIT;
    }
}

/* Applies ops [doc->v, to) (to < 0: all) to *doc; keeps them in job->ops if keep. */
static int replay(sqlite3 *db, const char *id, int64_t to, doc_state *doc, int keep,
                  store_job *job)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    if (prepare(db, "SELECT " OP_COLUMNS " FROM ops WHERE doc=?1 AND v>=?2 AND v<?3 "
                "ORDER BY v", &st) != 0)
        return fail(job, db, "ops");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, doc->v);
    sqlite3_bind_int64(st, 3, to < 0 ? INT64_MAX : to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_op op;
        ot_error oerr = {""};
        int bad = read_op(st, &op) != 0 || op.v != doc->v ||
                  doc_apply(doc, doc_kind(op.kind), op.op, &oerr) != DOC_OK;
        if (bad) {
            store_op_clear(&op);
            sqlite3_finalize(st);
            job->status = STORE_FAILED;
            snprintf(job->error, sizeof job->error, "op log of %s is damaged at v%lld", id,
                     (long long)doc->v);
            return -1;
        }
        if (!keep) {
            store_op_clear(&op);
            continue;
        }
        if (job->n_ops == cap) {
            store_op *grown = realloc(job->ops, (cap ? cap * 2 : 16) * sizeof *grown);
            if (!grown) {
                store_op_clear(&op);
                sqlite3_finalize(st);
                return fail(job, NULL, "out of memory");
            }
            job->ops = grown;
            cap = cap ? cap * 2 : 16;
        }
        job->ops[job->n_ops++] = op;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(job, db, "ops");
}

static int64_t head_version(sqlite3 *db, const char *id, store_job *job)
{
    sqlite3_stmt *st = NULL;
    int64_t head = -1;

    if (prepare(db, "SELECT COALESCE(MAX(v) + 1, 0) FROM ops WHERE doc=?1", &st) != 0) {
        fail(job, db, "head");
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        head = sqlite3_column_int64(st, 0);
    else
        fail(job, db, "head");
    sqlite3_finalize(st);
    return head;
}

static int load_create(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = NULL;
    int rc;

    /* kind 1: STORE_OP_CREATE. Through the partial index of create ops (migration 9):
     * the planner would otherwise walk the document's ops back from the latest, a cost
     * that grows with the history. */
    if (prepare(db, "SELECT v, src, seq, author FROM ops INDEXED BY ops_create "
                "WHERE doc=?1 AND kind=1 ORDER BY v DESC LIMIT 1", &st) != 0)
        return fail(job, db, "create");
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        job->create_v = sqlite3_column_int64(st, 0);
        job->create_src = column_dup(st, 1);
        job->create_seq = sqlite3_column_int64(st, 2);
        job->create_author = column_dup(st, 3);
        if (!job->create_src || !job->create_author)
            rc = SQLITE_NOMEM;
        else
            rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(job, db, "create");
}

static int latest_ts(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = NULL;
    int rc;

    /* The latest op's time is the latest time (times never decrease along versions). */
    if (prepare(db, "SELECT ts FROM ops WHERE doc=?1 ORDER BY v DESC LIMIT 1", &st) != 0)
        return fail(job, db, "latest time");
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    job->ts = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(job, db, "latest time");
}

static int run_load(sqlite3 *db, store_job *job)
{
    if (load_milestone(db, job->doc, -1, &job->state, job) != 0 ||
        replay(db, job->doc, -1, &job->state, 1, job) != 0 || latest_ts(db, job) != 0)
        return -1;
    return load_create(db, job);
}

static int run_read_ops(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (job->with_doc && store_reader_rebuild(db, job->doc, job->from, &job->state, job) != 0)
        return -1;
    job->ops = calloc(job->max_ops ? job->max_ops : 1, sizeof *job->ops);
    if (!job->ops)
        return fail(job, NULL, "out of memory");
    if (prepare(db, "SELECT " OP_COLUMNS " FROM ops WHERE doc=?1 AND v>=?2 AND v<?3 "
                "ORDER BY v LIMIT ?4", &st) != 0)
        return fail(job, db, "ops");
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, job->from);
    sqlite3_bind_int64(st, 3, job->to);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)job->max_ops);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_op *op = &job->ops[job->n_ops];
        if (read_op(st, op) != 0 || op->v != job->from + (int64_t)job->n_ops) {
            store_op_clear(op);
            sqlite3_finalize(st);
            return fail(job, NULL, "op log is damaged");
        }
        job->n_ops++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(job, db, "ops");
}

/* The first version whose op was committed after ts: the document "at time ts". Commit
 * times never decrease along a document's versions, so a binary search over versions
 * finds it (the log has no index on time). */
static int64_t version_at_time(sqlite3 *db, store_job *job, int64_t head)
{
    sqlite3_stmt *st = NULL;
    int64_t lo = 0, hi = head;

    if (prepare(db, "SELECT ts FROM ops WHERE doc=?1 AND v=?2", &st) != 0) {
        fail(job, db, "ops by time");
        return -1;
    }
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_STATIC);
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        sqlite3_bind_int64(st, 2, mid);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            fail(job, NULL, "op log is damaged");
            return -1;
        }
        if (sqlite3_column_int64(st, 0) > job->ts)
            hi = mid;
        else
            lo = mid + 1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return lo;
}

int store_reader_rebuild(sqlite3 *db, const char *id, int64_t v, doc_state *doc,
                         store_job *job)
{
    if (load_milestone(db, id, v, doc, job) != 0 || replay(db, id, v, doc, 0, job) != 0)
        return -1;
    if (doc->v != v) {
        job->status = STORE_FAILED;
        snprintf(job->error, sizeof job->error, "op log of %s is damaged", id);
        return -1;
    }
    return 0;
}

int64_t store_reader_head(sqlite3 *db, const char *id, store_job *job)
{
    return head_version(db, id, job);
}

static int run_snapshot(sqlite3 *db, store_job *job)
{
    int64_t head = head_version(db, job->doc, job), target;

    if (head < 0)
        return -1;
    target = job->by_ts ? version_at_time(db, job, head) : job->has_v ? job->v : head;
    if (target < 0)
        return -1;
    if (target > head) {
        job->status = STORE_NEWER;
        snprintf(job->error, sizeof job->error,
                 "Requested version exceeds latest snapshot version");
        return -1;
    }
    return store_reader_rebuild(db, job->doc, target, &job->state, job);
}

void store_reader_run(store *s, store_job *job)
{
    sqlite3 *db = s->rdb;
    int rc;

    job->status = STORE_OK;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        fail(job, db, "begin");
        return;
    }
    switch (job->kind) {
    case STORE_LOAD:
        rc = store_case_meta(db, job->doc, &job->out);
        if (rc != 0)
            fail(job, db, "case");
        else if (job->out || !job->cases_only)
            rc = run_load(db, job);
        break;
    case STORE_READ_OPS: rc = run_read_ops(db, job); break;
    case STORE_SNAPSHOT:
        rc = store_case_meta(db, job->doc, &job->out);
        if (rc != 0)
            fail(job, db, "case");
        else if ((job->out || !job->cases_only) && (rc = run_snapshot(db, job)) == 0 &&
                 job->out)
            rc = store_case_frame(db, job, job->out);
        break;
    case STORE_CALL: rc = job->call(db, job); break;
    default: rc = fail(job, NULL, "not a read job"); break;
    }
    (void)rc;
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}
