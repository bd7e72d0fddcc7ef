/*
 * The database layer's front (see db.h): picks the backend by the target's form, hands
 * every call to the backend's table, and keeps what is the same on both (savepoints, the
 * placeholder translation PostgreSQL statements go through once, at prepare).
 */
#include "db/db_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_fail(db *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return DB_ERROR;
}

int db_is_postgres(const char *target)
{
    return target && (strncmp(target, "postgresql://", 13) == 0 ||
                      strncmp(target, "postgres://", 11) == 0);
}

int db_open(const char *target, int flags, int busy_ms, db **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!target || !*target) {
        snprintf(err, errlen, "no database given");
        return DB_ERROR;
    }
    if (db_is_postgres(target))
        return db_pg_open(target, flags, busy_ms, out, err, errlen);
    return db_sqlite_open(target, flags, busy_ms, out, err, errlen);
}

void db_close(db *d)
{
    if (d)
        d->ops->close(d);
}

db_backend db_backend_of(const db *d)
{
    return d->backend;
}

const char *db_errmsg(db *d)
{
    return d->err;
}

int db_exec(db *d, const char *sql)
{
    return d->ops->exec(d, sql);
}

int db_prepare(db *d, const char *sql, db_stmt **out)
{
    *out = NULL;
    return d->ops->prepare(d, sql, out);
}

int db_bind_text(db_stmt *st, int i, const char *v)
{
    return v ? st->d->ops->bind_text(st, i, v) : st->d->ops->bind_null(st, i);
}

int db_bind_blob(db_stmt *st, int i, const void *v, size_t len)
{
    return v ? st->d->ops->bind_blob(st, i, v, len) : st->d->ops->bind_null(st, i);
}

int db_bind_int64(db_stmt *st, int i, int64_t v)
{
    return st->d->ops->bind_int64(st, i, v);
}

int db_bind_null(db_stmt *st, int i)
{
    return st->d->ops->bind_null(st, i);
}

int db_step(db_stmt *st)
{
    return st->d->ops->step(st);
}

void db_reset(db_stmt *st)
{
    if (st)
        st->d->ops->reset(st);
}

void db_clear_bindings(db_stmt *st)
{
    if (st)
        st->d->ops->clear_bindings(st);
}

void db_finalize(db_stmt *st)
{
    if (st)
        st->d->ops->finalize(st);
}

int db_column_count(db_stmt *st)
{
    return st->d->ops->column_count(st);
}

int db_column_is_null(db_stmt *st, int i)
{
    return st->d->ops->column_is_null(st, i);
}

const char *db_column_text(db_stmt *st, int i)
{
    return st->d->ops->column_text(st, i);
}

int64_t db_column_int64(db_stmt *st, int i)
{
    return st->d->ops->column_int64(st, i);
}

const void *db_column_blob(db_stmt *st, int i, size_t *len)
{
    return st->d->ops->column_blob(st, i, len);
}

int64_t db_changes(db_stmt *st)
{
    return st->d->ops->changes(st);
}

int db_begin(db *d, db_txn kind)
{
    return d->ops->begin(d, kind);
}

int db_commit(db *d)
{
    return d->ops->commit(d);
}

int db_rollback(db *d)
{
    return d->ops->rollback(d);
}

/* SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT read the same on both engines. */
static int savepoint_sql(db *d, const char *verb, const char *name)
{
    char sql[128];

    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return db_fail(d, "bad savepoint name");
    if (!*name || strlen(name) > 64)
        return db_fail(d, "bad savepoint name");
    snprintf(sql, sizeof sql, "%s %s", verb, name);
    return d->ops->exec(d, sql);
}

int db_savepoint(db *d, const char *name)
{
    return savepoint_sql(d, "SAVEPOINT", name);
}

int db_release(db *d, const char *name)
{
    return savepoint_sql(d, "RELEASE SAVEPOINT", name);
}

int db_rollback_to(db *d, const char *name)
{
    return savepoint_sql(d, "ROLLBACK TO SAVEPOINT", name);
}

int db_lock(db *d, db_lock_id what)
{
    return d->ops->lock(d, what);
}

int db_schema_version(db *d, int *out)
{
    *out = 0;
    return d->ops->schema_version(d, out);
}

int db_set_schema_version(db *d, int version)
{
    return d->ops->set_schema_version(d, version);
}

int db_notify(db *d, const char *channel, const char *payload)
{
    if (strlen(payload) > DB_NOTIFY_MAX)
        return db_fail(d, "notification payload over %d bytes", DB_NOTIFY_MAX);
    return d->ops->notify(d, channel, payload);
}

int db_reclaim(db *d, const char *const *tables)
{
    return d->ops->reclaim(d, tables);
}

char *db_sql_to_pg(const char *sql, int *n_params)
{
    size_t len = strlen(sql);
    /* `?` (1 byte) becomes at most `$999` (4 bytes). */
    char *out = malloc(len * 4 + 1), *o = out;
    int max = 0;

    if (!out)
        return NULL;
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            *o++ = *p++;
            while (*p) {
                if (*p == q && p[1] == q) {     /* a doubled quote stays inside */
                    *o++ = *p++;
                    *o++ = *p++;
                    continue;
                }
                if (*p == q)
                    break;
                *o++ = *p++;
            }
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            size_t n = end ? (size_t)(end + 2 - p) : strlen(p);
            memcpy(o, p, n);
            o += n;
            p += n;
        } else if (*p == '?') {
            int n = 0;
            p++;
            if (isdigit((unsigned char)*p)) {
                while (isdigit((unsigned char)*p) && n < 10000)
                    n = n * 10 + (*p++ - '0');
            } else {
                n = max + 1;
            }
            if (n < 1 || n > 999) {
                free(out);
                return NULL;
            }
            if (n > max)
                max = n;
            o += sprintf(o, "$%d", n);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *n_params = max;
    return out;
}
