/*
 * What the two backends of the database layer (db_sqlite.c, db_pg.c) provide to db.c:
 * a table of functions per backend, and the connection and statement heads every
 * backend's own structures begin with. Nothing outside src/db includes this.
 */
#ifndef KONSIL_DB_INTERNAL_H
#define KONSIL_DB_INTERNAL_H

#include "db/db.h"

typedef struct db_ops {
    void (*close)(db *d);
    int (*exec)(db *d, const char *sql);
    int (*prepare)(db *d, const char *sql, db_stmt **out);
    int (*bind_text)(db_stmt *st, int i, const char *v);
    int (*bind_blob)(db_stmt *st, int i, const void *v, size_t len);
    int (*bind_int64)(db_stmt *st, int i, int64_t v);
    int (*bind_null)(db_stmt *st, int i);
    int (*step)(db_stmt *st);
    void (*reset)(db_stmt *st);
    void (*clear_bindings)(db_stmt *st);
    void (*finalize)(db_stmt *st);
    int (*column_count)(db_stmt *st);
    int (*column_is_null)(db_stmt *st, int i);
    const char *(*column_text)(db_stmt *st, int i);
    int64_t (*column_int64)(db_stmt *st, int i);
    const void *(*column_blob)(db_stmt *st, int i, size_t *len);
    int64_t (*changes)(db_stmt *st);
    int (*begin)(db *d, db_txn kind);
    int (*commit)(db *d);
    int (*rollback)(db *d);
    int (*lock)(db *d, db_lock_id what);
    int (*schema_version)(db *d, int *out);
    int (*set_schema_version)(db *d, int version);
    int (*notify)(db *d, const char *channel, const char *payload);
    int (*reclaim)(db *d, const char *const *tables);
} db_ops;

struct db {
    const db_ops *ops;
    db_backend backend;
    char err[512];
};

struct db_stmt {
    db *d;
};

/* Records the reason of a failure on d (printf-style); returns DB_ERROR. */
int db_fail(db *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int db_sqlite_open(const char *path, int flags, int busy_ms, db **out, char *err,
                   size_t errlen);
int db_pg_open(const char *url, int flags, int busy_ms, db **out, char *err, size_t errlen);

/* SQL with `?` / `?N` placeholders in PostgreSQL's `$N` form: `?N` becomes `$N`, a bare
 * `?` the number after the largest one so far (SQLite's rule); nothing inside quotes or
 * comments changes. A new string (the caller frees it) and the number of parameters in
 * *n_params, or NULL when memory runs out or a number is out of range (1..999). */
char *db_sql_to_pg(const char *sql, int *n_params);

#endif
