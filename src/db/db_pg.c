/*
 * The PostgreSQL backend of the database layer (db.h), through libpq.
 *
 * Statements: the SQL's `?`/`?N` placeholders become `$N` once, in db_prepare; the server
 * prepares the statement (PQprepare, a name of its own per connection) at its first
 * db_step, with the parameter types of the values bound then (int8, text, bytea; a null
 * leaves its type to the statement, which must fix it: CAST(? AS BIGINT) IS NULL), and
 * runs it with PQexecPrepared from then on. Parameters travel as text, blobs as binary;
 * results come as text (booleans read as 1/0, bytea decoded from hex) and are held whole
 * until the next step past the last row, reset or finalize.
 *
 * Transactions: DB_WRITE is READ COMMITTED. Every write transaction of the store either
 * inserts rows whose keys make a concurrent duplicate fail (the op log's (doc, v), a
 * login's token hash) or updates rows it locks (UPDATE takes the row lock, and READ
 * COMMITTED re-reads the row after the other transaction commits), and the one place where
 * a read decides a write across rows — the audit chain's head — is serialised with
 * db_lock. SERIALIZABLE would turn the same races into serialisation failures to retry
 * with nothing gained for these statements. DB_READ is REPEATABLE READ READ ONLY: every
 * statement of a read sees the same snapshot, as an SQLite read transaction does.
 *
 * Session settings: synchronous_commit=on (a commit returns once its WAL record is on
 * disk: acked means committed), lock_timeout = busy_ms, client_min_messages=warning, and
 * for DB_OPEN_READONLY default_transaction_read_only.
 */
#include "db/db_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

enum { OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25 };

typedef struct pg_db {
    db base;
    PGconn *conn;
    unsigned next_name;
} pg_db;

typedef struct pg_param {
    char *value;        /* owned; NULL: SQL null */
    int len;
    int format;         /* 0 text, 1 binary */
    unsigned type;      /* OID, 0: the statement decides */
    char num[24];       /* an int64's text (value points here) */
} pg_param;

typedef struct pg_stmt {
    db_stmt base;
    char *sql;          /* with $N placeholders */
    char name[24];
    int prepared;
    int n;
    pg_param *params;
    PGresult *res;
    int row, rows;      /* the current row of res (-1 before the first) and how many */
    int64_t changes;
    unsigned char **blobs;  /* decoded bytea of the current row, per column */
    size_t *blob_lens;
    int n_blobs;
} pg_stmt;

static pg_db *pg(db *d)
{
    return (pg_db *)d;
}

static pg_stmt *pgs(db_stmt *st)
{
    return (pg_stmt *)st;
}

static void set_err_text(db *d, const char *msg)
{
    size_t n;

    snprintf(d->err, sizeof d->err, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    n = strlen(d->err);
    while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
        d->err[--n] = '\0';
}

/* The layer's code for a finished command; records the message of a failure. */
static int map_result(pg_db *d, PGresult *res)
{
    const char *state;

    if (!res) {
        set_err_text(&d->base, PQerrorMessage(d->conn));
        return DB_ERROR;
    }
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        return DB_OK;
    default:
        break;
    }
    set_err_text(&d->base, PQresultErrorMessage(res));
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!state)
        return DB_ERROR;
    if (strcmp(state, "23505") == 0)                /* unique_violation */
        return DB_UNIQUE;
    if (strcmp(state, "40001") == 0 ||              /* serialization_failure */
        strcmp(state, "40P01") == 0 ||              /* deadlock_detected */
        strcmp(state, "55P03") == 0)                /* lock_not_available (lock_timeout) */
        return DB_RETRY;
    return DB_ERROR;
}

static int pg_exec(db *d, const char *sql)
{
    PGresult *res = PQexec(pg(d)->conn, sql);
    int rc = map_result(pg(d), res);

    PQclear(res);
    return rc;
}

static void pg_close(db *d)
{
    PQfinish(pg(d)->conn);
    free(d);
}

static int pg_prepare(db *d, const char *sql, db_stmt **out)
{
    pg_stmt *st = calloc(1, sizeof *st);

    if (!st)
        return db_fail(d, "out of memory");
    st->base.d = d;
    st->sql = db_sql_to_pg(sql, &st->n);
    if (!st->sql) {
        free(st);
        return db_fail(d, "bad placeholder or out of memory");
    }
    if (st->n && !(st->params = calloc((size_t)st->n, sizeof *st->params))) {
        free(st->sql);
        free(st);
        return db_fail(d, "out of memory");
    }
    snprintf(st->name, sizeof st->name, "k%u", ++pg(d)->next_name);
    st->row = -1;
    *out = &st->base;
    return DB_OK;
}

static pg_param *param(db_stmt *st, int i)
{
    if (i < 1 || i > pgs(st)->n) {
        db_fail(st->d, "no parameter %d", i);
        return NULL;
    }
    return &pgs(st)->params[i - 1];
}

static void param_clear(pg_param *p)
{
    if (p->value != p->num)
        free(p->value);
    p->value = NULL;
    p->len = 0;
    p->format = 0;
}

static int pg_bind_bytes(db_stmt *st, int i, const void *v, size_t len, int format,
                         unsigned type)
{
    pg_param *p = param(st, i);
    char *copy;

    if (!p)
        return DB_ERROR;
    if (len > 0x7fffffff || !(copy = malloc(len + 1)))
        return db_fail(st->d, "out of memory");
    memcpy(copy, v, len);
    copy[len] = '\0';
    param_clear(p);
    p->value = copy;
    p->len = (int)len;
    p->format = format;
    p->type = type;
    return DB_OK;
}

static int pg_bind_text(db_stmt *st, int i, const char *v)
{
    return pg_bind_bytes(st, i, v, strlen(v), 0, OID_TEXT);
}

static int pg_bind_blob(db_stmt *st, int i, const void *v, size_t len)
{
    return pg_bind_bytes(st, i, v, len, 1, OID_BYTEA);
}

static int pg_bind_int64(db_stmt *st, int i, int64_t v)
{
    pg_param *p = param(st, i);

    if (!p)
        return DB_ERROR;
    param_clear(p);
    p->len = snprintf(p->num, sizeof p->num, "%lld", (long long)v);
    p->value = p->num;
    p->type = OID_INT8;
    return DB_OK;
}

static int pg_bind_null(db_stmt *st, int i)
{
    pg_param *p = param(st, i);

    if (!p)
        return DB_ERROR;
    param_clear(p);
    if (!pgs(st)->prepared)
        p->type = 0;
    return DB_OK;
}

static void drop_blobs(pg_stmt *s)
{
    for (int i = 0; i < s->n_blobs; i++)
        PQfreemem(s->blobs[i]);
    free(s->blobs);
    free(s->blob_lens);
    s->blobs = NULL;
    s->blob_lens = NULL;
    s->n_blobs = 0;
}

static void drop_result(pg_stmt *s)
{
    drop_blobs(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->rows = 0;
}

static int ensure_prepared(pg_stmt *s)
{
    pg_db *d = pg(s->base.d);
    unsigned types[999];
    PGresult *res;
    int rc;

    if (s->prepared)
        return DB_OK;
    for (int i = 0; i < s->n; i++)
        types[i] = s->params[i].type;
    res = PQprepare(d->conn, s->name, s->sql, s->n, (const Oid *)types);
    rc = map_result(d, res);
    PQclear(res);
    if (rc == DB_OK)
        s->prepared = 1;
    return rc;
}

static int pg_step(db_stmt *st)
{
    pg_stmt *s = pgs(st);
    pg_db *d = pg(st->d);

    if (!s->res) {
        const char *values[999];
        int lens[999], formats[999], rc;

        if ((rc = ensure_prepared(s)) != DB_OK)
            return rc;
        for (int i = 0; i < s->n; i++) {
            values[i] = s->params[i].value;
            lens[i] = s->params[i].len;
            formats[i] = s->params[i].format;
        }
        s->res = PQexecPrepared(d->conn, s->name, s->n, values, lens, formats, 0);
        if ((rc = map_result(d, s->res)) != DB_OK) {
            drop_result(s);
            return rc;
        }
        s->rows = PQntuples(s->res);
        s->changes = PQcmdTuples(s->res)[0] ? strtoll(PQcmdTuples(s->res), NULL, 10) : 0;
        s->row = -1;
    }
    drop_blobs(s);
    if (s->row + 1 < s->rows) {
        s->row++;
        return DB_ROW;
    }
    s->row = s->rows;
    return DB_DONE;
}

static void pg_reset(db_stmt *st)
{
    drop_result(pgs(st));
}

static void pg_clear_bindings(db_stmt *st)
{
    for (int i = 0; i < pgs(st)->n; i++)
        param_clear(&pgs(st)->params[i]);
}

static void pg_finalize(db_stmt *st)
{
    pg_stmt *s = pgs(st);
    pg_db *d = pg(st->d);

    drop_result(s);
    if (s->prepared) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        /* In a failed transaction this fails too; the name is never used again. */
        PQclear(PQexec(d->conn, sql));
    }
    pg_clear_bindings(st);
    free(s->params);
    free(s->sql);
    free(s);
}

static int on_row(pg_stmt *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->rows && i >= 0 && i < PQnfields(s->res);
}

static int pg_column_count(db_stmt *st)
{
    return pgs(st)->res ? PQnfields(pgs(st)->res) : 0;
}

static int pg_column_is_null(db_stmt *st, int i)
{
    pg_stmt *s = pgs(st);
    return !on_row(s, i) || PQgetisnull(s->res, s->row, i);
}

static const char *pg_column_text(db_stmt *st, int i)
{
    pg_stmt *s = pgs(st);
    return pg_column_is_null(st, i) ? NULL : PQgetvalue(s->res, s->row, i);
}

static int64_t pg_column_int64(db_stmt *st, int i)
{
    const char *t = pg_column_text(st, i);

    if (!t)
        return 0;
    if (PQftype(pgs(st)->res, i) == 16)     /* bool */
        return t[0] == 't';
    return strtoll(t, NULL, 10);
}

static const void *pg_column_blob(db_stmt *st, int i, size_t *len)
{
    pg_stmt *s = pgs(st);
    const char *t = pg_column_text(st, i);

    *len = 0;
    if (!t)
        return NULL;
    if (PQftype(s->res, i) != OID_BYTEA) {
        *len = (size_t)PQgetlength(s->res, s->row, i);
        return t;
    }
    if (!s->blobs) {
        int n = PQnfields(s->res);
        s->blobs = calloc((size_t)n, sizeof *s->blobs);
        s->blob_lens = calloc((size_t)n, sizeof *s->blob_lens);
        if (!s->blobs || !s->blob_lens) {
            drop_blobs(s);
            return NULL;
        }
        s->n_blobs = n;
    }
    if (!s->blobs[i])
        s->blobs[i] = PQunescapeBytea((const unsigned char *)t, &s->blob_lens[i]);
    *len = s->blobs[i] ? s->blob_lens[i] : 0;
    return s->blobs[i];
}

static int64_t pg_changes(db_stmt *st)
{
    return pgs(st)->changes;
}

static int pg_begin(db *d, db_txn kind)
{
    return pg_exec(d, kind == DB_WRITE ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                       : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static int pg_commit(db *d)
{
    return pg_exec(d, "COMMIT");
}

static int pg_rollback(db *d)
{
    return pg_exec(d, "ROLLBACK");
}

/* One advisory-lock key per thing serialised: "Konsil" in the high bytes. */
static int pg_lock(db *d, db_lock_id what)
{
    char sql[96];

    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)",
             (long long)(0x4b6f6e73696c0000LL + (long long)what));
    return pg_exec(d, sql);
}

/* Runs sql (no parameters) and reads an integer from its first row; *out untouched when
 * there is none. */
static int query_int(db *d, const char *sql, int *out)
{
    PGresult *res = PQexec(pg(d)->conn, sql);
    int rc = map_result(pg(d), res);

    if (rc == DB_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        *out = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

static int pg_schema_version(db *d, int *out)
{
    int exists = 0;
    int rc = query_int(d, "SELECT CASE WHEN to_regclass('konsil_schema') IS NULL THEN 0 "
                          "ELSE 1 END", &exists);

    if (rc != DB_OK || !exists)
        return rc;
    return query_int(d, "SELECT version FROM konsil_schema", out);
}

static int pg_set_schema_version(db *d, int version)
{
    char sql[200];

    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS konsil_schema (version INTEGER NOT NULL);"
             "DELETE FROM konsil_schema; INSERT INTO konsil_schema (version) VALUES (%d)",
             version);
    return pg_exec(d, sql);
}

static int pg_notify(db *d, const char *channel, const char *payload)
{
    const char *values[2] = {channel, payload};
    PGresult *res = PQexecParams(pg(d)->conn, "SELECT pg_notify($1, $2)", 2, NULL, values,
                                 NULL, NULL, 0);
    int rc = map_result(pg(d), res);

    PQclear(res);
    return rc;
}

static int pg_reclaim(db *d, const char *const *tables)
{
    for (size_t i = 0; tables && tables[i]; i++) {
        char sql[128];
        for (const char *p = tables[i]; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_')
                return db_fail(d, "bad table name");
        snprintf(sql, sizeof sql, "VACUUM %.100s", tables[i]);
        if (pg_exec(d, sql) != DB_OK)
            return DB_ERROR;
    }
    return DB_OK;
}

static const db_ops pg_ops = {
    .close = pg_close, .exec = pg_exec, .prepare = pg_prepare,
    .bind_text = pg_bind_text, .bind_blob = pg_bind_blob, .bind_int64 = pg_bind_int64,
    .bind_null = pg_bind_null, .step = pg_step, .reset = pg_reset,
    .clear_bindings = pg_clear_bindings, .finalize = pg_finalize,
    .column_count = pg_column_count, .column_is_null = pg_column_is_null,
    .column_text = pg_column_text, .column_int64 = pg_column_int64,
    .column_blob = pg_column_blob, .changes = pg_changes, .begin = pg_begin,
    .commit = pg_commit, .rollback = pg_rollback, .lock = pg_lock,
    .schema_version = pg_schema_version, .set_schema_version = pg_set_schema_version,
    .notify = pg_notify, .reclaim = pg_reclaim,
};

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;  /* NOTICEs (an IF NOT EXISTS that found the table) are not errors */
}

int db_pg_open(const char *url, int flags, int busy_ms, db **out, char *err, size_t errlen)
{
    pg_db *d = calloc(1, sizeof *d);
    char setup[256];

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return DB_ERROR;
    }
    d->base.ops = &pg_ops;
    d->base.backend = DB_POSTGRES;
    d->conn = PQconnectdb(url);
    if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
        set_err_text(&d->base, d->conn ? PQerrorMessage(d->conn) : "out of memory");
        snprintf(err, errlen, "PostgreSQL: %s", d->base.err);
        goto fail;
    }
    PQsetNoticeProcessor(d->conn, quiet, NULL);
    snprintf(setup, sizeof setup,
             "SET synchronous_commit = on; SET lock_timeout = %d; "
             "SET client_min_messages = warning; SET default_transaction_read_only = %s",
             busy_ms > 0 ? busy_ms : 0, flags & DB_OPEN_READONLY ? "on" : "off");
    if (pg_exec(&d->base, setup) != DB_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", d->base.err);
        goto fail;
    }
    *out = &d->base;
    return DB_OK;
fail:
    pg_close(&d->base);
    return DB_ERROR;
}
