/*
 * The store's op log on either backend, through its real path: the writer thread's group
 * commit (store_submit_quiet, store_kick) with CLIENTS clients, each with one op in flight
 * on a document of its own (as a ShareDB client has), the next op handed over as soon as the
 * last one came back committed. Prints ops/s, ops per transaction and this process's CPU per
 * op (on PostgreSQL the server's CPU is not in it).
 *
 *   build/bench/store_bench TARGET OPS CLIENTS
 * TARGET: an SQLite file (removed first) or a postgresql:// URL (its tables are dropped
 * first).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "store/store.h"

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

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static store_job *op_job(int client, int64_t v)
{
    char doc[32];
    store_job *j;

    snprintf(doc, sizeof doc, "cases/bench-%d", client);
    j = store_job_new(STORE_COMMIT, doc);
    if (!j)
        return NULL;
    j->op.v = v;
    j->op.kind = v ? STORE_OP_EDIT : STORE_OP_CREATE;
    j->op.src = strdup("src");
    j->op.seq = v + 1;
    j->op.ts = 1000 + v;
    j->op.author = strdup("u1");
    j->op.op_text = strdup(v ? "[{\"p\":[\"notes\",0],\"si\":\"a\"}]" :
                               "{\"type\":\"http://sharejs.org/types/JSONv0\",\"data\":{}}");
    return j;
}

/* An empty database: SQLite's file removed, PostgreSQL's schema dropped. */
static int reset(const char *target)
{
    char err[256];
    db *d = NULL;

    if (!db_is_postgres(target)) {
        char side[1100];
        unlink(target);
        snprintf(side, sizeof side, "%s-wal", target);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", target);
        unlink(side);
        return 0;
    }
    if (db_open(target, 0, 10000, &d, err, sizeof err) != DB_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    db_exec(d, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    db_close(d);
    return 0;
}

int main(int argc, char **argv)
{
    store_config cfg = {.busy_timeout_ms = 10000, .max_batch = 256};
    char err[256];
    store *s = NULL;
    int64_t *next;
    long ops, sent = 0, done = 0, batches = 0;
    int clients;
    struct rusage ru;
    double t0, secs, cpu;

    if (argc != 4) {
        fprintf(stderr, "usage: %s TARGET OPS CLIENTS\n", argv[0]);
        return 2;
    }
    cfg.path = argv[1];
    ops = atol(argv[2]);
    clients = atoi(argv[3]);
    if (ops < 1 || clients < 1 || clients > 10000 || reset(cfg.path) != 0)
        return 2;
    next = calloc((size_t)clients, sizeof *next);
    if (!next || store_open(&cfg, &s, err, sizeof err) != 0 ||
        store_start(s, wake, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", next ? err : "out of memory");
        return 1;
    }
    t0 = now();
    for (int c = 0; c < clients && sent < ops; c++, sent++)
        store_submit_quiet(s, op_job(c, next[c]++));
    store_kick(s);
    while (done < ops) {
        store_job *list;
        pthread_mutex_lock(&lock);
        while (!wakes)
            pthread_cond_wait(&woken, &lock);
        wakes = 0;
        pthread_mutex_unlock(&lock);
        list = store_take_done(s);
        if (list)
            batches++;
        while (list) {
            store_job *j = list;
            int c = atoi(strrchr(j->doc, '-') + 1);
            list = j->next;
            if (j->status != STORE_OK) {
                fprintf(stderr, "commit failed: %s\n", j->error);
                return 1;
            }
            store_job_free(j);
            done++;
            if (sent < ops) {
                store_submit_quiet(s, op_job(c, next[c]++));
                sent++;
            }
        }
        store_kick(s);
    }
    secs = now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    store_close(s);
    free(next);
    printf("store_bench backend=%s clients=%d ops=%ld: %.0f ops/s, %.1f ops per wakeup, "
           "%.1f us client CPU per op\n", db_is_postgres(cfg.path) ? "postgresql" : "sqlite",
           clients, ops, (double)ops / secs, (double)ops / (double)batches,
           cpu / (double)ops * 1e6);
    return 0;
}
