/*
 * The schema on both backends: store_schema_migrate_db makes the same tables, columns (in
 * order, with the same NOT NULL) and indexes on SQLite and on PostgreSQL, with each
 * engine's type for each column (SQLite INTEGER: PostgreSQL integer or bigint; TEXT: text,
 * or bytea for the columns of case data; BLOB: bytea); migrating again changes nothing;
 * migration 5 moves a schema-4 session into a case on both; on PostgreSQL two processes
 * migrating one empty database at once both succeed, one after the other. PostgreSQL runs when
 * KONSIL_TEST_PG names a database (make check-pg); otherwise that half is skipped, said so.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "store/store.h"
#include "unit.h"

#define MAX_COLS 400

typedef struct col {
    char table[48], name[48], type[24];
    int notnull;
} col;

typedef struct schema {
    col cols[MAX_COLS];
    int n;
    char indexes[64][48];
    int n_indexes;
} schema;

static char sqlite_path[256];
static const char *pg_url;

static db *open_target(const char *target)
{
    db *d = NULL;
    char err[256];

    if (db_open(target, DB_OPEN_CREATE, 5000, &d, err, sizeof err) != DB_OK)
        fprintf(stderr, "  cannot open %s: %s\n", target, err);
    return d;
}

static int migrate(db *d, int version)
{
    char err[256];

    if (store_schema_migrate_db(d, version, err, sizeof err) != 0) {
        fprintf(stderr, "  migrate: %s\n", err);
        return -1;
    }
    return 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void read_sqlite(db *d, schema *s)
{
    db_stmt *t = NULL, *c = NULL;

    memset(s, 0, sizeof *s);
    CHECK(db_prepare(d, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                     &t) == DB_OK);
    while (t && db_step(t) == DB_ROW) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", db_column_text(t, 0));
        CHECK(db_prepare(d, sql, &c) == DB_OK);
        while (c && db_step(c) == DB_ROW && s->n < MAX_COLS) {
            col *x = &s->cols[s->n++];
            snprintf(x->table, sizeof x->table, "%s", db_column_text(t, 0));
            snprintf(x->name, sizeof x->name, "%s", db_column_text(c, 1));
            snprintf(x->type, sizeof x->type, "%s", db_column_text(c, 2));
            lower(x->type);
            x->notnull = db_column_int64(c, 3) || db_column_int64(c, 5);
        }
        db_finalize(c);
    }
    db_finalize(t);
    CHECK(db_prepare(d, "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT"
                        " LIKE 'sqlite_autoindex%' ORDER BY name", &t) == DB_OK);
    while (t && db_step(t) == DB_ROW && s->n_indexes < 64)
        snprintf(s->indexes[s->n_indexes++], 48, "%s", db_column_text(t, 0));
    db_finalize(t);
}

static void read_pg(db *d, schema *s)
{
    db_stmt *t = NULL;

    memset(s, 0, sizeof *s);
    CHECK(db_prepare(d, "SELECT table_name, column_name, data_type, is_nullable = 'NO'"
                        " FROM information_schema.columns WHERE table_schema = current_schema()"
                        " AND table_name <> 'konsil_schema' ORDER BY table_name, ordinal_position",
                     &t) == DB_OK);
    while (t && db_step(t) == DB_ROW && s->n < MAX_COLS) {
        col *x = &s->cols[s->n++];
        snprintf(x->table, sizeof x->table, "%s", db_column_text(t, 0));
        snprintf(x->name, sizeof x->name, "%s", db_column_text(t, 1));
        snprintf(x->type, sizeof x->type, "%s", db_column_text(t, 2));
        x->notnull = (int)db_column_int64(t, 3);
    }
    db_finalize(t);
    /* the indexes made by CREATE INDEX (not those of primary keys and UNIQUE columns) */
    CHECK(db_prepare(d, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                        " AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'"
                        " ORDER BY indexname", &t) == DB_OK);
    while (t && db_step(t) == DB_ROW && s->n_indexes < 64)
        snprintf(s->indexes[s->n_indexes++], 48, "%s", db_column_text(t, 0));
    db_finalize(t);
}

static int is_case_data(const col *c)
{
    return (!strcmp(c->table, "ops") && !strcmp(c->name, "op")) ||
           (!strcmp(c->table, "milestones") && !strcmp(c->name, "data")) ||
           (!strcmp(c->table, "cases") && !strcmp(c->name, "title")) ||
           (!strcmp(c->table, "clients") && !strcmp(c->name, "display_name"));
}

static void test_same_schema(void)
{
    db *sq = open_target(sqlite_path), *pg = open_target(pg_url);
    static schema a, b;
    int v = 0;

    if (!sq || !pg) {
        CHECK(0);
        goto out;
    }
    CHECK(db_exec(pg, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") == DB_OK);
    CHECK(migrate(sq, store_schema_latest()) == 0);
    CHECK(migrate(pg, store_schema_latest()) == 0);
    CHECK(migrate(pg, store_schema_latest()) == 0);     /* again: nothing to do */
    CHECK(db_schema_version(pg, &v) == DB_OK && v == store_schema_latest());
    read_sqlite(sq, &a);
    read_pg(pg, &b);
    CHECK(a.n > 50 && a.n == b.n);
    for (int i = 0; i < a.n && i < b.n; i++) {
        const col *x = &a.cols[i], *y = &b.cols[i];
        int type_ok = !strcmp(x->type, "integer")
                          ? !strcmp(y->type, "integer") || !strcmp(y->type, "bigint")
                      : !strcmp(x->type, "blob")
                          ? !strcmp(y->type, "bytea")
                          : !strcmp(x->type, "text") &&
                                !strcmp(y->type, is_case_data(x) ? "bytea" : "text");
        if (strcmp(x->table, y->table) || strcmp(x->name, y->name) || !type_ok ||
            x->notnull != y->notnull) {
            fprintf(stderr, "  column %d: SQLite %s.%s %s%s, PostgreSQL %s.%s %s%s\n", i,
                    x->table, x->name, x->type, x->notnull ? " not null" : "", y->table,
                    y->name, y->type, y->notnull ? " not null" : "");
            CHECK(0);
        }
    }
    CHECK(a.n_indexes > 5 && a.n_indexes == b.n_indexes);
    for (int i = 0; i < a.n_indexes && i < b.n_indexes; i++)
        CHECK_STR(b.indexes[i], a.indexes[i]);
out:
    db_close(sq);
    db_close(pg);
}

/* A schema-4 session with a participant and an op becomes a case, its team and its one
 * session on both engines. */
static void upgrade_on(const char *target)
{
    db *d = open_target(target);
    db_stmt *st = NULL;
    size_t len = 0;
    const char *title;

    if (!d) {
        CHECK(0);
        return;
    }
    if (db_backend_of(d) == DB_POSTGRES)
        CHECK(db_exec(d, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") == DB_OK);
    CHECK(migrate(d, 4) == 0);
    CHECK(db_exec(d, "INSERT INTO users VALUES ('u1', 'anna', 'Anna', 'counsellor', NULL,"
                     " 'x', 0, 1);"
                     "INSERT INTO sessions VALUES ('s1', 'Erstgespräch', 'default', '{}', 'u1',"
                     " 5, 9);"
                     "INSERT INTO participants VALUES ('s1', 'u1', 5);") == DB_OK);
    CHECK(db_prepare(d, "INSERT INTO ops (doc, v, kind, src, seq, ts, author, op) VALUES"
                        " ('s1', 0, 1, 'c', 1, 6, 'u1', ?)", &st) == DB_OK);
    CHECK(db_bind_blob(st, 1, "{\"type\":\"json0\"}", 16) == DB_OK);
    CHECK(db_step(st) == DB_DONE);
    db_finalize(st);
    CHECK(migrate(d, store_schema_latest()) == 0);
    CHECK(db_prepare(d, "SELECT c.title, c.status, t.role, s.end_v, tp.version FROM cases c"
                        " JOIN team t ON t.case_id = c.id JOIN sessions s ON s.case_id = c.id"
                        " JOIN templates tp ON tp.name = c.template_name WHERE c.id = 's1'",
                     &st) == DB_OK);
    CHECK(db_step(st) == DB_ROW);
    title = db_column_blob(st, 0, &len);
    CHECK(title && len == strlen("Erstgespräch") && !memcmp(title, "Erstgespräch", len));
    CHECK_STR(db_column_text(st, 1), "closed");
    CHECK_STR(db_column_text(st, 2), "lead");
    CHECK(db_column_int64(st, 3) == 1);
    CHECK(db_column_int64(st, 4) == 1);
    db_finalize(st);
    db_close(d);
}

static void test_upgrade(void)
{
    upgrade_on(sqlite_path);
    upgrade_on(pg_url);
}

static char fresh_url[1100];

static void *migrate_thread(void *arg)
{
    db *d = open_target(fresh_url);

    *(int *)arg = d ? migrate(d, store_schema_latest()) : -1;
    db_close(d);
    return NULL;
}

static void test_concurrent_migrations(void)
{
    db *d = open_target(pg_url), *f;
    pthread_t t[3];
    int rc[3] = {1, 1, 1}, v = 0;
    const char *slash = strrchr(pg_url, '/');

    if (!d || !slash) {
        CHECK(0);
        db_close(d);
        return;
    }
    db_exec(d, "DROP DATABASE IF EXISTS konsil_migrate_race");
    CHECK(db_exec(d, "CREATE DATABASE konsil_migrate_race") == DB_OK);
    snprintf(fresh_url, sizeof fresh_url, "%.*s/konsil_migrate_race", (int)(slash - pg_url),
             pg_url);
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, migrate_thread, &rc[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
    f = open_target(fresh_url);
    CHECK(f && db_schema_version(f, &v) == DB_OK && v == store_schema_latest());
    db_close(f);
    CHECK(db_exec(d, "DROP DATABASE konsil_migrate_race") == DB_OK);
    db_close(d);
}

int main(void)
{
    pg_url = getenv("KONSIL_TEST_PG");
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/konsil-test-schema-%d.db", (int)getpid());
    if (!pg_url || !*pg_url) {
        fprintf(stderr, "-- skipped: KONSIL_TEST_PG names no database (make check-pg sets it)\n");
        /* The SQLite half alone still checks that the layer migrates an SQLite file. */
        db *d = open_target(sqlite_path);
        int v = 0;
        CHECK(d && migrate(d, store_schema_latest()) == 0 && db_schema_version(d, &v) == DB_OK &&
              v == store_schema_latest());
        db_close(d);
        unlink(sqlite_path);
        unit_passed += unit_failed_checks == 0;
        unit_failed += unit_failed_checks != 0;
        return unit_finish("test_schema_backends");
    }
    RUN(test_same_schema);
    unlink(sqlite_path);
    RUN(test_upgrade);
    unlink(sqlite_path);
    RUN(test_concurrent_migrations);
    {
        char side[300];
        snprintf(side, sizeof side, "%s-wal", sqlite_path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", sqlite_path);
        unlink(side);
    }
    return unit_finish("test_schema_backends");
}
