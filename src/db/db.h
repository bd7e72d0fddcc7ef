/*
 * The database layer: one small interface for every SQL statement Konsil runs, with two
 * backends behind it. A target that starts with postgresql:// or postgres:// is a
 * PostgreSQL database reached through libpq (db_pg.c); anything else is the path of an
 * SQLite file (db_sqlite.c), configured as Konsil always has (WAL, synchronous=FULL,
 * secure_delete, foreign keys, a busy timeout).
 *
 * SQL is written once, portably: `?` or `?N` placeholders (translated to `$N` once, when
 * a PostgreSQL statement is prepared), `INSERT … ON CONFLICT … DO UPDATE / DO NOTHING`
 * for upserts (both engines read it), no engine-specific functions. What the engines do
 * differently is a function of this interface, never a string edited at the call site:
 *   - transactions: db_begin(DB_WRITE) is SQLite's BEGIN IMMEDIATE (the file's one writer
 *     lock, taken at once) and PostgreSQL's READ COMMITTED transaction; db_begin(DB_READ)
 *     is a deferred SQLite read transaction and a PostgreSQL REPEATABLE READ READ ONLY one
 *     (one snapshot for every statement, as SQLite's WAL reader has);
 *   - serialising writers: db_lock(db, DB_LOCK_AUDIT_CHAIN, …) orders what must be ordered
 *     across nodes (PostgreSQL: a transaction-scoped advisory lock; SQLite: nothing to do,
 *     BEGIN IMMEDIATE already admits one writer at a time);
 *   - errors: a statement refused by a unique or primary key is DB_UNIQUE on both (the op
 *     log's (doc, v) key is how two nodes learn that one of them lost a race), a transaction
 *     the engine asks to retry (SQLite busy, PostgreSQL serialisation failure or deadlock)
 *     is DB_RETRY, anything else DB_ERROR with the engine's text in db_errmsg();
 *   - the schema version (PRAGMA user_version; a one-row table on PostgreSQL), reclaiming
 *     space after an erasure (a WAL checkpoint; VACUUM), cross-node notifications
 *     (nothing on SQLite, where one process is the only node; pg_notify, delivered when
 *     the transaction commits) are functions here too.
 *
 * After a statement fails inside a transaction, the caller rolls back: to a savepoint or
 * the whole transaction (PostgreSQL refuses every further statement of a transaction until
 * then; SQLite would go on). Code that keeps that rule behaves alike on both.
 *
 * Threads: a connection and its statements belong to one thread at a time.
 * Ownership: db_open's connection is the caller's until db_close(); a statement is the
 * caller's until db_finalize(), which must come before db_close() of its connection.
 * Texts and blobs a column returns stay valid until the next db_step(), db_reset() or
 * db_finalize() of that statement.
 */
#ifndef KONSIL_DB_H
#define KONSIL_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct db db;
typedef struct db_stmt db_stmt;

typedef enum db_backend { DB_SQLITE, DB_POSTGRES } db_backend;

/* Results of db_step() and of the functions that return an int. */
enum {
    DB_OK = 0,
    DB_ROW = 1,         /* db_step: a row is ready */
    DB_DONE = 2,        /* db_step: no (more) rows */
    DB_ERROR = -1,      /* anything else; db_errmsg() says what */
    DB_UNIQUE = -2,     /* a unique or primary key refused the row */
    DB_RETRY = -3       /* the engine asks for the transaction to be run again */
};

/* How db_open opens: create a missing SQLite file; read only (a PostgreSQL connection is
 * then a read-only session: default_transaction_read_only). */
enum { DB_OPEN_CREATE = 1, DB_OPEN_READONLY = 2 };

typedef enum db_txn { DB_READ, DB_WRITE } db_txn;

/* What db_lock() serialises. */
typedef enum db_lock_id {
    DB_LOCK_AUDIT_CHAIN = 1,    /* the audit chain's head: one append at a time */
    DB_LOCK_SCHEMA = 2          /* migrations: one process migrates, the others wait */
} db_lock_id;

/* Whether target names a PostgreSQL database (postgresql:// or postgres://). */
int db_is_postgres(const char *target);

/* Opens target. busy_ms: how long a statement waits for a lock before DB_RETRY (SQLite's
 * busy timeout, PostgreSQL's lock_timeout). 0, or -1 with the reason in err. */
int db_open(const char *target, int flags, int busy_ms, db **out, char *err, size_t errlen);
void db_close(db *d);
db_backend db_backend_of(const db *d);
/* The engine's text for the last failure on this connection (never NULL). */
const char *db_errmsg(db *d);

/* Runs sql, which may hold several statements and no placeholders. DB_OK or an error. */
int db_exec(db *d, const char *sql);

/* Prepares one statement. DB_OK with *out set, or an error (*out NULL). On PostgreSQL
 * the server sees it at its first db_step (its parameter types are those of the values
 * bound then), so a mistake in it may only show there. */
int db_prepare(db *d, const char *sql, db_stmt **out);
/* Parameters count from 1. Text and blobs are copied; NULL text binds SQL null. */
int db_bind_text(db_stmt *st, int i, const char *v);
int db_bind_blob(db_stmt *st, int i, const void *v, size_t len);
int db_bind_int64(db_stmt *st, int i, int64_t v);
int db_bind_null(db_stmt *st, int i);
/* DB_ROW, DB_DONE, or an error. */
int db_step(db_stmt *st);
/* Ready to run again with the same bindings; db_clear_bindings() sets them all null. */
void db_reset(db_stmt *st);
void db_clear_bindings(db_stmt *st);
void db_finalize(db_stmt *st);
int db_column_count(db_stmt *st);
int db_column_is_null(db_stmt *st, int i);
/* NULL for SQL null. */
const char *db_column_text(db_stmt *st, int i);
int64_t db_column_int64(db_stmt *st, int i);
/* NULL (and *len 0) for SQL null. */
const void *db_column_blob(db_stmt *st, int i, size_t *len);
/* Rows the last finished INSERT, UPDATE or DELETE of this statement changed. */
int64_t db_changes(db_stmt *st);

/* Transactions and savepoints (name: letters, digits and _ only). */
int db_begin(db *d, db_txn kind);
int db_commit(db *d);
int db_rollback(db *d);
int db_savepoint(db *d, const char *name);
int db_release(db *d, const char *name);
int db_rollback_to(db *d, const char *name);

/* Inside a write transaction: waits until no other transaction of any node holds `what`,
 * then holds it until this transaction ends. */
int db_lock(db *d, db_lock_id what);

/* The schema version this database is at (0: empty) and setting it inside the
 * migration's transaction. */
int db_schema_version(db *d, int *out);
int db_set_schema_version(db *d, int version);

/* Tells every node listening on channel (db_listen.h) the payload (at most
 * DB_NOTIFY_MAX bytes) when the current transaction commits; nothing on SQLite. */
enum { DB_NOTIFY_MAX = 7900 };
int db_notify(db *d, const char *channel, const char *payload);

/* After rows were erased: gives their space back and overwrites what can be overwritten
 * (SQLite: a TRUNCATE checkpoint of the WAL, with secure_delete on; PostgreSQL: VACUUM of
 * the tables, which frees the dead rows but does not zero them). Outside a transaction.
 * tables: NULL-terminated list. */
int db_reclaim(db *d, const char *const *tables);

#endif
