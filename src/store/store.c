/*
 * The store's threads and queues (see store.h). One mutex guards three lists: commits
 * waiting for the writer, reads waiting for the reader, and finished jobs waiting for
 * the service thread. The writer takes every waiting commit at once (up to max_batch):
 * that is the group commit, with no timer, because commits queue up while the
 * previous fsync runs.
 */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void queue_push(store_queue *q, store_job *job)
{
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->len++;
}

static store_job *queue_take(store_queue *q, size_t max)
{
    store_job *head = q->head, *last = q->head;
    size_t n = 1;

    if (!head)
        return NULL;
    while (last->next && n < max) {
        last = last->next;
        n++;
    }
    q->head = last->next;
    if (!q->head)
        q->tail = NULL;
    last->next = NULL;
    q->len -= n;
    return head;
}

static void queue_append_list(store_queue *q, store_job *list)
{
    while (list) {
        store_job *next = list->next;
        queue_push(q, list);
        list = next;
    }
}

void store_op_clear(store_op *op)
{
    free(op->src);
    free(op->author);
    free(op->op_text);
    cJSON_Delete(op->op);
    memset(op, 0, sizeof *op);
}

store_job *store_job_new(store_job_kind kind, const char *doc)
{
    store_job *job = calloc(1, sizeof *job);

    if (!job)
        return NULL;
    job->kind = kind;
    job->create_v = -1;
    room_doc_init(&job->state);
    job->doc = strdup(doc);
    if (!job->doc) {
        free(job);
        return NULL;
    }
    return job;
}

void store_job_free(store_job *job)
{
    if (!job)
        return;
    free(job->doc);
    store_op_clear(&job->op);
    free(job->milestone);
    room_doc_clear(&job->state);
    for (size_t i = 0; i < job->n_ops; i++)
        store_op_clear(&job->ops[i]);
    free(job->ops);
    free(job->create_src);
    free(job->create_author);
    free(job->text);
    free(job);
}

static int open_db(store *s, sqlite3 **db, int flags, char *err, size_t errlen)
{
    if (sqlite3_open_v2(s->path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return store_schema_configure(*db, s->cfg.busy_timeout_ms, err, errlen);
}

int store_open(const store_config *cfg, store **out, char *err, size_t errlen)
{
    store *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    if (!s->cfg.max_batch)
        s->cfg.max_batch = 1;
    s->path = strdup(cfg->path);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    if (!s->path ||
        open_db(s, &s->wdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen) != 0 ||
        store_schema_migrate(s->wdb, err, errlen) != 0 ||
        store_writer_prepare(s, err, errlen) != 0 ||
        open_db(s, &s->rdb, SQLITE_OPEN_READONLY, err, errlen) != 0) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void finish(store *s, store_job *list)
{
    pthread_mutex_lock(&s->lock);
    queue_append_list(&s->done, list);
    pthread_mutex_unlock(&s->lock);
    if (s->wake)
        s->wake(s->wake_arg);
}

static void *writer_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_job *batch;
        pthread_mutex_lock(&s->lock);
        while (!s->writes.head && !s->stopping)
            pthread_cond_wait(&s->work, &s->lock);
        batch = queue_take(&s->writes, s->cfg.max_batch);
        pthread_mutex_unlock(&s->lock);
        if (!batch)
            break;  /* stopping and drained */
        store_writer_commit(s, batch);
        finish(s, batch);
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_job *job;
        pthread_mutex_lock(&s->lock);
        while (!s->reads.head && !s->stopping)
            pthread_cond_wait(&s->work, &s->lock);
        job = queue_take(&s->reads, 1);
        pthread_mutex_unlock(&s->lock);
        if (!job)
            break;
        store_reader_run(s, job);
        finish(s, job);
    }
    return NULL;
}

int store_start(store *s, void (*wake)(void *), void *arg, char *err, size_t errlen)
{
    s->wake = wake;
    s->wake_arg = arg;
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        return -1;
    }
    if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
        snprintf(err, errlen, "cannot start the reader thread");
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_broadcast(&s->work);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->writer, NULL);
        return -1;
    }
    s->threads_started = 1;
    return 0;
}

void store_submit(store *s, store_job *job)
{
    pthread_mutex_lock(&s->lock);
    queue_push(job->kind == STORE_COMMIT ? &s->writes : &s->reads, job);
    s->pending++;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
}

store_job *store_take_done(store *s)
{
    store_job *list;

    pthread_mutex_lock(&s->lock);
    s->pending -= s->done.len;
    list = queue_take(&s->done, (size_t)-1);
    pthread_mutex_unlock(&s->lock);
    return list;
}

size_t store_pending(store *s)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->pending;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void store_close(store *s)
{
    store_job *left;

    if (!s)
        return;
    if (s->threads_started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_broadcast(&s->work);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->writer, NULL);
        pthread_join(s->reader, NULL);
    }
    while ((left = queue_take(&s->done, 1)) || (left = queue_take(&s->writes, 1)) ||
           (left = queue_take(&s->reads, 1)))
        store_job_free(left);
    store_writer_finalize(s);
    if (s->wdb)
        sqlite3_exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}
