/*
 * The writer's SQL: one transaction per batch of commits, statements (BEGIN and COMMIT
 * included) prepared once.
 * A batch either commits whole or fails whole; after a failure every later commit is
 * refused too, so the op log cannot get a gap (the hub stops on the first failure).
 * Op texts and milestones are sealed under their case's key by the statements themselves
 * (konsil_seal, store_crypt.h).
 * Writer calls (STORE_CALL) share the batch's transaction, each under its own
 * savepoint, so a refused call (a username taken, a used-up link) undoes only its own
 * writes, and audit entries commit together with what they record.
 */
#include "store/store_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

int store_writer_prepare(store *s, char *err, size_t errlen)
{
    static const char ins_op[] =
        "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES"
        " (?1,?2,?3,?4,?5,?6,?7,konsil_seal(?8,?1,'ops',?2))";
    static const char ins_ms[] =
        "INSERT OR REPLACE INTO milestones (doc, v, ts, type, data) VALUES"
        " (?1,?2,?3,?4,konsil_seal(?5,?1,'milestones',?2))";
    const struct { const char *sql; sqlite3_stmt **st; } stmts[] = {
        {ins_op, &s->ins_op},
        {ins_ms, &s->ins_milestone},
        {"BEGIN IMMEDIATE", &s->begin},
        {"COMMIT", &s->commit},
        {"ROLLBACK", &s->rollback},
    };

    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        if (sqlite3_prepare_v3(s->wdb, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                               stmts[i].st, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(s->wdb));
            return -1;
        }
    return 0;
}

void store_writer_finalize(store *s)
{
    sqlite3_finalize(s->ins_op);
    sqlite3_finalize(s->ins_milestone);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    s->ins_op = s->ins_milestone = s->begin = s->commit = s->rollback = NULL;
}

/* Runs a statement without bindings (BEGIN, COMMIT, ROLLBACK). */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int write_op(store *s, const char *doc, const store_op *op)
{
    sqlite3_stmt *st = s->ins_op;

    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, op->v);
    sqlite3_bind_int(st, 3, op->kind);
    sqlite3_bind_text(st, 4, op->src ? op->src : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, op->seq);
    sqlite3_bind_int64(st, 6, op->ts);
    sqlite3_bind_text(st, 7, op->author ? op->author : "", -1, SQLITE_STATIC);
    if (op->op_text)
        sqlite3_bind_text(st, 8, op->op_text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    return step_done(st);
}

/* The op of a commit job, its follower, and the milestone after them. */
static int write_one(store *s, store_job *job)
{
    const store_op *op = job->has_follow ? &job->follow : &job->op;
    sqlite3_stmt *st;

    if (write_op(s, job->doc, &job->op) != 0 ||
        (job->has_follow && write_op(s, job->doc, &job->follow) != 0))
        return -1;
    if (!job->milestone)
        return 0;
    /* The milestone is the document after the last op, so it is at version v + 1. */
    st = s->ins_milestone;
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, op->v + 1);
    sqlite3_bind_int64(st, 3, op->ts);
    if (op->kind == STORE_OP_DEL) {
        sqlite3_bind_null(st, 4);
        sqlite3_bind_null(st, 5);
    } else {
        sqlite3_bind_text(st, 4, "json0", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, job->milestone, -1, SQLITE_STATIC);
    }
    return step_done(st);
}

/* A writer call under its savepoint; -1 only when the savepoint itself fails. */
static int run_call(store *s, store_job *job)
{
    if (sqlite3_exec(s->wdb, "SAVEPOINT call", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (job->call(s->wdb, job) != 0 &&
        sqlite3_exec(s->wdb, "ROLLBACK TO call", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return sqlite3_exec(s->wdb, "RELEASE call", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void fail_batch(store_job *batch, const char *why)
{
    for (store_job *j = batch; j; j = j->next) {
        j->status = STORE_FAILED;
        snprintf(j->error, sizeof j->error, "%s", why);
    }
}

static int64_t now_ns(int clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The batch's figures for /metrics, once it committed. */
static void measure(store *s, store_job *batch, int64_t began)
{
    uint64_t jobs = 0, ops = 0;

    for (store_job *j = batch; j; j = j->next) {
        jobs++;
        ops += j->kind == STORE_COMMIT;
    }
    histo_observe(&s->metrics.commit_ns, (uint64_t)(now_ns(CLOCK_MONOTONIC) - began));
    histo_observe(&s->metrics.batch_jobs, jobs);
    atomic_fetch_add_explicit(&s->metrics.ops, ops, memory_order_relaxed);
}

void store_writer_commit(store *s, store_job *batch)
{
    int64_t began = now_ns(CLOCK_MONOTONIC);
    char why[160];

    if (s->failed) {
        fail_batch(batch, "an earlier commit failed");
        return;
    }
    atomic_store_explicit(&s->metrics.busy_since, now_ns(CLOCK_REALTIME) / 1000000,
                          memory_order_relaxed);
    if (run(s->begin) != 0)
        goto fail;
    for (store_job *j = batch; j; j = j->next) {
        if (j->kind == STORE_CALL) {
            if (run_call(s, j) != 0)
                goto rollback;
            continue;
        }
        if (write_one(s, j) != 0)
            goto rollback;
    }
    if (run(s->commit) != 0)
        goto rollback;
    for (store_job *j = batch; j; j = j->next)
        j->status = STORE_OK;
    measure(s, batch, began);
    atomic_store_explicit(&s->metrics.busy_since, 0, memory_order_relaxed);
    return;
rollback:
    snprintf(why, sizeof why, "commit failed: %s", sqlite3_errmsg(s->wdb));
    run(s->rollback);
    goto failed;
fail:
    snprintf(why, sizeof why, "commit failed: %s", sqlite3_errmsg(s->wdb));
failed:
    s->failed = 1;
    atomic_store_explicit(&s->metrics.failed, 1, memory_order_relaxed);
    atomic_store_explicit(&s->metrics.busy_since, 0, memory_order_relaxed);
    fail_batch(batch, why);
}
