/*
 * The database layer (src/db) against both backends: SQLite in a file of its own, and
 * PostgreSQL when KONSIL_TEST_PG names a database (`make check-pg` makes a throwaway
 * cluster and sets it; without it the PostgreSQL half is skipped with that reason
 * printed). Every behaviour the store relies on is checked on each: placeholders, types,
 * nulls and blobs, unique violations and savepoints, a read transaction's one snapshot, the
 * loser of two concurrent inserts at one key, the schema version, locks, notifications.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "db/db_listen.h"
#include "unit.h"

static char target[1024];   /* the database the current round runs on */

static db *open_db(int busy_ms)
{
    db *d = NULL;
    char err[256];

    if (db_open(target, DB_OPEN_CREATE, busy_ms, &d, err, sizeof err) != DB_OK) {
        fprintf(stderr, "  cannot open %s: %s\n", target, err);
        return NULL;
    }
    return d;
}

/* A fresh table t(doc, v, op, n, data) keyed on (doc, v), in each engine's types. */
static int fresh_table(db *d)
{
    db_exec(d, "DROP TABLE IF EXISTS t");
    return db_exec(d, db_backend_of(d) == DB_POSTGRES
                   ? "CREATE TABLE t (doc TEXT NOT NULL, v BIGINT NOT NULL, op TEXT,"
                     " n BIGINT, data BYTEA, PRIMARY KEY (doc, v))"
                   : "CREATE TABLE t (doc TEXT NOT NULL, v INTEGER NOT NULL, op TEXT,"
                     " n INTEGER, data BLOB, PRIMARY KEY (doc, v)) WITHOUT ROWID");
}

static int insert(db *d, const char *doc, int64_t v, const char *op)
{
    db_stmt *st = NULL;
    int rc = db_prepare(d, "INSERT INTO t (doc, v, op) VALUES (?1, ?2, ?3)", &st);

    if (rc != DB_OK)
        return rc;
    db_bind_text(st, 1, doc);
    db_bind_int64(st, 2, v);
    db_bind_text(st, 3, op);
    rc = db_step(st);
    db_finalize(st);
    return rc == DB_DONE ? DB_OK : rc;
}

static int64_t count(db *d)
{
    db_stmt *st = NULL;
    int64_t n = -1;

    if (db_prepare(d, "SELECT COUNT(*) FROM t", &st) == DB_OK && db_step(st) == DB_ROW)
        n = db_column_int64(st, 0);
    db_finalize(st);
    return n;
}

static void test_placeholders(void)
{
    int n = 0;
    char *s = db_sql_to_pg("SELECT ?1, ?, '?' || \"a?\", ?2 -- ?9\n/* ?8 */ ?", &n);

    CHECK_STR(s, "SELECT $1, $2, '?' || \"a?\", $2 -- ?9\n/* ?8 */ $3");
    CHECK(n == 3);
    free(s);
    s = db_sql_to_pg("SELECT 'it''s ?', ?5", &n);
    CHECK_STR(s, "SELECT 'it''s ?', $5");
    CHECK(n == 5);
    free(s);
    CHECK(db_sql_to_pg("SELECT ?1000", &n) == NULL);
    CHECK(db_sql_to_pg("SELECT ?0", &n) == NULL);
    CHECK(db_is_postgres("postgresql://x@127.0.0.1/k") && db_is_postgres("postgres://h/k"));
    CHECK(!db_is_postgres("/tmp/konsil.db") && !db_is_postgres("postgresql.db"));
}

static void test_values(void)
{
    db *d = open_db(1000);
    db_stmt *st = NULL;
    const unsigned char blob[] = {0, 1, 2, 0xff, 0, 'x'};
    size_t len = 0;
    const unsigned char *got;

    if (!d) {
        CHECK(0);
        return;
    }
    CHECK(fresh_table(d) == DB_OK);
    /* ?1 twice, a null, a blob with NUL bytes, an int64 beyond 32 bits */
    CHECK(db_prepare(d, "INSERT INTO t (doc, v, op, n, data) VALUES (?1, ?2, ?3, ?4, ?5),"
                        " (?1 || '-2', ?2 + 1, NULL, NULL, NULL)", &st) == DB_OK);
    db_bind_text(st, 1, "cases/ä");
    db_bind_int64(st, 2, 5000000000LL);
    db_bind_text(st, 3, NULL);
    db_bind_int64(st, 4, -7);
    db_bind_blob(st, 5, blob, sizeof blob);
    CHECK(db_step(st) == DB_DONE);
    CHECK(db_changes(st) == 2);
    db_finalize(st);
    CHECK(db_prepare(d, "SELECT doc, v, op, n, data, v > ?1, CAST(?2 AS BIGINT) IS NULL"
                        " FROM t ORDER BY v", &st) == DB_OK);
    db_bind_int64(st, 1, 5000000000LL);
    db_bind_null(st, 2);
    CHECK(db_step(st) == DB_ROW);
    CHECK(db_column_count(st) == 7);
    CHECK_STR(db_column_text(st, 0), "cases/ä");
    CHECK(db_column_int64(st, 1) == 5000000000LL);
    CHECK(db_column_is_null(st, 2) && db_column_text(st, 2) == NULL);
    CHECK(db_column_int64(st, 3) == -7);
    got = db_column_blob(st, 4, &len);
    CHECK(got && len == sizeof blob && memcmp(got, blob, len) == 0);
    CHECK(db_column_int64(st, 5) == 0);     /* a boolean reads as 0 or 1 on both */
    CHECK(db_column_int64(st, 6) == 1);
    CHECK(db_step(st) == DB_ROW);
    CHECK_STR(db_column_text(st, 0), "cases/ä-2");
    CHECK(db_column_int64(st, 5) == 1);
    CHECK(db_column_is_null(st, 4) && db_column_blob(st, 4, &len) == NULL && len == 0);
    CHECK(db_step(st) == DB_DONE);
    /* reset runs it again with the same bindings; cleared bindings are null */
    db_reset(st);
    CHECK(db_step(st) == DB_ROW && db_column_int64(st, 1) == 5000000000LL);
    db_reset(st);
    db_clear_bindings(st);
    db_bind_int64(st, 1, 0);
    CHECK(db_step(st) == DB_ROW && db_column_int64(st, 6) == 1);
    db_finalize(st);
    /* an error names itself */
    CHECK(db_prepare(d, "SELECT nothing FROM nowhere", &st) != DB_OK || db_step(st) == DB_ERROR);
    CHECK(strlen(db_errmsg(d)) > 0);
    db_finalize(st);
    db_close(d);
}

static void test_unique_and_savepoints(void)
{
    db *d = open_db(1000);

    if (!d) {
        CHECK(0);
        return;
    }
    CHECK(fresh_table(d) == DB_OK);
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(insert(d, "a", 0, "first") == DB_OK);
    CHECK(db_savepoint(d, "call") == DB_OK);
    CHECK(insert(d, "a", 1, "second") == DB_OK);
    CHECK(insert(d, "a", 0, "again") == DB_UNIQUE);
    /* after a failed statement: back to the savepoint, and the transaction goes on */
    CHECK(db_rollback_to(d, "call") == DB_OK);
    CHECK(db_release(d, "call") == DB_OK);
    CHECK(insert(d, "a", 2, "third") == DB_OK);
    CHECK(db_commit(d) == DB_OK);
    CHECK(count(d) == 2);   /* v 0 and 2; v 1 went with the savepoint */
    CHECK(db_savepoint(d, "bad name") == DB_ERROR);
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(insert(d, "b", 0, "gone") == DB_OK);
    CHECK(db_rollback(d) == DB_OK);
    CHECK(count(d) == 2);
    db_close(d);
}

static void test_read_snapshot(void)
{
    db *r = open_db(1000), *w = open_db(1000);

    if (!r || !w) {
        CHECK(0);
        db_close(r);
        db_close(w);
        return;
    }
    CHECK(fresh_table(w) == DB_OK);
    CHECK(insert(w, "a", 0, "x") == DB_OK);
    CHECK(db_begin(r, DB_READ) == DB_OK);
    CHECK(count(r) == 1);               /* the read's snapshot starts here */
    CHECK(insert(w, "a", 1, "y") == DB_OK);
    CHECK(count(r) == 1);               /* and stays */
    CHECK(db_commit(r) == DB_OK);
    CHECK(count(r) == 2);
    db_close(r);
    db_close(w);
}

struct racer {
    int rc;
    int started;
};

static void *race_insert(void *arg)
{
    struct racer *x = arg;
    db *d = open_db(10000);

    if (!d) {
        x->rc = DB_ERROR;
        return NULL;
    }
    x->started = 1;
    x->rc = db_begin(d, DB_WRITE);
    if (x->rc == DB_OK)
        x->rc = insert(d, "doc", 7, "the other node's op");
    if (x->rc == DB_OK)
        x->rc = db_commit(d);
    else
        db_rollback(d);
    db_close(d);
    return NULL;
}

/* Two writers append the op at one version while the first has not committed: whoever
 * comes second is refused with DB_UNIQUE once the first commits (the race two nodes
 * serving one case run), and nothing of it stays. */
static void test_race_at_one_version(void)
{
    db *d = open_db(1000);
    pthread_t t;
    struct racer x = {0, 0};
    struct timespec pause = {0, 200 * 1000 * 1000};
    db_stmt *st = NULL;

    if (!d) {
        CHECK(0);
        return;
    }
    CHECK(fresh_table(d) == DB_OK);
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(insert(d, "doc", 7, "this node's op") == DB_OK);
    CHECK(pthread_create(&t, NULL, race_insert, &x) == 0);
    while (!x.started)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    nanosleep(&pause, NULL);            /* let it reach the wait (either place is fine) */
    CHECK(db_commit(d) == DB_OK);
    pthread_join(t, NULL);
    CHECK(x.rc == DB_UNIQUE);
    CHECK(db_prepare(d, "SELECT op FROM t WHERE doc = ? AND v = ?", &st) == DB_OK);
    db_bind_text(st, 1, "doc");
    db_bind_int64(st, 2, 7);
    CHECK(db_step(st) == DB_ROW);
    CHECK_STR(db_column_text(st, 0), "this node's op");
    db_finalize(st);
    CHECK(count(d) == 1);
    db_close(d);
}

static void test_schema_version(void)
{
    db *d = open_db(1000);
    int v = -1;

    if (!d) {
        CHECK(0);
        return;
    }
    if (db_backend_of(d) == DB_POSTGRES)
        db_exec(d, "DROP TABLE IF EXISTS konsil_schema");
    else
        db_set_schema_version(d, 0);
    CHECK(db_schema_version(d, &v) == DB_OK && v == 0);
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(db_lock(d, DB_LOCK_SCHEMA) == DB_OK);
    CHECK(db_set_schema_version(d, 6) == DB_OK);
    CHECK(db_rollback(d) == DB_OK);
    CHECK(db_schema_version(d, &v) == DB_OK && v == 0);   /* transactional on both */
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(db_set_schema_version(d, 6) == DB_OK);
    CHECK(db_commit(d) == DB_OK);
    CHECK(db_schema_version(d, &v) == DB_OK && v == 6);
    if (db_backend_of(d) == DB_POSTGRES)
        db_exec(d, "DROP TABLE IF EXISTS konsil_schema");
    db_close(d);
}

/* A second writer cannot take what a first holds: SQLite's writer lock, PostgreSQL's
 * advisory lock on the audit chain; both answer DB_RETRY when the wait runs out. */
static void test_lock(void)
{
    db *a = open_db(1000), *b = open_db(100);

    if (!a || !b) {
        CHECK(0);
        db_close(a);
        db_close(b);
        return;
    }
    CHECK(db_begin(a, DB_WRITE) == DB_OK);
    CHECK(db_lock(a, DB_LOCK_AUDIT_CHAIN) == DB_OK);
    if (db_backend_of(a) == DB_SQLITE) {
        CHECK(db_begin(b, DB_WRITE) == DB_RETRY);
    } else {
        CHECK(db_begin(b, DB_WRITE) == DB_OK);
        CHECK(db_lock(b, DB_LOCK_SCHEMA) == DB_OK);       /* another lock is free */
        CHECK(db_lock(b, DB_LOCK_AUDIT_CHAIN) == DB_RETRY);
        CHECK(db_rollback(b) == DB_OK);
    }
    CHECK(db_commit(a) == DB_OK);
    CHECK(db_begin(b, DB_WRITE) == DB_OK);
    CHECK(db_lock(b, DB_LOCK_AUDIT_CHAIN) == DB_OK);
    CHECK(db_commit(b) == DB_OK);
    db_close(a);
    db_close(b);
}

static void test_reclaim(void)
{
    db *d = open_db(1000);
    const char *const tables[] = {"t", NULL};

    if (!d) {
        CHECK(0);
        return;
    }
    CHECK(fresh_table(d) == DB_OK);
    CHECK(insert(d, "gone", 0, "text to erase") == DB_OK);
    CHECK(db_exec(d, "DELETE FROM t") == DB_OK);
    CHECK(db_reclaim(d, tables) == DB_OK);
    CHECK(count(d) == 0);
    db_close(d);
}

static int woken;
static void wake(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
}

/* Waits (at most 10 s) for the listener to queue n notes; returns them. */
static db_note *await_notes(db_listener *l, int n)
{
    db_note *all = NULL, **tail = &all;
    int got = 0;

    for (int i = 0; i < 1000 && got < n; i++) {
        db_note *list = db_listen_take(l);
        *tail = list;
        for (; list; list = list->next, got++)
            tail = &list->next;
        if (got < n)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return all;
}

static void test_notify(void)
{
    db *d = open_db(1000);
    db_listener *l = NULL;
    const char *const channels[] = {"konsil_test", NULL};
    char err[256], big[DB_NOTIFY_MAX + 2];
    db_note *notes;

    if (!d) {
        CHECK(0);
        return;
    }
    if (db_backend_of(d) == DB_SQLITE) {
        CHECK(db_notify(d, "konsil_test", "nobody listens") == DB_OK);
        db_close(d);
        return;
    }
    CHECK(db_listen_start(target, channels, wake, NULL, &l, err, sizeof err) == 0);
    if (!l) {
        fprintf(stderr, "  %s\n", err);
        db_close(d);
        return;
    }
    /* delivered on commit, in commit order; a rolled-back one never */
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(db_notify(d, "konsil_test", "rolled back") == DB_OK);
    CHECK(db_rollback(d) == DB_OK);
    CHECK(db_begin(d, DB_WRITE) == DB_OK);
    CHECK(db_notify(d, "konsil_test", "cases/a 7") == DB_OK);
    CHECK(db_notify(d, "konsil_test", "cases/a 8") == DB_OK);
    CHECK(db_commit(d) == DB_OK);
    CHECK(db_notify(d, "konsil_other", "not listened to") == DB_OK);
    notes = await_notes(l, 2);
    CHECK(notes && notes->channel && strcmp(notes->channel, "konsil_test") == 0);
    CHECK_STR(notes ? notes->payload : NULL, "cases/a 7");
    CHECK(notes && notes->next);
    CHECK_STR(notes && notes->next ? notes->next->payload : NULL, "cases/a 8");
    CHECK(notes && notes->next && !notes->next->next);
    CHECK(__atomic_load_n(&woken, __ATOMIC_SEQ_CST) >= 1);
    db_note_free(notes);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(db_notify(d, "konsil_test", big) == DB_ERROR);
    /* a connection killed under the listener: it comes back and says to resync */
    CHECK(db_exec(d, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                     "query LIKE 'LISTEN%' AND pid <> pg_backend_pid()") == DB_OK);
    notes = await_notes(l, 1);
    CHECK(notes && notes->resync && !notes->channel);
    db_note_free(notes);
    CHECK(db_notify(d, "konsil_test", "after") == DB_OK);
    notes = await_notes(l, 1);
    CHECK_STR(notes ? notes->payload : NULL, "after");
    db_note_free(notes);
    db_listen_stop(l);
    db_close(d);
}

static void round_on(const char *what)
{
    fprintf(stderr, "-- %s\n", what);
    RUN(test_values);
    RUN(test_unique_and_savepoints);
    RUN(test_read_snapshot);
    RUN(test_race_at_one_version);
    RUN(test_schema_version);
    RUN(test_lock);
    RUN(test_reclaim);
    RUN(test_notify);
}

int main(void)
{
    const char *pg = getenv("KONSIL_TEST_PG");

    RUN(test_placeholders);
    snprintf(target, sizeof target, "/tmp/konsil-test-db-%d.db", (int)getpid());
    round_on("SQLite");
    unlink(target);
    {
        char side[1100];
        snprintf(side, sizeof side, "%s-wal", target);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", target);
        unlink(side);
    }
    if (pg && *pg) {
        snprintf(target, sizeof target, "%s", pg);
        round_on("PostgreSQL");
    } else {
        fprintf(stderr, "-- PostgreSQL: skipped, KONSIL_TEST_PG names no database "
                        "(make check-pg sets it)\n");
    }
    return unit_finish("test_db");
}
