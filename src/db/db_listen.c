/*
 * The notification thread (see db_listen.h). It waits in poll() on its connection's socket
 * and on a pipe that db_listen_stop() writes to, so stopping never waits for traffic.
 * Invariants: notes are queued in the order PostgreSQL delivered them; a resync note
 * follows every reconnection and precedes the notes received after it.
 */
#include "db/db_listen.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

struct db_listener {
    char *url;
    char **channels;
    size_t n_channels;
    void (*wake)(void *);
    void *arg;
    PGconn *conn;               /* the thread's alone once it runs */
    int stop_pipe[2];
    pthread_t thread;
    int started;
    pthread_mutex_t lock;       /* guards head/tail */
    db_note *head, *tail;
};

void db_note_free(db_note *list)
{
    while (list) {
        db_note *next = list->next;
        free(list->channel);
        free(list->payload);
        free(list);
        list = next;
    }
}

static void push(db_listener *l, db_note *n)
{
    pthread_mutex_lock(&l->lock);
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    pthread_mutex_unlock(&l->lock);
}

db_note *db_listen_take(db_listener *l)
{
    db_note *list;

    pthread_mutex_lock(&l->lock);
    list = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->lock);
    return list;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects and LISTENs; NULL (the reason in err) on failure. */
static PGconn *connect_listen(db_listener *l, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(l->url);

    if (!c || PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", c ? PQerrorMessage(c) : "out of memory");
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    for (size_t i = 0; i < l->n_channels; i++) {
        char sql[128];
        PGresult *res;
        snprintf(sql, sizeof sql, "LISTEN %.100s", l->channels[i]);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "PostgreSQL: %s", PQresultErrorMessage(res));
            PQclear(res);
            PQfinish(c);
            return NULL;
        }
        PQclear(res);
    }
    return c;
}

/* Queues every notification the connection has read; 1 when it queued any. */
static int drain(db_listener *l)
{
    PGnotify *n;
    int any = 0;

    while ((n = PQnotifies(l->conn))) {
        db_note *note = calloc(1, sizeof *note);
        if (note && (note->channel = strdup(n->relname)) &&
            (note->payload = strdup(n->extra ? n->extra : ""))) {
            push(l, note);
            any = 1;
        } else {
            db_note_free(note);     /* out of memory: the caller resyncs later anyway */
        }
        PQfreemem(n);
    }
    return any;
}

/* Waits up to ms for the stop pipe; 1 when stopping. */
static int stopping_within(db_listener *l, int ms)
{
    struct pollfd p = {.fd = l->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static void *listen_main(void *arg)
{
    db_listener *l = arg;
    char err[256];

    for (;;) {
        struct pollfd p[2] = {
            {.fd = PQsocket(l->conn), .events = POLLIN},
            {.fd = l->stop_pipe[0], .events = POLLIN},
        };
        int rc = poll(p, 2, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (p[1].revents)
            break;
        if (PQconsumeInput(l->conn) && PQstatus(l->conn) == CONNECTION_OK) {
            if (drain(l) && l->wake)
                l->wake(l->arg);
            continue;
        }
        /* The connection broke: reconnect, then tell the caller to read anew. */
        PQfinish(l->conn);
        l->conn = NULL;
        while (!(l->conn = connect_listen(l, err, sizeof err)))
            if (stopping_within(l, 500))
                return NULL;
        db_note *n = calloc(1, sizeof *n);
        if (n) {
            n->resync = 1;
            push(l, n);
        }
        if (l->wake)
            l->wake(l->arg);
    }
    return NULL;
}

static int valid_channel(const char *c)
{
    if (!*c || strlen(c) > 63)
        return 0;
    for (; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return 0;
    return 1;
}

int db_listen_start(const char *url, const char *const *channels, void (*wake)(void *),
                    void *arg, db_listener **out, char *err, size_t errlen)
{
    db_listener *l = calloc(1, sizeof *l);
    size_t n = 0;

    *out = NULL;
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->stop_pipe[0] = l->stop_pipe[1] = -1;
    pthread_mutex_init(&l->lock, NULL);
    while (channels[n])
        n++;
    l->wake = wake;
    l->arg = arg;
    if (!(l->url = strdup(url)) || !(l->channels = calloc(n + 1, sizeof *l->channels))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (!valid_channel(channels[i])) {
            snprintf(err, errlen, "bad channel name");
            goto fail;
        }
        if (!(l->channels[i] = strdup(channels[i]))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        l->n_channels++;
    }
    if (pipe(l->stop_pipe) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (!(l->conn = connect_listen(l, err, errlen)))
        goto fail;
    if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        snprintf(err, errlen, "cannot start the notification thread");
        goto fail;
    }
    l->started = 1;
    *out = l;
    return 0;
fail:
    db_listen_stop(l);
    return -1;
}

void db_listen_stop(db_listener *l)
{
    if (!l)
        return;
    if (l->started) {
        ssize_t w = write(l->stop_pipe[1], "x", 1);
        (void)w;
        pthread_join(l->thread, NULL);
    }
    PQfinish(l->conn);
    if (l->stop_pipe[0] >= 0)
        close(l->stop_pipe[0]);
    if (l->stop_pipe[1] >= 0)
        close(l->stop_pipe[1]);
    for (size_t i = 0; i < l->n_channels; i++)
        free(l->channels[i]);
    free(l->channels);
    free(l->url);
    db_note_free(l->head);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
