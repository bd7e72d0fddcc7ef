/*
 * The store's op log on either backend, through its real path: the writer thread's group
 * commit (store_submit_quiet, store_kick) with CLIENTS clients, each with one op in flight
 * on a document of its own (as a ShareDB client has), the next op handed over as soon as the
 * last one came back committed. Prints ops/s, ops per wakeup and this process's CPU per op
 * (on PostgreSQL the server's CPU is not in it).
 *
 *   build/bench/store_bench TARGET OPS CLIENTS [NODES]
 * TARGET: an SQLite file (removed first) or a postgresql:// URL (its tables are dropped
 * first). NODES (PostgreSQL, default 1): that many stores on the database, as that many
 * nodes would have, each with CLIENTS clients of its own and a node id, so each batch also
 * sends its notification ("op NODE DOC FROM TO"); OPS is the total over all of them.
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

/* One node: its store, its clients' next versions, its share of the ops. */
typedef struct bench_node {
    store *s;
    int id, clients;
    int64_t *next;
    long ops, batches;
    pthread_mutex_t lock;
    pthread_cond_t woken;
    int wakes;
    pthread_t thread;
} bench_node;

static void wake(void *arg)
{
    bench_node *n = arg;

    pthread_mutex_lock(&n->lock);
    n->wakes++;
    pthread_cond_signal(&n->woken);
    pthread_mutex_unlock(&n->lock);
}

static void *drive(void *arg)
{
    bench_node *n = arg;
    long sent = 0, done = 0;

    for (int c = 0; c < n->clients && sent < n->ops; c++, sent++)
        store_submit_quiet(n->s, op_job(n->id * 100000 + c, n->next[c]++));
    store_kick(n->s);
    while (done < n->ops) {
        store_job *list;
        pthread_mutex_lock(&n->lock);
        while (!n->wakes)
            pthread_cond_wait(&n->woken, &n->lock);
        n->wakes = 0;
        pthread_mutex_unlock(&n->lock);
        list = store_take_done(n->s);
        if (list)
            n->batches++;
        while (list) {
            store_job *j = list;
            int c = atoi(strrchr(j->doc, '-') + 1) % 100000;
            list = j->next;
            if (j->status != STORE_OK) {
                fprintf(stderr, "commit failed: %s\n", j->error);
                exit(1);
            }
            store_job_free(j);
            done++;
            if (sent < n->ops) {
                store_submit_quiet(n->s, op_job(n->id * 100000 + c, n->next[c]++));
                sent++;
            }
        }
        store_kick(n->s);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *target;
    char err[256], ids[16][16];
    bench_node nodes[16];
    long ops, batches = 0;
    int clients, n_nodes = 1;
    struct rusage ru;
    double t0, secs, cpu;

    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s TARGET OPS CLIENTS [NODES]\n", argv[0]);
        return 2;
    }
    target = argv[1];
    ops = atol(argv[2]);
    clients = atoi(argv[3]);
    if (argc == 5)
        n_nodes = atoi(argv[4]);
    if (ops < 1 || clients < 1 || clients > 10000 || n_nodes < 1 || n_nodes > 16 ||
        (n_nodes > 1 && !db_is_postgres(target)) || reset(target) != 0)
        return 2;
    memset(nodes, 0, sizeof nodes);
    for (int i = 0; i < n_nodes; i++) {
        bench_node *n = &nodes[i];
        store_config cfg = {.path = target, .busy_timeout_ms = 10000, .max_batch = 256};
        snprintf(ids[i], sizeof ids[i], "bench-%d", i);
        cfg.node = n_nodes > 1 || db_is_postgres(target) ? ids[i] : NULL;
        n->id = i;
        n->clients = clients;
        n->ops = ops / n_nodes + (i < ops % n_nodes);
        n->next = calloc((size_t)clients, sizeof *n->next);
        pthread_mutex_init(&n->lock, NULL);
        pthread_cond_init(&n->woken, NULL);
        if (!n->next || store_open(&cfg, &n->s, err, sizeof err) != 0 ||
            store_start(n->s, wake, n, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", n->next ? err : "out of memory");
            return 1;
        }
    }
    t0 = now();
    for (int i = 0; i < n_nodes; i++)
        pthread_create(&nodes[i].thread, NULL, drive, &nodes[i]);
    for (int i = 0; i < n_nodes; i++) {
        pthread_join(nodes[i].thread, NULL);
        batches += nodes[i].batches;
    }
    secs = now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    for (int i = 0; i < n_nodes; i++) {
        store_close(nodes[i].s);
        free(nodes[i].next);
    }
    printf("store_bench backend=%s nodes=%d clients=%d ops=%ld: %.0f ops/s, %.1f ops per wakeup, "
           "%.1f us client CPU per op\n", db_is_postgres(target) ? "postgresql" : "sqlite",
           n_nodes, clients, ops, (double)ops / secs, (double)ops / (double)batches,
           cpu / (double)ops * 1e6);
    return 0;
}
