/*
 * What the store's threads share (store.c runs them; store_writer.c and store_reader.c
 * hold their SQL). Each thread owns its connection exclusively. The op log and its
 * snapshots (commits, loads, op ranges, snapshots) run on the database layer (db/db.h),
 * so on SQLite and on PostgreSQL; on SQLite the layer's connection wraps the thread's
 * sqlite3 handle, which the STORE_CALL functions still receive. On PostgreSQL there is no
 * sqlite3 handle, and STORE_CALL jobs are refused (protocol/cluster.md, "Where this
 * stands").
 */
#ifndef KONSIL_STORE_INTERNAL_H
#define KONSIL_STORE_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "db/db.h"
#include "store/store.h"
#include "store/store_vfs.h"

typedef struct store_queue {
    store_job *head, *tail;
    size_t len;
} store_queue;

struct store {
    store_config cfg;
    char *path;
    int pg;                       /* cfg.path names a PostgreSQL database */
    /* The layer's connections, one per thread: w the writer's (after store_start), r the
     * reader's, k the worker's (read-only). On SQLite each wraps the sqlite3 handle below
     * it; on PostgreSQL those handles are NULL. */
    db *w, *r, *k;
    sqlite3 *wdb, *rdb, *kdb;
    pthread_mutex_t lock;         /* guards the queues, `stopping` and `pending` */
    /* One condition per thread, signalled when its queue gains a job and on stop, so
     * a job wakes only the thread that runs it. */
    pthread_cond_t writes_cond, reads_cond, work_cond;
    store_queue writes, reads, work, done;
    size_t pending;
    int stopping;
    int failed;                   /* writer only: a commit failed, refuse the rest */
    int threads_started;
    pthread_t writer, reader, worker;
    void (*wake)(void *);
    void *wake_arg;
    store_metrics metrics;
    store_vfs *vfs;               /* the writer's files, fsyncs timed */
    /* the commit policy (store.c, await_commits), under `lock` */
    int64_t writes_since_ns;      /* when the oldest waiting commit was queued */
    int64_t last_commit_ns;       /* when the latest commit was queued */
    int64_t gap_ns;               /* moving average of the time between commits */
    unsigned skip_waits, backoff; /* batches to commit without waiting after a wait
                                     that caught nothing */
    /* writer statements */
    db_stmt *ins_op, *ins_milestone;
    struct store_keys *keys;      /* the key store, or NULL (no master key) */
    long sealed_at_open;
};

/* store_writer.c: prepares statements; writes a batch in one transaction and sets
 * each job's status. */
int store_writer_prepare(store *s, char *err, size_t errlen);
void store_writer_finalize(store *s);
void store_writer_commit(store *s, store_job *batch);

/* store_reader.c: answers one read job on s->r. */
void store_reader_run(store *s, store_job *job);
/* Refuses a STORE_CALL job on a backend its function does not run on yet (PostgreSQL):
 * STORE_ERR_INTERNAL, saying so. */
void store_refuse_unported(store_job *job);
/* Rebuilds document id at version v into *doc (cleared first) from the latest
 * milestone at or below v, replaying the ops since it. 0, or -1
 * with job->status and job->error set (v beyond the log, a damaged log, no memory). */
int store_reader_rebuild(sqlite3 *db, const char *id, int64_t v, doc_state *doc,
                         store_job *job);
/* The version after document id's last op (0 when it has none), or -1 (job->error). */
int64_t store_reader_head(sqlite3 *db, const char *id, store_job *job);

#endif
