/*
 * The SQLite backend of the database layer (db.h): one sqlite3 connection in WAL mode
 * with synchronous=FULL (a commit is on disk when it returns), secure_delete (what is
 * deleted is overwritten with zeros), foreign keys and a busy timeout — the configuration
 * Konsil has always used. BEGIN IMMEDIATE / COMMIT / ROLLBACK are prepared once per
 * connection (the writer runs them for every batch). The file's single writer lock orders
 * every write transaction, so db_lock has nothing to add, and with one process there is
 * nobody to notify.
 */
#include "db/db_internal.h"
#include "db/db_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sq_db {
    db base;
    sqlite3 *h;
    int adopted;        /* the caller's handle: close leaves it open */
    sqlite3_stmt *begin_write, *begin_read, *commit, *rollback;
} sq_db;

typedef struct sq_stmt {
    db_stmt base;
    sqlite3_stmt *st;
    int64_t changes;
} sq_stmt;

static sq_db *sq(db *d)
{
    return (sq_db *)d;
}

static sq_stmt *sqs(db_stmt *st)
{
    return (sq_stmt *)st;
}

/* Maps an SQLite result to the layer's, recording the message of a failure. */
static int map_rc(sq_db *d, int rc)
{
    switch (rc) {
    case SQLITE_OK: return DB_OK;
    case SQLITE_ROW: return DB_ROW;
    case SQLITE_DONE: return DB_DONE;
    default: break;
    }
    db_fail(&d->base, "%s", sqlite3_errmsg(d->h));
    switch (sqlite3_extended_errcode(d->h)) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return DB_UNIQUE;
    default: break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_RETRY;
    default:
        return DB_ERROR;
    }
}

static int sq_exec(db *d, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(sq(d)->h, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int mapped = map_rc(sq(d), rc);
        if (msg)
            db_fail(d, "%s", msg);
        sqlite3_free(msg);
        return mapped;
    }
    return DB_OK;
}

static void sq_close(db *d)
{
    sq_db *s = sq(d);

    sqlite3_finalize(s->begin_write);
    sqlite3_finalize(s->begin_read);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    if (!s->adopted)
        sqlite3_close(s->h);
    free(s);
}

static int sq_prepare(db *d, const char *sql, db_stmt **out)
{
    sq_stmt *st = calloc(1, sizeof *st);
    int rc;

    if (!st)
        return db_fail(d, "out of memory");
    rc = sqlite3_prepare_v3(sq(d)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
    if (rc != SQLITE_OK || !st->st) {
        int mapped = rc != SQLITE_OK ? map_rc(sq(d), rc) : db_fail(d, "no statement in the SQL");
        free(st);
        return mapped;
    }
    st->base.d = d;
    *out = &st->base;
    return DB_OK;
}

static int bind_rc(db_stmt *st, int rc)
{
    return rc == SQLITE_OK ? DB_OK : map_rc(sq(st->d), rc);
}

static int sq_bind_text(db_stmt *st, int i, const char *v)
{
    return bind_rc(st, sqlite3_bind_text(sqs(st)->st, i, v, -1, SQLITE_TRANSIENT));
}

static int sq_bind_blob(db_stmt *st, int i, const void *v, size_t len)
{
    return bind_rc(st, sqlite3_bind_blob64(sqs(st)->st, i, v, len, SQLITE_TRANSIENT));
}

static int sq_bind_int64(db_stmt *st, int i, int64_t v)
{
    return bind_rc(st, sqlite3_bind_int64(sqs(st)->st, i, v));
}

static int sq_bind_null(db_stmt *st, int i)
{
    return bind_rc(st, sqlite3_bind_null(sqs(st)->st, i));
}

static int sq_step(db_stmt *st)
{
    int rc = sqlite3_step(sqs(st)->st);

    if (rc == SQLITE_DONE)
        sqs(st)->changes = sqlite3_changes64(sq(st->d)->h);
    return map_rc(sq(st->d), rc);
}

static void sq_reset(db_stmt *st)
{
    sqlite3_reset(sqs(st)->st);
}

static void sq_clear_bindings(db_stmt *st)
{
    sqlite3_clear_bindings(sqs(st)->st);
}

static void sq_finalize(db_stmt *st)
{
    sqlite3_finalize(sqs(st)->st);
    free(st);
}

static int sq_column_count(db_stmt *st)
{
    return sqlite3_column_count(sqs(st)->st);
}

static int sq_column_is_null(db_stmt *st, int i)
{
    return sqlite3_column_type(sqs(st)->st, i) == SQLITE_NULL;
}

static const char *sq_column_text(db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(sqs(st)->st, i);
}

static int64_t sq_column_int64(db_stmt *st, int i)
{
    return sqlite3_column_int64(sqs(st)->st, i);
}

static const void *sq_column_blob(db_stmt *st, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(sqs(st)->st, i);

    *len = p ? (size_t)sqlite3_column_bytes(sqs(st)->st, i) : 0;
    return p;
}

static int64_t sq_changes(db_stmt *st)
{
    return sqs(st)->changes;
}

/* Runs one of the connection's prepared transaction statements. */
static int run_fixed(sq_db *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : map_rc(s, rc);
}

static int sq_begin(db *d, db_txn kind)
{
    return run_fixed(sq(d), kind == DB_WRITE ? sq(d)->begin_write : sq(d)->begin_read);
}

static int sq_commit(db *d)
{
    return run_fixed(sq(d), sq(d)->commit);
}

static int sq_rollback(db *d)
{
    return run_fixed(sq(d), sq(d)->rollback);
}

static int sq_lock(db *d, db_lock_id what)
{
    (void)d;
    (void)what;
    return DB_OK;   /* BEGIN IMMEDIATE holds the file's one writer lock already */
}

static int sq_schema_version(db *d, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sq(d)->h, "PRAGMA user_version", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return map_rc(sq(d), rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? DB_OK : map_rc(sq(d), rc);
}

static int sq_set_schema_version(db *d, int version)
{
    char sql[64];

    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", version);
    return sq_exec(d, sql);
}

static int sq_notify(db *d, const char *channel, const char *payload)
{
    (void)d;
    (void)channel;
    (void)payload;
    return DB_OK;   /* one process, one node: its own rooms learn of it directly */
}

static int sq_reclaim(db *d, const char *const *tables)
{
    (void)tables;   /* secure_delete zeroed the pages; the WAL still holds the old ones */
    return sq_exec(d, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static const db_ops sqlite_ops = {
    .close = sq_close, .exec = sq_exec, .prepare = sq_prepare,
    .bind_text = sq_bind_text, .bind_blob = sq_bind_blob, .bind_int64 = sq_bind_int64,
    .bind_null = sq_bind_null, .step = sq_step, .reset = sq_reset,
    .clear_bindings = sq_clear_bindings, .finalize = sq_finalize,
    .column_count = sq_column_count, .column_is_null = sq_column_is_null,
    .column_text = sq_column_text, .column_int64 = sq_column_int64,
    .column_blob = sq_column_blob, .changes = sq_changes, .begin = sq_begin,
    .commit = sq_commit, .rollback = sq_rollback, .lock = sq_lock,
    .schema_version = sq_schema_version, .set_schema_version = sq_set_schema_version,
    .notify = sq_notify, .reclaim = sq_reclaim,
};

/* BEGIN IMMEDIATE, BEGIN, COMMIT and ROLLBACK, prepared once for the connection. */
static int prepare_fixed(sq_db *s)
{
    return sqlite3_prepare_v3(s->h, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT,
                              &s->begin_write, NULL) == SQLITE_OK &&
           sqlite3_prepare_v3(s->h, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &s->begin_read,
                              NULL) == SQLITE_OK &&
           sqlite3_prepare_v3(s->h, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &s->commit,
                              NULL) == SQLITE_OK &&
           sqlite3_prepare_v3(s->h, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &s->rollback,
                              NULL) == SQLITE_OK ? 0 : -1;
}

int db_sqlite_open(const char *path, int flags, int busy_ms, db **out, char *err,
                   size_t errlen)
{
    int oflags = SQLITE_OPEN_NOMUTEX |
                 (flags & DB_OPEN_READONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                 (flags & DB_OPEN_CREATE && !(flags & DB_OPEN_READONLY) ? SQLITE_OPEN_CREATE : 0);
    static const char *const setup[] = {
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA secure_delete=ON",
        "PRAGMA foreign_keys=ON",
    };
    sq_db *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return DB_ERROR;
    }
    s->base.ops = &sqlite_ops;
    s->base.backend = DB_SQLITE;
    if (sqlite3_open_v2(path, &s->h, oflags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->h ? sqlite3_errmsg(s->h) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->h, 1);
    sqlite3_busy_timeout(s->h, busy_ms);
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++)
        if (sq_exec(&s->base, setup[i]) != DB_OK) {
            snprintf(err, errlen, "%s: %s", path, s->base.err);
            goto fail;
        }
    if (prepare_fixed(s) != 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->h));
        goto fail;
    }
    *out = &s->base;
    return DB_OK;
fail:
    sq_close(&s->base);
    return DB_ERROR;
}

db *db_sqlite_adopt(sqlite3 *handle)
{
    sq_db *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->base.ops = &sqlite_ops;
    s->base.backend = DB_SQLITE;
    s->h = handle;
    s->adopted = 1;
    if (prepare_fixed(s) != 0) {
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}

sqlite3 *db_sqlite_handle(db *d)
{
    return d && d->backend == DB_SQLITE ? sq(d)->h : NULL;
}
