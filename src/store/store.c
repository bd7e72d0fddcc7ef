/*
 * The store's threads and queues (see store.h). One mutex guards four lists: commits
 * (and writer calls) waiting for the writer, reads waiting for the reader, slow calls
 * waiting for the worker, and finished jobs waiting for the service thread. The writer
 * takes every waiting commit at once (up to max_batch): that is the group commit, with
 * no timer, because commits queue up while the previous fsync runs, and the service
 * thread hands over the commits of one pass over its sockets together
 * (store_submit_quiet(), then store_kick()).
 *
 * Each thread waits on a condition of its own, signalled after the mutex is released:
 * the server runs on one core, where every needless wakeup is two context switches and
 * a thread woken while the mutex is still held blocks on it at once.
 *
 * The commit policy (await_commits): at moderate load commits rarely coincide, and each
 * transaction costs its WAL frames and an fdatasync however few ops it holds. So when
 * commits have been arriving less than commit_wait_us apart, the writer lets the
 * waiting ones wait for the next as long as one is due (twice the average gap since
 * the latest), but never longer than commit_wait_us after the oldest was queued: acked
 * still means durable, an op only waits a little longer for its ack. A wait that
 * catches nothing (the clients wait for their acks, as under saturation) makes the
 * writer skip waiting for the next 1, 2, 4 … 64 batches.
 */
#include "store/store_internal.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_sqlite.h"
#include "store/store_crypt.h"

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
    doc_init(&job->state);
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
    store_op_clear(&job->follow);
    free(job->milestone);
    doc_clear(&job->state);
    for (size_t i = 0; i < job->n_ops; i++)
        store_op_clear(&job->ops[i]);
    free(job->ops);
    free(job->create_src);
    free(job->create_author);
    cJSON_Delete(job->in);
    cJSON_Delete(job->out);
    cJSON_Delete(job->audit);
    free(job);
}

store_job *store_call_new(int (*call)(sqlite3 *, store_job *), store_thread thread,
                          cJSON *in)
{
    store_job *job = store_job_new(STORE_CALL, "");

    if (!job) {
        cJSON_Delete(in);
        return NULL;
    }
    job->call = call;
    job->thread = thread;
    job->in = in;
    return job;
}

void store_refuse_unported(store_job *job)
{
    store_refuse(job, STORE_ERR_INTERNAL, NULL, "not available on PostgreSQL yet");
}

int store_refuse(store_job *job, store_err err, const char *code, const char *message)
{
    job->err = err;
    job->err_code = code;
    snprintf(job->err_message, sizeof job->err_message, "%s", message);
    cJSON_Delete(job->out);
    job->out = NULL;
    return -1;
}

/* An SQLite connection (on vfs, NULL: the default) and the layer's connection around it. */
static int open_db(store *s, sqlite3 **db, struct db **layer, int flags, const char *vfs,
                   char *err, size_t errlen)
{
    if (sqlite3_open_v2(s->path, db, flags | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    if (store_schema_configure(*db, s->cfg.busy_timeout_ms, err, errlen) != 0)
        return -1;
    *layer = db_sqlite_adopt(*db);
    if (!*layer) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The writer's connection registers after the key store is open (open_keys). */
    return flags & SQLITE_OPEN_READONLY ? store_crypt_register(*db, s->keys, err, errlen) : 0;
}

/* PostgreSQL: three connections of the layer (the reader's and the worker's read-only),
 * the schema migrated on the writer's. */
static int open_pg(store *s, char *err, size_t errlen)
{
    if (s->cfg.master_key) {
        snprintf(err, errlen, "encryption at rest (--master-key-file) is not available on "
                 "PostgreSQL yet");
        return -1;
    }
    if (db_open(s->path, 0, s->cfg.busy_timeout_ms, &s->w, err, errlen) != 0 ||
        store_schema_migrate_db(s->w, store_schema_latest(), err, errlen) != 0 ||
        store_writer_prepare(s, err, errlen) != 0 ||
        db_open(s->path, DB_OPEN_READONLY, s->cfg.busy_timeout_ms, &s->r, err, errlen) != 0 ||
        db_open(s->path, DB_OPEN_READONLY, s->cfg.busy_timeout_ms, &s->k, err, errlen) != 0)
        return -1;
    return 0;
}

/* The key store: with a master key, opened (made when missing), checked against the
 * database and bound to it, and what is still plaintext sealed once; without one, a
 * database whose case data is encrypted is refused. */
static int open_keys(store *s, char *err, size_t errlen)
{
    char bound[33], path[4200];

    snprintf(path, sizeof path, "%.4000s%s", s->cfg.keys_path ? s->cfg.keys_path : s->path,
             s->cfg.keys_path ? "" : ".keys");
    if (store_crypt_bound(s->wdb, bound, err, errlen) != 0)
        return -1;
    if (!s->cfg.master_key) {
        if (bound[0] || access(path, F_OK) == 0) {
            snprintf(err, errlen, "this database's case data is encrypted (key store %s): "
                     "give its master key (--master-key-file)", bound[0] ? bound : path);
            return -1;
        }
        return store_crypt_register(s->wdb, NULL, err, errlen);
    }
    if (store_keys_open(path, s->cfg.master_key, 1, &s->keys, err, errlen) != 0 ||
        store_crypt_register(s->wdb, s->keys, err, errlen) != 0 ||
        store_crypt_attach(s->wdb, s->keys, 1, err, errlen) != 0)
        return -1;
    return store_crypt_upgrade(s->wdb, s->keys, &s->sealed_at_open, err, errlen);
}

int store_encrypted(const store *s)
{
    return s->keys != NULL;
}

long store_sealed_at_open(const store *s)
{
    return s->sealed_at_open;
}

/* A node id fits a notification's space-separated words: 1 to 64 of [A-Za-z0-9_-]. */
static int node_id_ok(const char *node)
{
    size_t n = strlen(node);

    if (n < 1 || n > 64)
        return 0;
    return strspn(node, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int store_open(const store_config *cfg, store **out, char *err, size_t errlen)
{
    store *s;

    *out = NULL;
    if (cfg->node && !node_id_ok(cfg->node)) {
        snprintf(err, errlen, "node id: 1 to 64 letters, digits, - or _");
        return -1;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    if (!s->cfg.max_batch)
        s->cfg.max_batch = 1;
    s->path = strdup(cfg->path);
    pthread_mutex_init(&s->lock, NULL);
    {
        pthread_condattr_t a;       /* await_commits() waits on the monotonic clock */
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&s->writes_cond, &a);
        pthread_condattr_destroy(&a);
    }
    s->gap_ns = 8 * s->cfg.commit_wait_us * 1000;  /* no waiting before commits come */
    pthread_cond_init(&s->reads_cond, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    histo_init(&s->metrics.commit_ns, histo_latency_ns,
               sizeof histo_latency_ns / sizeof histo_latency_ns[0]);
    histo_init(&s->metrics.fsync_ns, histo_latency_ns,
               sizeof histo_latency_ns / sizeof histo_latency_ns[0]);
    histo_init(&s->metrics.batch_jobs, histo_sizes, sizeof histo_sizes / sizeof histo_sizes[0]);
    s->pg = db_is_postgres(cfg->path);
    if (!s->path) {
        snprintf(err, errlen, "out of memory");
        store_close(s);
        return -1;
    }
    /* On PostgreSQL the fsyncs are the server's: the timing VFS is SQLite's alone. */
    if (s->pg ? open_pg(s, err, errlen) != 0 :
        store_vfs_open(&s->vfs, &s->metrics.fsync_ns, err, errlen) != 0 ||
        open_db(s, &s->wdb, &s->w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                store_vfs_name(s->vfs), err, errlen) != 0 ||
        store_schema_migrate(s->wdb, err, errlen) != 0 ||
        open_keys(s, err, errlen) != 0 ||
        store_writer_prepare(s, err, errlen) != 0 ||
        open_db(s, &s->rdb, &s->r, SQLITE_OPEN_READONLY, NULL, err, errlen) != 0 ||
        open_db(s, &s->kdb, &s->k, SQLITE_OPEN_READONLY, NULL, err, errlen) != 0) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Hands finished jobs to the service thread. Only the first into an empty list wakes
 * it: while the list holds jobs, a wake-up is on its way already (the service thread
 * takes the whole list at once, store_take_done), and every lws_cancel_service() is a
 * write to lws's eventfd and one more loop pass over there. */
static void finish(store *s, store_job *list)
{
    int was_empty;

    pthread_mutex_lock(&s->lock);
    was_empty = s->done.head == NULL;
    queue_append_list(&s->done, list);
    pthread_mutex_unlock(&s->lock);
    if (was_empty && s->wake)
        s->wake(s->wake_arg);
}

static int64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Under the lock: a commit was queued at `now`. */
static void note_commit(store *s, int64_t now)
{
    const int64_t cap = 8 * s->cfg.commit_wait_us * 1000;
    int64_t gap = now - s->last_commit_ns;

    if (!s->writes.len)
        s->writes_since_ns = now;
    if (gap > cap)
        gap = cap;
    s->gap_ns += (gap - s->gap_ns) / 8;
    s->last_commit_ns = now;
}

/* Under the lock, with commits waiting: waits for more to share their transaction
 * while that is likely and allowed (see the comment at the top). */
static void await_commits(store *s)
{
    const int64_t bound = s->cfg.commit_wait_us * 1000;
    size_t before = s->writes.len;

    if (!bound || s->stopping)
        return;
    if (s->skip_waits) {
        s->skip_waits--;
        return;
    }
    for (;;) {
        int64_t until = s->last_commit_ns + 2 * s->gap_ns, now = now_ns();
        struct timespec t;

        if (s->gap_ns > bound || s->stopping || s->writes.len >= s->cfg.max_batch)
            break;
        if (until > s->writes_since_ns + bound)
            until = s->writes_since_ns + bound;
        if (now >= until)
            break;
        t.tv_sec = until / 1000000000;
        t.tv_nsec = until % 1000000000;
        pthread_cond_timedwait(&s->writes_cond, &s->lock, &t);
    }
    if (s->writes.len > before) {
        s->backoff = 0;
    } else if (s->gap_ns <= bound) {
        s->backoff = s->backoff ? (s->backoff < 64 ? s->backoff * 2 : 64) : 1;
        s->skip_waits = s->backoff;
    }
}

static void *writer_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_job *batch;
        pthread_mutex_lock(&s->lock);
        while (!s->writes.head && !s->stopping)
            pthread_cond_wait(&s->writes_cond, &s->lock);
        if (s->writes.head)
            await_commits(s);
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
            pthread_cond_wait(&s->reads_cond, &s->lock);
        job = queue_take(&s->reads, 1);
        pthread_mutex_unlock(&s->lock);
        if (!job)
            break;
        store_reader_run(s, job);
        finish(s, job);
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_job *job;
        pthread_mutex_lock(&s->lock);
        while (!s->work.head && !s->stopping)
            pthread_cond_wait(&s->work_cond, &s->lock);
        job = queue_take(&s->work, 1);
        pthread_mutex_unlock(&s->lock);
        if (!job)
            break;
        job->status = STORE_OK;
        if (s->kdb)
            job->call(s->kdb, job);
        else
            store_refuse_unported(job);
        finish(s, job);
    }
    return NULL;
}

static void stop_threads(store *s, int n)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    pthread_cond_broadcast(&s->writes_cond);
    pthread_cond_broadcast(&s->reads_cond);
    pthread_cond_broadcast(&s->work_cond);
    if (n > 0)
        pthread_join(s->writer, NULL);
    if (n > 1)
        pthread_join(s->reader, NULL);
    if (n > 2)
        pthread_join(s->worker, NULL);
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
        stop_threads(s, 1);
        return -1;
    }
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        snprintf(err, errlen, "cannot start the worker thread");
        stop_threads(s, 2);
        return -1;
    }
    s->threads_started = 1;
    return 0;
}

void store_run_now(store *s, store_job *job)
{
    if (job->kind == STORE_CALL && job->thread == STORE_WRITER)
        store_writer_commit(s, job);
    else
        store_reader_run(s, job);
}

/* Queues job for its thread; returns the condition that thread waits on. */
static pthread_cond_t *enqueue(store *s, store_job *job)
{
    store_queue *q = &s->reads;
    pthread_cond_t *cond = &s->reads_cond;

    if (job->kind == STORE_COMMIT || (job->kind == STORE_CALL && job->thread == STORE_WRITER)) {
        q = &s->writes;
        cond = &s->writes_cond;
    } else if (job->kind == STORE_CALL && job->thread == STORE_WORKER) {
        q = &s->work;
        cond = &s->work_cond;
    }
    pthread_mutex_lock(&s->lock);
    if (job->kind == STORE_COMMIT)
        note_commit(s, now_ns());
    queue_push(q, job);
    s->pending++;
    pthread_mutex_unlock(&s->lock);
    return cond;
}

void store_submit(store *s, store_job *job)
{
    pthread_cond_signal(enqueue(s, job));
}

void store_submit_quiet(store *s, store_job *job)
{
    enqueue(s, job);
}

void store_kick(store *s)
{
    pthread_cond_signal(&s->writes_cond);
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

const store_metrics *store_metrics_of(const store *s)
{
    return &s->metrics;
}

void store_queue_lengths(store *s, store_queues *out)
{
    pthread_mutex_lock(&s->lock);
    out->writer = s->writes.len;
    out->reader = s->reads.len;
    out->worker = s->work.len;
    out->done = s->done.len;
    pthread_mutex_unlock(&s->lock);
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
    if (s->threads_started)
        stop_threads(s, 3);
    while ((left = queue_take(&s->done, 1)) || (left = queue_take(&s->writes, 1)) ||
           (left = queue_take(&s->reads, 1)) || (left = queue_take(&s->work, 1)))
        store_job_free(left);
    store_writer_finalize(s);
    if (s->wdb)
        sqlite3_exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    /* The layer's connections first: on SQLite they leave the handles they wrap open. */
    db_close(s->k);
    db_close(s->r);
    db_close(s->w);
    sqlite3_close(s->kdb);
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    store_keys_free(s->keys);
    store_vfs_close(s->vfs);
    pthread_cond_destroy(&s->writes_cond);
    pthread_cond_destroy(&s->reads_cond);
    pthread_cond_destroy(&s->work_cond);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}
