/*
 * The writer's SQL: one transaction per batch of commits, on the database layer (SQLite or
 * PostgreSQL), the op and milestone inserts prepared once.
 * A batch commits whole or, when a statement fails, not at all; after such a failure every
 * later commit is refused too, so the op log cannot get a gap (the hub stops on the first
 * failure). On PostgreSQL one refusal is not a failure: the op log's key (doc, v) refusing
 * an op means another node committed that version first. The batch is rolled back, that
 * commit and the later ones of its document in the batch are marked STORE_CONFLICT, and the
 * rest of the batch is written again; a batch PostgreSQL aborts to break a deadlock with
 * another node's (or that waited past the lock timeout) is written again, a few times at
 * most. On SQLite this process is the op log's only writer, so a refused version is a fault
 * and fails the batch like any other.
 * On SQLite op texts and milestones are sealed under their case's key by the statements
 * themselves (konsil_seal, store_crypt.h); on PostgreSQL, where that is not built yet, they
 * are stored as they are (the columns are BYTEA there).
 * Writer calls (STORE_CALL) share the batch's transaction, each under its own
 * savepoint, so a refused call (a username taken, a used-up link) undoes only its own
 * writes, and audit entries commit together with what they record. They run on SQLite
 * only (store_refuse_unported on PostgreSQL).
 */
#include "store/store_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int store_writer_prepare(store *s, char *err, size_t errlen)
{
    static const char ins_op_sqlite[] =
        "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES"
        " (?1,?2,?3,?4,?5,?6,?7,konsil_seal(?8,?1,'ops',?2))";
    static const char ins_op_pg[] =
        "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES"
        " (?1,?2,?3,?4,?5,?6,?7,?8)";
    static const char ins_ms_sqlite[] =
        "INSERT INTO milestones (doc, v, ts, type, data) VALUES"
        " (?1,?2,?3,?4,konsil_seal(?5,?1,'milestones',?2))"
        " ON CONFLICT (doc, v) DO UPDATE SET ts = excluded.ts, type = excluded.type,"
        " data = excluded.data";
    static const char ins_ms_pg[] =
        "INSERT INTO milestones (doc, v, ts, type, data) VALUES (?1,?2,?3,?4,?5)"
        " ON CONFLICT (doc, v) DO UPDATE SET ts = excluded.ts, type = excluded.type,"
        " data = excluded.data";

    if (db_prepare(s->w, s->pg ? ins_op_pg : ins_op_sqlite, &s->ins_op) != DB_OK ||
        db_prepare(s->w, s->pg ? ins_ms_pg : ins_ms_sqlite, &s->ins_milestone) != DB_OK) {
        snprintf(err, errlen, "%s", db_errmsg(s->w));
        return -1;
    }
    return 0;
}

void store_writer_finalize(store *s)
{
    db_finalize(s->ins_op);
    db_finalize(s->ins_milestone);
    s->ins_op = s->ins_milestone = NULL;
}

/* Case text for a sealed column: text for konsil_seal on SQLite, bytes for PostgreSQL's
 * BYTEA column. */
static void bind_case_text(store *s, db_stmt *st, int i, const char *text)
{
    if (!text)
        db_bind_null(st, i);
    else if (s->pg)
        db_bind_blob(st, i, text, strlen(text));
    else
        db_bind_text(st, i, text);
}

/* Runs a bound statement that returns no rows; DB_OK or the layer's error. */
static int step_done(db_stmt *st)
{
    int rc = db_step(st);
    db_reset(st);
    db_clear_bindings(st);
    return rc == DB_DONE ? DB_OK : rc;
}

static int write_op(store *s, const char *doc, const store_op *op)
{
    db_stmt *st = s->ins_op;

    db_bind_text(st, 1, doc);
    db_bind_int64(st, 2, op->v);
    db_bind_int64(st, 3, op->kind);
    db_bind_text(st, 4, op->src ? op->src : "");
    db_bind_int64(st, 5, op->seq);
    db_bind_int64(st, 6, op->ts);
    db_bind_text(st, 7, op->author ? op->author : "");
    bind_case_text(s, st, 8, op->op_text);
    return step_done(st);
}

/* The op of a commit job, its follower, and the milestone after them; DB_OK or the layer's
 * error (DB_UNIQUE: the op log's key refused the op or its follower). */
static int write_one(store *s, store_job *job)
{
    const store_op *op = job->has_follow ? &job->follow : &job->op;
    db_stmt *st;
    int rc;

    if ((rc = write_op(s, job->doc, &job->op)) != DB_OK ||
        (job->has_follow && (rc = write_op(s, job->doc, &job->follow)) != DB_OK) ||
        !job->milestone)
        return rc;
    /* The milestone is the document after the last op, so it is at version v + 1. */
    st = s->ins_milestone;
    db_bind_text(st, 1, job->doc);
    db_bind_int64(st, 2, op->v + 1);
    db_bind_int64(st, 3, op->ts);
    if (op->kind == STORE_OP_DEL) {
        db_bind_null(st, 4);
        db_bind_null(st, 5);
    } else {
        db_bind_text(st, 4, "json0");
        bind_case_text(s, st, 5, job->milestone);
    }
    rc = step_done(st);
    /* Only the op log's key tells of another writer; a refused milestone is a failure. */
    return rc == DB_UNIQUE ? DB_ERROR : rc;
}

/* A writer call under its savepoint; -1 only when the savepoint itself fails. */
static int run_call(store *s, store_job *job)
{
    if (!s->wdb) {
        store_refuse_unported(job);
        return 0;
    }
    if (db_savepoint(s->w, "call") != DB_OK)
        return -1;
    if (job->call(s->wdb, job) != 0 && db_rollback_to(s->w, "call") != DB_OK)
        return -1;
    return db_release(s->w, "call") == DB_OK ? 0 : -1;
}

static void fail_batch(store_job *batch, const char *why)
{
    for (store_job *j = batch; j; j = j->next) {
        j->status = STORE_FAILED;
        snprintf(j->error, sizeof j->error, "%s", why);
    }
}

/* Marks `lost` and every later commit of its document in the batch STORE_CONFLICT. */
static void mark_conflict(store_job *lost)
{
    for (store_job *j = lost; j; j = j->next)
        if (j->kind == STORE_COMMIT && strcmp(j->doc, lost->doc) == 0) {
            j->status = STORE_CONFLICT;
            snprintf(j->error, sizeof j->error, "version %lld of %s was committed by another "
                     "writer", (long long)j->op.v, j->doc);
        }
}

/* Forgets what a writer call answered in a rolled-back attempt. */
static void reset_call(store_job *job)
{
    cJSON_Delete(job->out);
    job->out = NULL;
    job->err = STORE_ERR_NONE;
    job->err_code = NULL;
    job->err_message[0] = '\0';
}

/* The version after a commit job's last op (its follower's, when it has one). */
static int64_t after(const store_job *j)
{
    return (j->has_follow ? j->follow.v : j->op.v) + 1;
}

/* On PostgreSQL with a node id: for each document with commits in the batch (those not
 * marked STORE_CONFLICT), the notification "op NODE DOC FROM TO" in the batch's transaction,
 * so other nodes hear of exactly what commits, when it commits (protocol/cluster.md). A
 * document's commits in a batch are contiguous versions in submission order. */
static int notify_ops(store *s, store_job *batch)
{
    if (!s->pg || !s->cfg.node)
        return DB_OK;
    for (store_job *j = batch; j; j = j->next) {
        char payload[DB_NOTIFY_MAX + 1];
        int64_t to;
        int seen = 0, n;

        if (j->kind != STORE_COMMIT || j->status == STORE_CONFLICT)
            continue;
        for (store_job *k = batch; k != j && !seen; k = k->next)
            seen = k->kind == STORE_COMMIT && k->status != STORE_CONFLICT &&
                   strcmp(k->doc, j->doc) == 0;
        if (seen)
            continue;
        to = after(j);
        for (store_job *k = j->next; k; k = k->next)
            if (k->kind == STORE_COMMIT && k->status != STORE_CONFLICT &&
                strcmp(k->doc, j->doc) == 0 && after(k) > to)
                to = after(k);
        n = snprintf(payload, sizeof payload, "op %s %s %lld %lld", s->cfg.node, j->doc,
                     (long long)j->op.v, (long long)to);
        /* A document id too long for a notification: nobody hears of it (the other nodes
         * read it when they next load or resync). Ids are far shorter (limits.md). */
        if (n < 0 || n > DB_NOTIFY_MAX)
            continue;
        if (db_notify(s->w, STORE_CHANNEL, payload) != DB_OK)
            return DB_ERROR;
    }
    return DB_OK;
}

/* One attempt at the batch, skipping the commits marked STORE_CONFLICT. DB_OK committed;
 * DB_UNIQUE with *lost the commit the op log's key refused (rolled back); else an error,
 * in a transaction still to roll back when *begun. */
static int write_batch(store *s, store_job *batch, store_job **lost, int *begun)
{
    int rc;

    *lost = NULL;
    *begun = 0;
    if ((rc = db_begin(s->w, DB_WRITE)) != DB_OK)
        return rc;
    *begun = 1;
    for (store_job *j = batch; j; j = j->next) {
        if (j->kind == STORE_CALL) {
            reset_call(j);
            if (run_call(s, j) != 0)
                return DB_ERROR;
            continue;
        }
        if (j->status == STORE_CONFLICT)
            continue;
        if ((rc = write_one(s, j)) == DB_UNIQUE && s->pg) {
            *lost = j;
            *begun = 0;
            return db_rollback(s->w) == DB_OK ? DB_UNIQUE : DB_ERROR;
        }
        if (rc != DB_OK)
            return rc;
    }
    if ((rc = notify_ops(s, batch)) != DB_OK)
        return rc;
    if ((rc = db_commit(s->w)) == DB_OK)
        *begun = 0;
    return rc;
}

static int64_t now_ns(int clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The batch's figures for /metrics, once it committed (ops: those committed, not the ones
 * refused as conflicts). */
static void measure(store *s, store_job *batch, int64_t began)
{
    uint64_t jobs = 0, ops = 0;

    for (store_job *j = batch; j; j = j->next) {
        jobs++;
        ops += j->kind == STORE_COMMIT && j->status == STORE_OK;
    }
    histo_observe(&s->metrics.commit_ns, (uint64_t)(now_ns(CLOCK_MONOTONIC) - began));
    histo_observe(&s->metrics.batch_jobs, jobs);
    atomic_fetch_add_explicit(&s->metrics.ops, ops, memory_order_relaxed);
}
/* How often the writer runs a batch again that PostgreSQL chose as a deadlock's victim or
 * that waited too long for a lock (DB_RETRY). */
enum { WRITER_RETRIES = 5 };

void store_writer_commit(store *s, store_job *batch)
{
    int64_t began = now_ns(CLOCK_MONOTONIC);
    char why[160];
    store_job *lost;
    int rc, begun, retries = 0;

    if (s->failed) {
        fail_batch(batch, "an earlier commit failed");
        return;
    }
    atomic_store_explicit(&s->metrics.busy_since, now_ns(CLOCK_REALTIME) / 1000000,
                          memory_order_relaxed);
    for (store_job *j = batch; j; j = j->next)
        j->status = STORE_OK;
    /* Each conflict takes at least one commit out of the batch, and retries are bounded,
     * so this ends. Two nodes' batches that insert the same two versions in opposite
     * orders wait for each other; PostgreSQL breaks the cycle by aborting one, which runs
     * again here and then finds the other's rows: conflicts, not a failure. */
    for (;;) {
        rc = write_batch(s, batch, &lost, &begun);
        if (rc == DB_UNIQUE && lost) {
            mark_conflict(lost);
            continue;
        }
        if (rc == DB_RETRY && s->pg && retries++ < WRITER_RETRIES) {
            if (begun)
                db_rollback(s->w);
            continue;
        }
        break;
    }
    if (rc == DB_OK) {
        measure(s, batch, began);
        atomic_store_explicit(&s->metrics.busy_since, 0, memory_order_relaxed);
        return;
    }
    snprintf(why, sizeof why, "commit failed: %s", db_errmsg(s->w));
    if (begun)
        db_rollback(s->w);
    s->failed = 1;
    atomic_store_explicit(&s->metrics.failed, 1, memory_order_relaxed);
    atomic_store_explicit(&s->metrics.busy_since, 0, memory_order_relaxed);
    fail_batch(batch, why);
}
