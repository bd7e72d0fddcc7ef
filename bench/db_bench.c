/*
 * The op log's commit path on both backends of the database layer: W writer threads (one
 * connection each, as W nodes would have) append ops to the real schema in transactions of
 * B ops each, optionally with a pg_notify per transaction (what a node's writer does to tell
 * the others). Prints ops/s, commits/s and this process's CPU per op (on PostgreSQL the
 * server's CPU is not in it).
 *
 *   build/bench/db_bench TARGET OPS BATCH WRITERS NOTIFY
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

static const char *target;
static long ops_per_writer, batch;
static int notify;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
    long id = (long)arg;
    char err[256], doc[32], text[] = "[{\"p\":[\"notes\",0],\"si\":\"a\"}]";
    db *d = NULL;
    db_stmt *st = NULL;

    snprintf(doc, sizeof doc, "cases/bench-%ld", id);
    if (db_open(target, 0, 10000, &d, err, sizeof err) != DB_OK ||
        db_prepare(d, "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES"
                      " (?1, ?2, 0, 'src', ?2, ?3, 'u1', ?4)", &st) != DB_OK) {
        fprintf(stderr, "writer %ld: %s\n", id, d ? db_errmsg(d) : err);
        exit(1);
    }
    for (long v = 0; v < ops_per_writer;) {
        if (db_begin(d, DB_WRITE) != DB_OK)
            goto fail;
        for (long k = 0; k < batch && v < ops_per_writer; k++, v++) {
            db_bind_text(st, 1, doc);
            db_bind_int64(st, 2, v);
            db_bind_int64(st, 3, v);
            db_bind_blob(st, 4, text, sizeof text - 1);
            if (db_step(st) != DB_DONE)
                goto fail;
            db_reset(st);
        }
        if (notify) {
            char payload[96];
            snprintf(payload, sizeof payload, "op n%ld %s %ld %ld", id, doc, v - batch, v);
            if (db_notify(d, "konsil", payload) != DB_OK)
                goto fail;
        }
        if (db_commit(d) != DB_OK)
            goto fail;
    }
    db_finalize(st);
    db_close(d);
    return NULL;
fail:
    fprintf(stderr, "writer %ld: %s\n", id, db_errmsg(d));
    exit(1);
}

int main(int argc, char **argv)
{
    int writers;
    char err[256];
    db *d = NULL;
    pthread_t t[64];
    struct rusage ru;
    double t0, secs, cpu;
    long total;

    if (argc != 6) {
        fprintf(stderr, "usage: %s TARGET OPS BATCH WRITERS NOTIFY\n", argv[0]);
        return 2;
    }
    target = argv[1];
    ops_per_writer = atol(argv[2]);
    batch = atol(argv[3]);
    writers = atoi(argv[4]);
    notify = atoi(argv[5]);
    if (ops_per_writer < 1 || batch < 1 || writers < 1 || writers > 64)
        return 2;
    if (!db_is_postgres(target)) {
        char side[1100];
        unlink(target);
        snprintf(side, sizeof side, "%s-wal", target);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", target);
        unlink(side);
    }
    if (db_open(target, DB_OPEN_CREATE, 10000, &d, err, sizeof err) != DB_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (db_is_postgres(target))
        db_exec(d, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    if (store_schema_migrate_db(d, store_schema_latest(), err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    db_close(d);
    t0 = now();
    for (long i = 0; i < writers; i++)
        pthread_create(&t[i], NULL, writer, (void *)i);
    for (int i = 0; i < writers; i++)
        pthread_join(t[i], NULL);
    secs = now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    total = ops_per_writer * writers;
    printf("%s backend=%s writers=%d batch=%ld notify=%d ops=%ld: %.0f ops/s, %.0f commits/s, "
           "%.1f us client CPU per op\n",
           "db_bench", db_is_postgres(target) ? "postgresql" : "sqlite", writers, batch, notify,
           total, (double)total / secs, (double)total / batch / secs, cpu / (double)total * 1e6);
    return 0;
}
