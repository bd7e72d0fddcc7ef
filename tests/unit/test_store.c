/*
 * Unit tests for src/store: schema and migrations (the op log's rebuild included),
 * group commit through the writer
 * thread, loading documents from milestones, reading op ranges, snapshots by version
 * and by time, and the fail-stop rule after a failed commit; with a master key, case data
 * sealed in the files and read back, and an erasure that leaves no trace of it in the
 * database file, its WAL or the key store while the audit chain verifies.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_erase.h"
#include "store/store_keys.h"
#include "store/store_sql.h"
#include "unit.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t woken = PTHREAD_COND_INITIALIZER;
static int wakes;

static void wake(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    wakes++;
    pthread_cond_signal(&woken);
    pthread_mutex_unlock(&lock);
}

/* Waits until n jobs came back; returns them in completion order. */
static store_job *collect(store *s, size_t n)
{
    store_job *head = NULL, **tail = &head;
    size_t got = 0;

    while (got < n) {
        store_job *list;
        pthread_mutex_lock(&lock);
        while (!wakes)
            pthread_cond_wait(&woken, &lock);
        wakes = 0;
        pthread_mutex_unlock(&lock);
        for (list = store_take_done(s); list; list = list->next) {
            *tail = list;
            tail = &list->next;
            got++;
        }
    }
    return head;
}

static void free_all(store_job *list)
{
    while (list) {
        store_job *next = list->next;
        store_job_free(list);
        list = next;
    }
}

static char path[256];

/* The store, its threads started when `start`. */
static store *open_store_started(int start)
{
    store_config cfg = {.path = path, .busy_timeout_ms = 1000, .max_batch = 64};
    char err[256];
    store *s = NULL;

    CHECK(store_open(&cfg, &s, err, sizeof err) == 0);
    CHECK(s && (!start || store_start(s, wake, NULL, err, sizeof err) == 0));
    return s;
}

static store *open_store(void)
{
    return open_store_started(1);
}

static store_job *commit_job(const char *doc, int64_t v, store_op_kind kind, const char *text,
                             int64_t ts, const char *milestone)
{
    store_job *j = store_job_new(STORE_COMMIT, doc);

    j->op.v = v;
    j->op.kind = kind;
    j->op.src = strdup("src");
    j->op.seq = v + 1;
    j->op.ts = ts;
    j->op.author = strdup("alice");
    j->op.op_text = text ? strdup(text) : NULL;
    j->milestone = milestone ? strdup(milestone) : NULL;
    return j;
}

/* Writes doc "d": create {n:0}, then 9 increments at ts 1000 + 10 v, with a milestone
 * at version 5; and doc "e" in the same batches. */
static void write_history(store *s)
{
    char ms[32];

    store_submit(s, commit_job("d", 0, STORE_OP_CREATE,
                               "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":{\"n\":0}}",
                               1000, NULL));
    store_submit(s, commit_job("e", 0, STORE_OP_CREATE,
                               "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":[]}", 1000,
                               NULL));
    for (int v = 1; v < 10; v++) {
        snprintf(ms, sizeof ms, "{\"n\":%d}", v);
        store_submit(s, commit_job("d", v, STORE_OP_EDIT, "[{\"p\":[\"n\"],\"na\":1}]",
                                   1000 + 10 * v, v == 4 ? ms : NULL));
    }
    free_all(collect(s, 11));
}

static void test_schema(void)
{
    sqlite3 *db;
    char err[256];
    sqlite3_stmt *st;
    store *s = open_store();

    store_close(s);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_schema_migrate(db, err, sizeof err) == 0);    /* idempotent */
    CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == store_schema_latest());
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(store_schema_migrate(db, err, sizeof err) == -1);
    CHECK(strstr(err, "newer") != NULL);
    {
        char back[64];
        snprintf(back, sizeof back, "PRAGMA user_version=%d", store_schema_latest());
        CHECK(sqlite3_exec(db, back, NULL, NULL, NULL) == SQLITE_OK);
    }
    sqlite3_close(db);
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n = -1;

    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Migration 4 rebuilds a version-3 op log (rowid table with a time index) clustered on
 * (doc, v), keeping every row; the later migrations run on after it. */
static void test_migrate_op_log(void)
{
    char p[300], err[256];
    sqlite3 *db;

    snprintf(p, sizeof p, "%s-migrate", path);
    unlink(p);
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    CHECK(store_schema_migrate_to(db, 3, err, sizeof err) == 0);
    CHECK(sqlite3_exec(db,
                       "DROP TABLE ops;"
                       "CREATE TABLE ops (doc TEXT NOT NULL, v INTEGER NOT NULL,"
                       " kind INTEGER NOT NULL, src TEXT NOT NULL, seq INTEGER NOT NULL,"
                       " ts INTEGER NOT NULL, author TEXT NOT NULL, op TEXT,"
                       " PRIMARY KEY (doc, v));"
                       "CREATE INDEX ops_doc_ts ON ops (doc, ts, v);"
                       "INSERT INTO ops VALUES ('d', 0, 1, 's', 1, 1000, 'a', '{}'),"
                       " ('d', 1, 0, 's', 2, 1010, 'a', '[]'), ('e', 0, 2, 't', 1, 900, 'b', NULL);"
                       "PRAGMA user_version=3", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(store_schema_migrate(db, err, sizeof err) == 0);
    CHECK(one_int(db, "PRAGMA user_version") == store_schema_latest());
    CHECK(one_int(db, "SELECT count(*) FROM ops") == 3);
    /* Migration 9: the create ops, and only they, are in the partial index. */
    CHECK(one_int(db, "SELECT count(*) FROM ops INDEXED BY ops_create WHERE kind = 1") == 1);
    CHECK(one_int(db, "SELECT v FROM ops INDEXED BY ops_create WHERE doc = 'd' AND kind = 1"
                      " ORDER BY v DESC LIMIT 1") == 0);
    CHECK(one_int(db, "SELECT ts FROM ops WHERE doc = 'd' AND v = 1") == 1010);
    CHECK(one_int(db, "SELECT count(*) FROM ops WHERE op IS NULL") == 1);
    CHECK(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'ops_doc_ts'") == 0);
    CHECK(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'ops' AND"
                      " sql LIKE '%WITHOUT ROWID'") == 1);
    sqlite3_close(db);
    unlink(p);
}

static void test_commit_and_load(void)
{
    store *s = open_store();
    store_job *j;
    char *text;

    write_history(s);
    j = store_job_new(STORE_LOAD, "d");
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == STORE_OK);
    CHECK(j->state.v == 10 && j->state.exists);
    text = doc_text(&j->state);
    CHECK_STR(text, "{\"n\":9}");
    free(text);
    /* Rebuilt from the milestone at version 5: the ops since then come along. */
    CHECK(j->n_ops == 5 && j->ops[0].v == 5 && j->ops[4].v == 9);
    CHECK(cJSON_IsArray(j->ops[0].op));
    CHECK_STR(j->ops[0].author, "alice");
    CHECK(j->create_v == 0 && j->create_seq == 1);
    CHECK(j->ts == 1090);     /* the latest op's time, for monotonic times after loading */
    CHECK_STR(j->create_src, "src");
    store_job_free(j);

    j = store_job_new(STORE_LOAD, "never");
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == STORE_OK && j->state.v == 0 && !j->state.exists && j->create_v < 0);
    store_job_free(j);
    store_close(s);
}

/* Commits arriving 100 µs apart, with the writer allowed to hold them up to 2 ms for
 * company (the commit policy waits then): every one commits, in order, and a load sees
 * them all; then a lone commit after a pause (no waiting) and a stop with commits
 * still waiting for company. */
static void test_commit_wait(void)
{
    store_config cfg = {.path = path, .busy_timeout_ms = 1000, .max_batch = 64,
                        .commit_wait_us = 2000};
    char err[256], doc[16];
    store *s = NULL;
    store_job *list, *j;
    int ok = 1, n = 0;

    snprintf(doc, sizeof doc, "w%d", (int)getpid());
    CHECK(store_open(&cfg, &s, err, sizeof err) == 0);
    CHECK(store_start(s, wake, NULL, err, sizeof err) == 0);
    store_submit(s, commit_job(doc, 0, STORE_OP_CREATE,
                               "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":{\"n\":0}}",
                               1000, NULL));
    for (int v = 1; v < 200; v++) {
        store_submit_quiet(s, commit_job(doc, v, STORE_OP_EDIT, "[{\"p\":[\"n\"],\"na\":1}]",
                                         1000 + v, NULL));
        store_kick(s);
        usleep(100);
    }
    list = collect(s, 200);
    for (j = list; j; j = j->next, n++)
        ok &= j->status == STORE_OK;
    CHECK(ok && n == 200);
    free_all(list);
    usleep(20000);
    store_submit(s, commit_job(doc, 200, STORE_OP_EDIT, "[{\"p\":[\"n\"],\"na\":1}]", 1300,
                               NULL));
    list = collect(s, 1);
    CHECK(list->status == STORE_OK);
    free_all(list);
    j = store_job_new(STORE_LOAD, doc);
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == STORE_OK && j->state.v == 201);
    free_all(j);
    for (int v = 201; v < 205; v++)
        store_submit(s, commit_job(doc, v, STORE_OP_EDIT, "[{\"p\":[\"n\"],\"na\":1}]",
                                   1400 + v, NULL));
    store_close(s);     /* drains what waits */
    CHECK(store_open(&cfg, &s, err, sizeof err) == 0);
    CHECK(store_start(s, wake, NULL, err, sizeof err) == 0);
    j = store_job_new(STORE_LOAD, doc);
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == STORE_OK && j->state.v == 205);
    free_all(j);
    store_close(s);
}

static void test_read_ops(void)
{
    store *s = open_store();
    store_job *j = store_job_new(STORE_READ_OPS, "d");

    j->from = 2;
    j->to = 9;
    j->max_ops = 3;
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == STORE_OK && j->n_ops == 3);
    CHECK(j->ops[0].v == 2 && j->ops[2].v == 4 && j->ops[1].ts == 1030);
    store_job_free(j);
    store_close(s);
}

static void snapshot(store *s, int by_ts, int has_v, int64_t x, int status, int64_t v,
                     const char *text)
{
    store_job *j = store_job_new(STORE_SNAPSHOT, "d");

    j->by_ts = by_ts;
    j->has_v = has_v;
    j->v = x;
    j->ts = x;
    store_submit(s, j);
    j = collect(s, 1);
    CHECK(j->status == status);
    if (status == STORE_OK) {
        char *got = doc_text(&j->state);
        CHECK(j->state.v == v);
        CHECK_STR(got, text);
        free(got);
    }
    store_job_free(j);
}

static void test_snapshots(void)
{
    store *s = open_store();

    snapshot(s, 0, 1, 0, STORE_OK, 0, "null");
    snapshot(s, 0, 1, 1, STORE_OK, 1, "{\"n\":0}");
    snapshot(s, 0, 1, 5, STORE_OK, 5, "{\"n\":4}");
    snapshot(s, 0, 1, 7, STORE_OK, 7, "{\"n\":6}");
    snapshot(s, 0, 0, 0, STORE_OK, 10, "{\"n\":9}");
    snapshot(s, 0, 1, 11, STORE_NEWER, 0, NULL);
    /* Op v was committed at 1000 + 10 v: at time 1035 ops 0..3 had happened. */
    snapshot(s, 1, 0, 1035, STORE_OK, 4, "{\"n\":3}");
    snapshot(s, 1, 0, 1040, STORE_OK, 5, "{\"n\":4}");
    snapshot(s, 1, 0, 999, STORE_OK, 0, "null");
    snapshot(s, 1, 0, 99999, STORE_OK, 10, "{\"n\":9}");
    store_close(s);
}

static void test_fail_stop(void)
{
    store *s = open_store_started(0);
    store_job *list;
    char err[256];

    /* Version 3 of d exists: the batch fails whole, and later commits are refused. Both
     * commits are queued before the writer starts, so they make one batch. */
    store_submit(s, commit_job("e", 1, STORE_OP_EDIT, "[{\"p\":[0],\"li\":1}]", 2000, NULL));
    store_submit(s, commit_job("d", 3, STORE_OP_EDIT, "[]", 2000, NULL));
    CHECK(store_start(s, wake, NULL, err, sizeof err) == 0);
    list = collect(s, 2);
    CHECK(list->status == STORE_FAILED && list->next->status == STORE_FAILED);
    free_all(list);
    store_submit(s, commit_job("e", 1, STORE_OP_EDIT, "[{\"p\":[0],\"li\":1}]", 2000, NULL));
    list = collect(s, 1);
    CHECK(list->status == STORE_FAILED);
    CHECK(strstr(list->error, "earlier") != NULL);
    free_all(list);
    CHECK(store_pending(s) == 0);
    store_close(s);

    /* Nothing of the failed batch was written. */
    s = open_store();
    list = store_job_new(STORE_LOAD, "e");
    store_submit(s, list);
    list = collect(s, 1);
    CHECK(list->state.v == 1);
    store_job_free(list);
    store_close(s);
}

/* Whether text appears in the file at p (a missing file holds nothing). */
static int file_holds(const char *p, const char *text)
{
    size_t len = 0;
    char *data = unit_read_file(p, &len);
    int found = data && memmem(data, len, text, strlen(text)) != NULL;

    free(data);
    return found;
}

static int erase_call(sqlite3 *db, store_job *job)
{
    char err[200];
    cJSON *out = NULL;
    int rc = store_erase_case(db, "case-z", "request", "u-test", 5000, NULL, &out, err,
                              sizeof err);

    store_answer(job, out);
    return rc;
}

/* Encryption at rest and erasure at the store's level: ops and a milestone of case
 * "case-z" sealed (no marker in any file), read back; erased: the key gone, no row, no
 * marker in the database or its WAL after the checkpoint, the audit chain intact. */
static void test_sealed_and_erased(void)
{
    static const unsigned char master[SEALED_KEY_LEN] = "0123456789abcdef0123456789abcde";
    char keys[300], wal[300], err[256];
    store_config cfg = {.path = path, .busy_timeout_ms = 1000, .max_batch = 64,
                        .keys_path = keys, .master_key = master};
    store *s = NULL;
    store_job *list, *job;
    audit_report report;
    audit_anchor head;
    sqlite3 *db;

    snprintf(keys, sizeof keys, "%s.keys", path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(store_open(&cfg, &s, err, sizeof err) == 0);
    CHECK(s && store_encrypted(s));
    if (!s)
        return;
    CHECK(store_start(s, wake, NULL, err, sizeof err) == 0);
    store_submit(s, commit_job("case-z", 0, STORE_OP_CREATE,
                               "{\"type\":\"http://sharejs.org/types/JSONv0\","
                               "\"data\":{\"t\":\"ZEBRA-STORE-MARK\"}}", 3000, NULL));
    store_submit(s, commit_job("case-z", 1, STORE_OP_EDIT,
                               "[{\"p\":[\"u\"],\"oi\":\"ZEBRA-STORE-TWO\"}]", 3001,
                               "{\"t\":\"ZEBRA-STORE-MARK\",\"u\":\"ZEBRA-STORE-TWO\"}"));
    free_all(collect(s, 2));
    job = store_job_new(STORE_LOAD, "case-z");
    store_submit(s, job);
    job = collect(s, 1);
    CHECK(job->status == STORE_OK && job->state.v == 2);
    {
        char *text = job->state.exists ? cJSON_PrintUnformatted(job->state.data) : NULL;
        CHECK(text && strstr(text, "ZEBRA-STORE-TWO"));
        free(text);
    }
    store_job_free(job);
    CHECK(!file_holds(path, "ZEBRA-STORE") && !file_holds(wal, "ZEBRA-STORE"));
    CHECK(file_holds(keys, "key case-z "));

    job = store_call_new(erase_call, STORE_WRITER, cJSON_CreateObject());
    store_submit(s, job);
    list = collect(s, 1);
    CHECK(list->status == STORE_OK && list->err == STORE_ERR_NONE && list->out);
    free_all(list);
    CHECK(!file_holds(keys, "case-z"));
    store_close(s);
    CHECK(store_erase_checkpoint(path, 10, err, sizeof err) == 0);
    CHECK(!file_holds(path, "ZEBRA-STORE") && !file_holds(wal, "ZEBRA-STORE"));
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    memset(&report, 0, sizeof report);
    CHECK(store_audit_verify(db, NULL, &report, &head, err, sizeof err) == 0);
    sqlite3_close(db);

    /* Without the master key the database is refused: its data is encrypted. */
    cfg.master_key = NULL;
    s = NULL;
    CHECK(store_open(&cfg, &s, err, sizeof err) == -1 && strstr(err, "master-key-file"));
    unlink(keys);
    snprintf(keys, sizeof keys, "%s.keys.lock", path);
    unlink(keys);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/konsil-test-store-%d.db", (int)getpid());
    RUN(test_schema);
    RUN(test_migrate_op_log);
    RUN(test_commit_and_load);
    RUN(test_read_ops);
    RUN(test_snapshots);
    RUN(test_fail_stop);
    RUN(test_commit_wait);
    unlink(path);
    RUN(test_sealed_and_erased);
    unlink(path);
    {
        char side[300];
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    return unit_finish("test_store");
}
