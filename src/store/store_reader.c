/*
 * The reader's SQL, on the database layer (SQLite or PostgreSQL): loading a document for a
 * room, reading committed op ranges, and rebuilding the document at a past version or
 * time. Each job runs in one read transaction, so it sees one consistent state of the log
 * however the writer (or another node) moves on. Rebuilding starts from the latest
 * milestone at or below the target version, so it replays no more ops than lie between
 * two milestones.
 * Sealed columns are opened by konsil_open on SQLite (store_crypt.h); on PostgreSQL they
 * are stored as they are (BYTEA). Either way they are read as bytes.
 */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_sqlite.h"
#include "store/store_api.h"
#include "store/store_history.h"

/* The two forms of each statement that reads a sealed column: SQLite's opens it. */
#define OP_COLUMNS(opcol) "SELECT v, kind, src, seq, ts, author, " opcol " FROM ops"
#define OP_SQLITE "konsil_open(op, doc, 'ops', v)"
#define MS_COLUMNS(datacol) "SELECT v, type, " datacol " FROM milestones"
#define MS_SQLITE "konsil_open(data, doc, 'milestones', v)"
#define OPS_RANGE " WHERE doc=?1 AND v>=?2 AND v<?3 ORDER BY v"
#define MS_LATEST " WHERE doc=?1 ORDER BY v DESC LIMIT 1"
#define MS_AT_MOST " WHERE doc=?1 AND v<=?2 ORDER BY v DESC LIMIT 1"

static int is_pg(db *d)
{
    return db_backend_of(d) == DB_POSTGRES;
}

static int fail(store_job *job, db *d, const char *what)
{
    job->status = STORE_FAILED;
    snprintf(job->error, sizeof job->error, "%s: %s", what, d ? db_errmsg(d) : "");
    return -1;
}

static char *column_dup(db_stmt *st, int col)
{
    const char *t = db_column_text(st, col);
    return t ? strdup(t) : NULL;
}

/* A sealed column's bytes as a string (NULL for SQL null or no memory). */
static char *column_case_text(db_stmt *st, int col)
{
    size_t len = 0;
    const void *b = db_column_blob(st, col, &len);
    char *t;

    if (!b && db_column_is_null(st, col))
        return NULL;
    t = malloc(len + 1);
    if (!t)
        return NULL;
    if (len)
        memcpy(t, b, len);
    t[len] = '\0';
    return t;
}

/* Reads one OP_COLUMNS row; the op text is parsed for the caller's transforms. */
static int read_op(db_stmt *st, store_op *op)
{
    memset(op, 0, sizeof *op);
    op->v = db_column_int64(st, 0);
    op->kind = (store_op_kind)db_column_int64(st, 1);
    op->seq = db_column_int64(st, 3);
    op->ts = db_column_int64(st, 4);
    op->src = column_dup(st, 2);
    op->author = column_dup(st, 5);
    op->op_text = column_case_text(st, 6);
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

static int prepare(db *d, const char *sql, db_stmt **st)
{
    return db_prepare(d, sql, st) == DB_OK ? 0 : -1;
}

/* The latest milestone at or below max_v (max_v < 0: the latest of all) into *doc. */
static int load_milestone(db *d, const char *id, int64_t max_v, doc_state *doc,
                          store_job *job)
{
    static const char *const sql[2][2] = {
        {MS_COLUMNS(MS_SQLITE) MS_LATEST, MS_COLUMNS(MS_SQLITE) MS_AT_MOST},
        {MS_COLUMNS("data") MS_LATEST, MS_COLUMNS("data") MS_AT_MOST},
    };
    db_stmt *st = NULL;
    int rc;

    doc_clear(doc);
    if (prepare(d, sql[is_pg(d)][max_v >= 0], &st) != 0)
        return fail(job, d, "milestone");
    db_bind_text(st, 1, id);
    if (max_v >= 0)
        db_bind_int64(st, 2, max_v);
    rc = db_step(st);
    if (rc == DB_ROW) {
        doc->v = db_column_int64(st, 0);
        if (!db_column_is_null(st, 1)) {
            char *data = column_case_text(st, 2);
            cJSON *tree = data ? cJSON_Parse(data) : NULL;
            free(data);
            if (!tree) {
                db_finalize(st);
                return fail(job, NULL, "milestone data is not JSON");
            }
            doc_adopt(doc, doc->v, tree);
        }
    } else if (rc != DB_DONE) {
        db_finalize(st);
        return fail(job, d, "milestone");
    }
    db_finalize(st);
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
static int replay(db *d, const char *id, int64_t to, doc_state *doc, int keep,
                  store_job *job)
{
    static const char *const sql[2] = {OP_COLUMNS(OP_SQLITE) OPS_RANGE,
                                       OP_COLUMNS("op") OPS_RANGE};
    db_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    if (prepare(d, sql[is_pg(d)], &st) != 0)
        return fail(job, d, "ops");
    db_bind_text(st, 1, id);
    db_bind_int64(st, 2, doc->v);
    db_bind_int64(st, 3, to < 0 ? INT64_MAX : to);
    while ((rc = db_step(st)) == DB_ROW) {
        store_op op;
        ot_error oerr = {""};
        int bad = read_op(st, &op) != 0 || op.v != doc->v ||
                  doc_apply(doc, doc_kind(op.kind), op.op, &oerr) != DOC_OK;
        if (bad) {
            store_op_clear(&op);
            db_finalize(st);
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
                db_finalize(st);
                return fail(job, NULL, "out of memory");
            }
            job->ops = grown;
            cap = cap ? cap * 2 : 16;
        }
        job->ops[job->n_ops++] = op;
    }
    db_finalize(st);
    return rc == DB_DONE ? 0 : fail(job, d, "ops");
}

static int64_t head_version(db *d, const char *id, store_job *job)
{
    db_stmt *st = NULL;
    int64_t head = -1;

    if (prepare(d, "SELECT COALESCE(MAX(v) + 1, 0) FROM ops WHERE doc=?1", &st) != 0) {
        fail(job, d, "head");
        return -1;
    }
    db_bind_text(st, 1, id);
    if (db_step(st) == DB_ROW)
        head = db_column_int64(st, 0);
    else
        fail(job, d, "head");
    db_finalize(st);
    return head;
}

static int load_create(db *d, store_job *job)
{
    db_stmt *st = NULL;
    int rc;

    /* kind 1: STORE_OP_CREATE. Through the partial index of create ops (migration 9):
     * the planner would otherwise walk the document's ops back from the latest, a cost
     * that grows with the history. SQLite is told to use it; PostgreSQL's planner takes a
     * partial index whose predicate the query implies by itself. */
    if (prepare(d, db_backend_of(d) == DB_SQLITE
                       ? "SELECT v, src, seq, author FROM ops INDEXED BY ops_create "
                         "WHERE doc=?1 AND kind=1 ORDER BY v DESC LIMIT 1"
                       : "SELECT v, src, seq, author FROM ops WHERE doc=?1 AND kind=1 "
                         "ORDER BY v DESC LIMIT 1",
                &st) != 0)
        return fail(job, d, "create");
    db_bind_text(st, 1, job->doc);
    rc = db_step(st);
    if (rc == DB_ROW) {
        job->create_v = db_column_int64(st, 0);
        job->create_src = column_dup(st, 1);
        job->create_seq = db_column_int64(st, 2);
        job->create_author = column_dup(st, 3);
        db_finalize(st);
        return job->create_src && job->create_author ? 0 : fail(job, NULL, "out of memory");
    }
    db_finalize(st);
    return rc == DB_DONE ? 0 : fail(job, d, "create");
}

static int latest_ts(db *d, store_job *job)
{
    db_stmt *st = NULL;
    int rc;

    /* The latest op's time is the latest time (times never decrease along versions). */
    if (prepare(d, "SELECT ts FROM ops WHERE doc=?1 ORDER BY v DESC LIMIT 1", &st) != 0)
        return fail(job, d, "latest time");
    db_bind_text(st, 1, job->doc);
    rc = db_step(st);
    job->ts = rc == DB_ROW ? db_column_int64(st, 0) : 0;
    db_finalize(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : fail(job, d, "latest time");
}

static int run_load(db *d, store_job *job)
{
    if (load_milestone(d, job->doc, -1, &job->state, job) != 0 ||
        replay(d, job->doc, -1, &job->state, 1, job) != 0 || latest_ts(d, job) != 0)
        return -1;
    return load_create(d, job);
}

static int rebuild(db *d, const char *id, int64_t v, doc_state *doc, store_job *job);

static int run_read_ops(db *d, store_job *job)
{
    static const char *const sql[2] = {OP_COLUMNS(OP_SQLITE) OPS_RANGE " LIMIT ?4",
                                       OP_COLUMNS("op") OPS_RANGE " LIMIT ?4"};
    db_stmt *st = NULL;
    int rc;

    if (job->with_doc && rebuild(d, job->doc, job->from, &job->state, job) != 0)
        return -1;
    job->ops = calloc(job->max_ops ? job->max_ops : 1, sizeof *job->ops);
    if (!job->ops)
        return fail(job, NULL, "out of memory");
    if (prepare(d, sql[is_pg(d)], &st) != 0)
        return fail(job, d, "ops");
    db_bind_text(st, 1, job->doc);
    db_bind_int64(st, 2, job->from);
    db_bind_int64(st, 3, job->to);
    db_bind_int64(st, 4, (int64_t)job->max_ops);
    while ((rc = db_step(st)) == DB_ROW) {
        store_op *op = &job->ops[job->n_ops];
        if (read_op(st, op) != 0 || op->v != job->from + (int64_t)job->n_ops) {
            store_op_clear(op);
            db_finalize(st);
            return fail(job, NULL, "op log is damaged");
        }
        job->n_ops++;
    }
    db_finalize(st);
    return rc == DB_DONE ? 0 : fail(job, d, "ops");
}

/* The first version whose op was committed after ts: the document "at time ts". Commit
 * times never decrease along a document's versions, so a binary search over versions
 * finds it (the log has no index on time). */
static int64_t version_at_time(db *d, store_job *job, int64_t head)
{
    db_stmt *st = NULL;
    int64_t lo = 0, hi = head;

    if (prepare(d, "SELECT ts FROM ops WHERE doc=?1 AND v=?2", &st) != 0) {
        fail(job, d, "ops by time");
        return -1;
    }
    db_bind_text(st, 1, job->doc);
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        db_bind_int64(st, 2, mid);
        if (db_step(st) != DB_ROW) {
            db_finalize(st);
            fail(job, NULL, "op log is damaged");
            return -1;
        }
        if (db_column_int64(st, 0) > job->ts)
            hi = mid;
        else
            lo = mid + 1;
        db_reset(st);
    }
    db_finalize(st);
    return lo;
}

static int rebuild(db *d, const char *id, int64_t v, doc_state *doc, store_job *job)
{
    if (load_milestone(d, id, v, doc, job) != 0 || replay(d, id, v, doc, 0, job) != 0)
        return -1;
    if (doc->v != v) {
        job->status = STORE_FAILED;
        snprintf(job->error, sizeof job->error, "op log of %s is damaged", id);
        return -1;
    }
    return 0;
}

/* The history calls hold an sqlite3 handle: the layer's connection around it, for the
 * length of one call. */
int store_reader_rebuild(sqlite3 *handle, const char *id, int64_t v, doc_state *doc,
                         store_job *job)
{
    db *d = db_sqlite_adopt(handle);
    int rc = d ? rebuild(d, id, v, doc, job) : fail(job, NULL, "out of memory");

    db_close(d);
    return rc;
}

int64_t store_reader_head(sqlite3 *handle, const char *id, store_job *job)
{
    db *d = db_sqlite_adopt(handle);
    int64_t head = d ? head_version(d, id, job) : fail(job, NULL, "out of memory");

    db_close(d);
    return head;
}

static int run_snapshot(db *d, store_job *job)
{
    int64_t head = head_version(d, job->doc, job), target;

    if (head < 0)
        return -1;
    target = job->by_ts ? version_at_time(d, job, head) : job->has_v ? job->v : head;
    if (target < 0)
        return -1;
    if (target > head) {
        job->status = STORE_NEWER;
        snprintf(job->error, sizeof job->error,
                 "Requested version exceeds latest snapshot version");
        return -1;
    }
    return rebuild(d, job->doc, target, &job->state, job);
}

/* The case the document belongs to (store.h: `out`); SQLite only for now. */
static int case_meta(store *s, store_job *job)
{
    if (!s->rdb || store_case_meta(s->rdb, job->doc, &job->out) == 0)
        return 0;
    return fail(job, s->r, "case");
}

void store_reader_run(store *s, store_job *job)
{
    db *d = s->r;
    int rc;

    job->status = STORE_OK;
    if (db_begin(d, DB_READ) != DB_OK) {
        fail(job, d, "begin");
        return;
    }
    switch (job->kind) {
    case STORE_LOAD:
        rc = case_meta(s, job);
        if (rc == 0 && (job->out || !job->cases_only || !s->rdb))
            rc = run_load(d, job);
        break;
    case STORE_READ_OPS: rc = run_read_ops(d, job); break;
    case STORE_SNAPSHOT:
        rc = case_meta(s, job);
        /* The frame is read on SQLite only, like the case meta it extends. */
        if (rc == 0 && (job->out || !job->cases_only || !s->rdb) &&
            (rc = run_snapshot(d, job)) == 0 && job->out)
            rc = store_case_frame(s->rdb, job, job->out);
        break;
    case STORE_CALL:
        rc = 0;
        if (s->rdb)
            rc = job->call(s->rdb, job);
        else
            store_refuse_unported(job);
        break;
    default: rc = fail(job, NULL, "not a read job"); break;
    }
    (void)rc;
    db_commit(d);
}
