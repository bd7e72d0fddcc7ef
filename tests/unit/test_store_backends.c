/*
 * The store's op log on both backends of the database layer: the same commits, loads, op
 * ranges and snapshots (by version, by time, the latest, beyond the latest) through the
 * store's threads on an SQLite file and on a PostgreSQL database, with texts that are not
 * ASCII. On PostgreSQL also: a master key is refused (encryption at rest is SQLite's
 * alone), a STORE_CALL is refused as not available, and two stores on one database — two
 * nodes — race for the versions of one document: the op log's key refuses the second op at
 * a version (STORE_CONFLICT, nothing of it written, nor of the commits of the same
 * document after it in its batch, while another document's commit in that batch commits),
 * and two nodes appending to one document at once, each reloading and retrying on a
 * conflict, leave contiguous versions holding every op exactly once; two nodes' batches
 * that deadlock end with one committed and the other's ops refused as conflicts, nothing
 * failed; a listener hears
 * "op NODE DOC FROM TO" for what each node committed, and nothing for what lost.
 * PostgreSQL runs when KONSIL_TEST_PG names a database (make check-pg) in a database of its
 * own made and dropped here; otherwise that half is skipped, said so.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_listen.h"
#include "store/store.h"
#include "unit.h"

/* One store and how its threads tell it that jobs finished. */
typedef struct node {
    store *s;
    pthread_mutex_t lock;
    pthread_cond_t woken;
    int wakes;
} node;

static void wake(void *arg)
{
    node *n = arg;

    pthread_mutex_lock(&n->lock);
    n->wakes++;
    pthread_cond_signal(&n->woken);
    pthread_mutex_unlock(&n->lock);
}

static int node_open_as(node *n, const char *target, const char *id, int start)
{
    store_config cfg = {.path = target, .busy_timeout_ms = 5000, .max_batch = 64, .node = id};
    char err[256];

    memset(n, 0, sizeof *n);
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->woken, NULL);
    if (store_open(&cfg, &n->s, err, sizeof err) != 0) {
        fprintf(stderr, "  store_open %s: %s\n", target, err);
        return -1;
    }
    if (start && store_start(n->s, wake, n, err, sizeof err) != 0) {
        fprintf(stderr, "  store_start: %s\n", err);
        return -1;
    }
    return 0;
}

static int node_open(node *n, const char *target, int start)
{
    return node_open_as(n, target, NULL, start);
}

static void node_close(node *n)
{
    store_close(n->s);
    n->s = NULL;
    pthread_cond_destroy(&n->woken);
    pthread_mutex_destroy(&n->lock);
}

/* Waits until count jobs came back; returns them in completion order. */
static store_job *collect(node *n, size_t count)
{
    store_job *head = NULL, **tail = &head;
    size_t got = 0;

    while (got < count) {
        pthread_mutex_lock(&n->lock);
        while (!n->wakes)
            pthread_cond_wait(&n->woken, &n->lock);
        n->wakes = 0;
        pthread_mutex_unlock(&n->lock);
        for (store_job *list = store_take_done(n->s); list; list = list->next) {
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

static store_job *run(node *n, store_job *job)
{
    store_submit(n->s, job);
    return collect(n, 1);
}

static store_job *commit_job(const char *doc, int64_t v, store_op_kind kind, const char *src,
                             int64_t seq, const char *text, int64_t ts, const char *milestone)
{
    store_job *j = store_job_new(STORE_COMMIT, doc);

    j->op.v = v;
    j->op.kind = kind;
    j->op.src = strdup(src);
    j->op.seq = seq;
    j->op.ts = ts;
    j->op.author = strdup("alice");
    j->op.op_text = text ? strdup(text) : NULL;
    j->milestone = milestone ? strdup(milestone) : NULL;
    return j;
}

static const char create_d[] = "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":{\"n\":0}}";
static const char create_e[] = "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":[]}";
/* Not ASCII: the sealed columns carry bytes on PostgreSQL. */
static const char insert_e[] = "[{\"p\":[0],\"li\":\"Grüße – Ärger € 😀\"}]";

static char *json(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

static int json_is(const cJSON *v, const char *expected)
{
    char *text = json(v);
    int same = text && strcmp(text, expected) == 0;

    if (!same)
        fprintf(stderr, "  expected %s, got %s\n", expected, text ? text : "(null)");
    free(text);
    return same;
}

static store_job *snapshot(node *n, const char *doc, int by_ts, int64_t ts, int has_v,
                           int64_t v)
{
    store_job *j = store_job_new(STORE_SNAPSHOT, doc);

    j->by_ts = by_ts;
    j->ts = ts;
    j->has_v = has_v;
    j->v = v;
    return run(n, j);
}

/* Doc "d": create {n:0}, then 9 increments at ts 1000 + 10 v, a milestone at version 5;
 * doc "e": created, one insert, deleted and created again. Then every read. */
static void check_op_log(const char *target)
{
    node n;
    store_job *j;
    char ms[32];

    if (node_open(&n, target, 1) != 0) {
        CHECK(0);
        return;
    }
    store_submit(n.s, commit_job("d", 0, STORE_OP_CREATE, "s1", 1, create_d, 1000, NULL));
    store_submit(n.s, commit_job("e", 0, STORE_OP_CREATE, "s1", 2, create_e, 1000, NULL));
    for (int v = 1; v < 10; v++) {
        snprintf(ms, sizeof ms, "{\"n\":%d}", v);
        store_submit(n.s, commit_job("d", v, STORE_OP_EDIT, "s1", 2 + v,
                                     "[{\"p\":[\"n\"],\"na\":1}]", 1000 + 10 * v,
                                     v == 4 ? ms : NULL));
    }
    store_submit(n.s, commit_job("e", 1, STORE_OP_EDIT, "s2", 1, insert_e, 1100,
                                 "[\"Grüße – Ärger € 😀\"]"));
    store_submit(n.s, commit_job("e", 2, STORE_OP_DEL, "s2", 2, NULL, 1200, ""));
    store_submit(n.s, commit_job("e", 3, STORE_OP_CREATE, "s2", 3, create_e, 1300, NULL));
    j = collect(&n, 14);
    for (store_job *k = j; k; k = k->next)
        CHECK(k->status == STORE_OK);
    free_all(j);

    /* The latest state: from the milestone at 5, the ops since it. */
    j = run(&n, store_job_new(STORE_LOAD, "d"));
    CHECK(j->status == STORE_OK && j->state.v == 10 && j->state.exists);
    CHECK(json_is(j->state.data, "{\"n\":9}"));
    CHECK(j->n_ops == 5 && j->n_ops > 0 && j->ops[0].v == 5);
    CHECK(j->ts == 1090 && j->create_v == 0 && j->create_seq == 1);
    CHECK_STR(j->create_src, "s1");
    CHECK_STR(j->create_author, "alice");
    store_job_free(j);

    /* e: the text comes back byte for byte; the latest create after a delete. */
    j = run(&n, store_job_new(STORE_LOAD, "e"));
    CHECK(j->status == STORE_OK && j->state.v == 4 && j->state.exists);
    CHECK(json_is(j->state.data, "[]"));
    CHECK(j->create_v == 3);
    store_job_free(j);
    j = store_job_new(STORE_READ_OPS, "e");
    j->from = 0;
    j->to = 4;
    j->max_ops = 10;
    j = run(&n, j);
    CHECK(j->status == STORE_OK && j->n_ops == 4);
    if (j->n_ops == 4) {
        CHECK_STR(j->ops[1].op_text, insert_e);
        CHECK(j->ops[2].kind == STORE_OP_DEL && !j->ops[2].op_text && j->ops[2].ts == 1200);
        CHECK_STR(j->ops[1].src, "s2");
        CHECK(j->ops[1].seq == 1);
    }
    store_job_free(j);
    j = snapshot(&n, "e", 0, 0, 1, 2);
    CHECK(j->status == STORE_OK && j->state.v == 2);
    CHECK(json_is(j->state.data, "[\"Grüße – Ärger € 😀\"]"));
    store_job_free(j);
    j = snapshot(&n, "e", 0, 0, 1, 3);
    CHECK(j->status == STORE_OK && j->state.v == 3 && !j->state.exists);
    store_job_free(j);

    /* Op ranges, bounded. */
    j = store_job_new(STORE_READ_OPS, "d");
    j->from = 2;
    j->to = 9;
    j->max_ops = 3;
    j = run(&n, j);
    CHECK(j->status == STORE_OK && j->n_ops == 3);
    if (j->n_ops == 3) {
        CHECK(j->ops[0].v == 2 && j->ops[2].v == 4 && j->ops[2].ts == 1040);
        CHECK(j->ops[0].seq == 4 && j->ops[0].op && j->ops[0].kind == STORE_OP_EDIT);
        CHECK_STR(j->ops[0].op_text, "[{\"p\":[\"n\"],\"na\":1}]");
    }
    store_job_free(j);

    /* Snapshots by version (below and above the milestone), by time, latest, too new. */
    j = snapshot(&n, "d", 0, 0, 1, 3);
    CHECK(j->status == STORE_OK && j->state.v == 3 && json_is(j->state.data, "{\"n\":2}"));
    store_job_free(j);
    j = snapshot(&n, "d", 0, 0, 1, 7);
    CHECK(j->status == STORE_OK && j->state.v == 7 && json_is(j->state.data, "{\"n\":6}"));
    store_job_free(j);
    j = snapshot(&n, "d", 1, 1035, 0, 0);     /* ops up to ts 1030 (v 3) */
    CHECK(j->status == STORE_OK && j->state.v == 4 && json_is(j->state.data, "{\"n\":3}"));
    store_job_free(j);
    j = snapshot(&n, "d", 0, 0, 0, 0);
    CHECK(j->status == STORE_OK && j->state.v == 10 && json_is(j->state.data, "{\"n\":9}"));
    store_job_free(j);
    j = snapshot(&n, "d", 0, 0, 1, 11);
    CHECK(j->status == STORE_NEWER);
    store_job_free(j);
    j = run(&n, store_job_new(STORE_LOAD, "nothing"));
    CHECK(j->status == STORE_OK && j->state.v == 0 && !j->state.exists && j->create_v < 0);
    store_job_free(j);
    node_close(&n);
}

static int answer_call(sqlite3 *db, store_job *job)
{
    (void)db;
    job->out = cJSON_CreateString("ran");
    return 0;
}

static void test_sqlite(void)
{
    char path[128];
    node n;
    store_job *j;

    snprintf(path, sizeof path, "/tmp/konsil-test-store-backends-%d.db", (int)getpid());
    unlink(path);
    check_op_log(path);
    /* A call runs on SQLite (and is refused on PostgreSQL, test_pg_refusals). */
    if (node_open(&n, path, 1) == 0) {
        j = run(&n, store_call_new(answer_call, STORE_READER, NULL));
        CHECK(j->status == STORE_OK && j->err == STORE_ERR_NONE && json_is(j->out, "\"ran\""));
        store_job_free(j);
        j = run(&n, store_call_new(answer_call, STORE_WRITER, NULL));
        CHECK(j->status == STORE_OK && j->err == STORE_ERR_NONE && json_is(j->out, "\"ran\""));
        store_job_free(j);
        node_close(&n);
    } else {
        CHECK(0);
    }
    {
        static const char *const suffixes[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            char p[160];
            snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
            unlink(p);
        }
    }
}

static const char *pg_admin;
static char pg_url[512];

static void test_pg_op_log(void)
{
    check_op_log(pg_url);
}

static void test_pg_refusals(void)
{
    static const unsigned char key[32] = {1};
    store_config cfg = {.path = pg_url, .busy_timeout_ms = 5000, .master_key = key};
    store *s = NULL;
    char err[256] = "";
    node n;

    CHECK(store_open(&cfg, &s, err, sizeof err) == -1 && !s);
    CHECK(strstr(err, "not available on PostgreSQL") != NULL);
    cfg.master_key = NULL;
    cfg.node = "two words";
    CHECK(store_open(&cfg, &s, err, sizeof err) == -1 && !s);
    CHECK(strstr(err, "node id") != NULL);
    if (node_open(&n, pg_url, 1) != 0) {
        CHECK(0);
        return;
    }
    for (int t = STORE_WRITER; t <= STORE_WORKER; t++) {
        store_job *j = run(&n, store_call_new(answer_call, (store_thread)t, NULL));
        CHECK(j->status == STORE_OK && j->err == STORE_ERR_INTERNAL && !j->out);
        CHECK(strstr(j->err_message, "PostgreSQL") != NULL);
        store_job_free(j);
    }
    /* The writer goes on after a refused call. */
    free_all(run(&n, commit_job("after-call", 0, STORE_OP_CREATE, "s", 1, create_e, 1, NULL)));
    {
        store_job *j = run(&n, store_job_new(STORE_LOAD, "after-call"));
        CHECK(j->status == STORE_OK && j->state.v == 1);
        store_job_free(j);
    }
    node_close(&n);
}

static pthread_mutex_t note_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t note_cond = PTHREAD_COND_INITIALIZER;
static int note_wakes;

static void note_wake(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&note_lock);
    note_wakes++;
    pthread_cond_signal(&note_cond);
    pthread_mutex_unlock(&note_lock);
}

/* The payloads of the next `count` notifications, space-joined with " | ". */
static void await_notes(db_listener *l, int count, char *out, size_t len)
{
    int got = 0;

    out[0] = '\0';
    while (got < count) {
        db_note *list;
        pthread_mutex_lock(&note_lock);
        while (!note_wakes)
            pthread_cond_wait(&note_cond, &note_lock);
        note_wakes = 0;
        pthread_mutex_unlock(&note_lock);
        list = db_listen_take(l);
        for (db_note *n = list; n; n = n->next, got++)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", *out ? " | " : "",
                     n->payload ? n->payload : "(resync)");
        db_note_free(list);
    }
}

/* Node a commits version 0 of "x"; node b, which has not seen it, commits its own 0 and 1
 * of "x" and 0 of "y" in one batch. A third party listening hears of exactly what
 * committed, from whom. */
static void test_pg_conflict(void)
{
    static const char *const channels[] = {STORE_CHANNEL, NULL};
    node a, b;
    store_job *j;
    db_listener *l = NULL;
    char err[256], notes[512];

    if (db_listen_start(pg_url, channels, note_wake, NULL, &l, err, sizeof err) != 0) {
        fprintf(stderr, "  listen: %s\n", err);
        CHECK(0);
        return;
    }
    if (node_open_as(&a, pg_url, "node-a", 1) != 0 || node_open_as(&b, pg_url, "node-b", 0) != 0) {
        CHECK(0);
        db_listen_stop(l);
        return;
    }
    free_all(run(&a, commit_job("x", 0, STORE_OP_CREATE, "a", 1, create_d, 10, NULL)));
    await_notes(l, 1, notes, sizeof notes);
    CHECK_STR(notes, "op node-a x 0 1");
    store_submit(b.s, commit_job("x", 0, STORE_OP_CREATE, "b", 1, create_e, 20, NULL));
    store_submit(b.s, commit_job("y", 0, STORE_OP_CREATE, "b", 2, create_e, 20, NULL));
    store_submit(b.s, commit_job("x", 1, STORE_OP_EDIT, "b", 3, "[{\"p\":[0],\"li\":1}]", 20,
                                 "[1]"));
    {
        char err[256];
        CHECK(store_start(b.s, wake, &b, err, sizeof err) == 0);     /* one batch */
    }
    j = collect(&b, 3);
    CHECK(j && j->next && j->next->next);
    if (j && j->next && j->next->next) {
        CHECK(j->status == STORE_CONFLICT && strstr(j->error, "another") != NULL);
        CHECK(j->next->status == STORE_OK);
        CHECK(j->next->next->status == STORE_CONFLICT);
    }
    free_all(j);
    await_notes(l, 1, notes, sizeof notes);
    CHECK_STR(notes, "op node-b y 0 1");      /* nothing for the x that lost */
    /* Nothing of b's x was written; its y was; b goes on. */
    j = run(&b, store_job_new(STORE_LOAD, "x"));
    CHECK(j->status == STORE_OK && j->state.v == 1 && json_is(j->state.data, "{\"n\":0}"));
    CHECK_STR(j->create_src, "a");
    store_job_free(j);
    j = run(&b, store_job_new(STORE_LOAD, "y"));
    CHECK(j->status == STORE_OK && j->state.v == 1);
    store_job_free(j);
    j = run(&b, commit_job("x", 1, STORE_OP_EDIT, "b", 4, "[{\"p\":[\"n\"],\"na\":5}]", 30,
                           NULL));
    CHECK(j->status == STORE_OK);
    store_job_free(j);
    await_notes(l, 1, notes, sizeof notes);
    CHECK_STR(notes, "op node-b x 1 2");
    /* Several commits of one document in one batch: one notification for the range. */
    store_submit_quiet(a.s, commit_job("z", 0, STORE_OP_CREATE, "a", 9, create_d, 40, NULL));
    store_submit_quiet(a.s, commit_job("z", 1, STORE_OP_EDIT, "a", 10,
                                       "[{\"p\":[\"n\"],\"na\":1}]", 40, NULL));
    store_kick(a.s);
    free_all(collect(&a, 2));
    await_notes(l, 1, notes, sizeof notes);
    /* one batch ("op node-a z 0 2") or, had the writer woken between them, two */
    CHECK(strcmp(notes, "op node-a z 0 2") == 0 || strcmp(notes, "op node-a z 0 1") == 0);
    if (strcmp(notes, "op node-a z 0 1") == 0) {
        await_notes(l, 1, notes, sizeof notes);
        CHECK_STR(notes, "op node-a z 1 2");
    }
    /* A commit with its follower (the server's stamping op): both written, the note names
     * the follower's version too. */
    j = commit_job("f", 0, STORE_OP_CREATE, "a", 11, create_e, 45, NULL);
    j->has_follow = 1;
    j->follow.v = 1;
    j->follow.kind = STORE_OP_EDIT;
    j->follow.src = strdup("konsil");
    j->follow.seq = 1;
    j->follow.ts = 45;
    j->follow.author = strdup("konsil");
    j->follow.op_text = strdup("[{\"p\":[0],\"li\":\"stamped\"}]");
    j->milestone = strdup("[\"stamped\"]");
    j = run(&a, j);
    CHECK(j->status == STORE_OK);
    store_job_free(j);
    await_notes(l, 1, notes, sizeof notes);
    CHECK_STR(notes, "op node-a f 0 2");
    j = run(&b, store_job_new(STORE_LOAD, "f"));
    CHECK(j->status == STORE_OK && j->state.v == 2 && json_is(j->state.data, "[\"stamped\"]"));
    CHECK(j->n_ops == 0);       /* from the milestone at 2 */
    store_job_free(j);
    db_listen_stop(l);
    j = run(&a, store_job_new(STORE_LOAD, "x"));
    CHECK(j->status == STORE_OK && j->state.v == 2 && json_is(j->state.data, "{\"n\":5}"));
    store_job_free(j);
    node_close(&a);
    node_close(&b);
}

/* How many connections of this database wait for a lock; -1 on error. */
static int lock_waiters(db *d)
{
    db_stmt *st = NULL;
    int n = -1;

    if (db_prepare(d, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                      " AND datname = current_database()", &st) == DB_OK &&
        db_step(st) == DB_ROW)
        n = (int)db_column_int64(st, 0);
    db_finalize(st);
    return n;
}

/* Waits (up to about 20 s) until n connections wait for a lock. */
static int await_waiters(db *d, int n)
{
    for (int i = 0; i < 1000; i++) {
        if (lock_waiters(d) >= n)
            return 0;
        usleep(20000);
    }
    return -1;
}

/* Two nodes' batches insert versions of p and q in opposite orders and wait for each other:
 * PostgreSQL aborts one; it runs again and finds the other's rows (conflicts), nothing
 * fails, every version is written once. A third connection's uncommitted row of m holds
 * node a between its q and its p until node b holds p, so the cycle forms every time. */
static void test_pg_deadlock(void)
{
    node a, b;
    db *r = NULL, *watch = NULL;
    char err[256];
    store_job *ja, *jb;

    if (db_open(pg_url, 0, 5000, &r, err, sizeof err) != DB_OK ||
        db_open(pg_url, 0, 5000, &watch, err, sizeof err) != DB_OK ||
        node_open(&a, pg_url, 1) != 0 || node_open(&b, pg_url, 1) != 0) {
        CHECK(0);
        return;
    }
    CHECK(db_begin(r, DB_WRITE) == DB_OK);
    CHECK(db_exec(r, "INSERT INTO ops (doc, v, kind, src, seq, ts, author) VALUES"
                     " ('m', 0, 0, 'r', 1, 1, 'r')") == DB_OK);
    store_submit_quiet(a.s, commit_job("q", 0, STORE_OP_CREATE, "a", 1, create_d, 50, NULL));
    store_submit_quiet(a.s, commit_job("m", 0, STORE_OP_CREATE, "a", 2, create_d, 50, NULL));
    store_submit_quiet(a.s, commit_job("p", 0, STORE_OP_CREATE, "a", 3, create_d, 50, NULL));
    store_kick(a.s);
    CHECK(await_waiters(watch, 1) == 0);        /* a holds q, waits for m */
    store_submit_quiet(b.s, commit_job("p", 0, STORE_OP_CREATE, "b", 1, create_e, 60, NULL));
    store_submit_quiet(b.s, commit_job("q", 0, STORE_OP_CREATE, "b", 2, create_e, 60, NULL));
    store_kick(b.s);
    CHECK(await_waiters(watch, 2) == 0);        /* b holds p, waits for q */
    CHECK(db_rollback(r) == DB_OK);             /* a goes on to p: a cycle */
    ja = collect(&a, 3);
    jb = collect(&b, 2);
    for (store_job *j = ja; j; j = j->next)
        CHECK(j->status == STORE_OK || j->status == STORE_CONFLICT);
    for (store_job *j = jb; j; j = j->next)
        CHECK(j->status == STORE_OK || j->status == STORE_CONFLICT);
    if (ja && ja->next && ja->next->next && jb && jb->next) {
        int a_won = ja->status == STORE_OK;     /* a's q */
        CHECK(ja->next->status == STORE_OK);    /* m: nobody else wrote it */
        CHECK(ja->next->next->status == (a_won ? STORE_OK : STORE_CONFLICT));
        CHECK(jb->status == (a_won ? STORE_CONFLICT : STORE_OK));
        CHECK(jb->next->status == (a_won ? STORE_CONFLICT : STORE_OK));
        fprintf(stderr, "-- deadlock: node %s's batch was aborted and ran again\n",
                a_won ? "b" : "a");
    } else {
        CHECK(0);
    }
    free_all(ja);
    free_all(jb);
    for (int i = 0; i < 3; i++) {
        store_job *j = run(&a, store_job_new(STORE_LOAD, i == 0 ? "p" : i == 1 ? "q" : "m"));
        CHECK(j->status == STORE_OK && j->state.v == 1);
        store_job_free(j);
    }
    /* Neither store stopped. */
    free_all(run(&b, commit_job("after-deadlock", 0, STORE_OP_CREATE, "b", 3, create_e, 70,
                                NULL)));
    {
        store_job *j = run(&a, store_job_new(STORE_LOAD, "after-deadlock"));
        CHECK(j->status == STORE_OK && j->state.v == 1);
        store_job_free(j);
    }
    node_close(&a);
    node_close(&b);
    db_close(r);
    db_close(watch);
}

enum { RACE_OPS = 60 };

typedef struct racer {
    node n;
    const char *src;
    int conflicts, failures;
} racer;

/* Appends RACE_OPS increments to "r", each at the version its last load found; on a
 * conflict loads again and retries (what a node's room does: reload, then resubmit). */
static void *race(void *arg)
{
    racer *r = arg;
    int64_t v = 0;

    for (int seq = 1; seq <= RACE_OPS;) {
        char ms[32];
        store_job *j;
        int status;

        /* Every 16th version a milestone: the document after the op at v is {n: v}. */
        snprintf(ms, sizeof ms, "{\"n\":%lld}", (long long)v);
        j = run(&r->n, commit_job("r", v, STORE_OP_EDIT, r->src, seq,
                                  "[{\"p\":[\"n\"],\"na\":1}]", 100 + v,
                                  v % 16 == 15 ? ms : NULL));
        status = j->status;

        store_job_free(j);
        if (status == STORE_OK) {
            seq++;
            v++;
            continue;
        }
        if (status != STORE_CONFLICT) {
            r->failures++;
            return NULL;
        }
        r->conflicts++;
        j = run(&r->n, store_job_new(STORE_LOAD, "r"));
        if (j->status != STORE_OK) {
            r->failures++;
            store_job_free(j);
            return NULL;
        }
        v = j->state.v;
        store_job_free(j);
    }
    return NULL;
}

static void test_pg_two_nodes_race(void)
{
    racer r[2] = {{.src = "node-a"}, {.src = "node-b"}};
    pthread_t t[2];
    node check;
    store_job *j;
    int seen[2][RACE_OPS + 1] = {{0}};

    if (node_open(&check, pg_url, 1) != 0) {
        CHECK(0);
        return;
    }
    free_all(run(&check, commit_job("r", 0, STORE_OP_CREATE, "c", 1, create_d, 100, NULL)));
    for (int i = 0; i < 2; i++)
        CHECK(node_open(&r[i].n, pg_url, 1) == 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, race, &r[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(r[0].failures == 0 && r[1].failures == 0);
    fprintf(stderr, "-- race: %d and %d conflicts lost and retried\n", r[0].conflicts,
            r[1].conflicts);

    /* Contiguous versions 1 .. 2 RACE_OPS, every (src, seq) once. */
    j = store_job_new(STORE_READ_OPS, "r");
    j->from = 1;
    j->to = 1000;
    j->max_ops = 1000;
    j = run(&check, j);
    CHECK(j->status == STORE_OK && j->n_ops == 2 * RACE_OPS);
    for (size_t i = 0; i < j->n_ops; i++) {
        int who = strcmp(j->ops[i].src, "node-b") == 0;
        CHECK(j->ops[i].v == (int64_t)i + 1);
        CHECK(j->ops[i].seq >= 1 && j->ops[i].seq <= RACE_OPS);
        if (j->ops[i].seq >= 1 && j->ops[i].seq <= RACE_OPS)
            seen[who][j->ops[i].seq]++;
    }
    store_job_free(j);
    for (int w = 0; w < 2; w++)
        for (int s = 1; s <= RACE_OPS; s++)
            CHECK(seen[w][s] == 1);
    j = run(&check, store_job_new(STORE_LOAD, "r"));
    CHECK(j->status == STORE_OK && j->state.v == 2 * RACE_OPS + 1);
    {
        char expected[32];
        snprintf(expected, sizeof expected, "{\"n\":%d}", 2 * RACE_OPS);
        CHECK(json_is(j->state.data, expected));
    }
    store_job_free(j);
    for (int i = 0; i < 2; i++)
        node_close(&r[i].n);
    node_close(&check);
}

/* A database of this test's own on the cluster KONSIL_TEST_PG names. */
static int pg_make(void)
{
    db *d = NULL;
    char err[256], sql[128];
    const char *slash = strrchr(pg_admin, '/');

    if (!slash || db_open(pg_admin, 0, 5000, &d, err, sizeof err) != DB_OK) {
        fprintf(stderr, "  cannot open %s: %s\n", pg_admin, slash ? err : "no database name");
        return -1;
    }
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS konsil_store_%d", (int)getpid());
    db_exec(d, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE konsil_store_%d", (int)getpid());
    if (db_exec(d, sql) != DB_OK) {
        fprintf(stderr, "  %s: %s\n", sql, db_errmsg(d));
        db_close(d);
        return -1;
    }
    db_close(d);
    snprintf(pg_url, sizeof pg_url, "%.*s/konsil_store_%d", (int)(slash - pg_admin), pg_admin,
             (int)getpid());
    return 0;
}

static void pg_drop(void)
{
    db *d = NULL;
    char err[256], sql[128];

    if (db_open(pg_admin, 0, 5000, &d, err, sizeof err) != DB_OK)
        return;
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS konsil_store_%d", (int)getpid());
    db_exec(d, sql);
    db_close(d);
}

int main(void)
{
    pg_admin = getenv("KONSIL_TEST_PG");
    RUN(test_sqlite);
    if (!pg_admin || !*pg_admin) {
        fprintf(stderr, "-- PostgreSQL: skipped, KONSIL_TEST_PG names no database "
                        "(make check-pg sets it)\n");
        return unit_finish("test_store_backends");
    }
    if (pg_make() != 0) {
        unit_failed++;
        return unit_finish("test_store_backends");
    }
    RUN(test_pg_op_log);
    RUN(test_pg_refusals);
    RUN(test_pg_conflict);
    RUN(test_pg_deadlock);
    RUN(test_pg_two_nodes_race);
    pg_drop();
    return unit_finish("test_store_backends");
}
