/*
 * What the store's threads share (store.c runs them; store_writer.c and store_reader.c
 * hold their SQL). Each thread owns its sqlite3 connection exclusively.
 */
#ifndef KONSIL_STORE_INTERNAL_H
#define KONSIL_STORE_INTERNAL_H

#include <pthread.h>

#include "store/store.h"

typedef struct store_queue {
    store_job *head, *tail;
    size_t len;
} store_queue;

struct store {
    store_config cfg;
    char *path;
    sqlite3 *wdb;                 /* writer thread only (after store_start) */
    sqlite3 *rdb;                 /* reader thread only */
    sqlite3 *kdb;                 /* worker thread only (read-only) */
    pthread_mutex_t lock;         /* guards the queues, `stopping` and `pending` */
    pthread_cond_t work_cond;     /* signalled when a job is queued or on stop */
    store_queue writes, reads, work, done;
    size_t pending;
    int stopping;
    int failed;                   /* writer only: a commit failed, refuse the rest */
    int threads_started;
    pthread_t writer, reader, worker;
    void (*wake)(void *);
    void *wake_arg;
    /* writer statements */
    sqlite3_stmt *ins_op, *ins_milestone;
};

/* store_writer.c: prepares statements; writes a batch in one transaction and sets
 * each job's status. */
int store_writer_prepare(store *s, char *err, size_t errlen);
void store_writer_finalize(store *s);
void store_writer_commit(store *s, store_job *batch);

/* store_reader.c: answers one read job on s->rdb. */
void store_reader_run(store *s, store_job *job);

#endif
