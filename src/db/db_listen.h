/*
 * Cross-node notifications: a thread with a PostgreSQL connection of its own that LISTENs
 * on some channels and queues what arrives (db_notify() in any node's transaction, delivered
 * by PostgreSQL when that transaction commits, in commit order, never for one that rolled
 * back). The thread never calls into the caller except through wake(arg), which the
 * server points at lws_cancel_service(); the service thread then takes the queue with
 * db_listen_take().
 *
 * A lost connection loses the notifications sent meanwhile: the thread reconnects (every
 * half second until it succeeds or is stopped), LISTENs again, and then queues one note
 * with `resync` set, so the caller re-reads from the database what it may have missed.
 *
 * Ownership: the listener is the caller's until db_listen_stop(); the notes
 * db_listen_take() returns are the caller's, freed with db_note_free().
 */
#ifndef KONSIL_DB_LISTEN_H
#define KONSIL_DB_LISTEN_H

#include <stddef.h>

typedef struct db_note {
    struct db_note *next;
    char *channel;      /* NULL for a resync note */
    char *payload;
    int resync;         /* notifications may have been lost: read the state anew */
} db_note;

typedef struct db_listener db_listener;

/* Connects to url (a postgresql:// URL), LISTENs on every channel of the NULL-terminated
 * list (letters, digits and _ only) and starts the thread. 0, or -1 with the reason in
 * err. */
int db_listen_start(const char *url, const char *const *channels, void (*wake)(void *),
                    void *arg, db_listener **out, char *err, size_t errlen);
/* Every note queued since the last call, oldest first; NULL when none. */
db_note *db_listen_take(db_listener *l);
/* Frees a list of notes. */
void db_note_free(db_note *list);
/* Stops the thread, closes its connection and frees what is still queued. */
void db_listen_stop(db_listener *l);

#endif
