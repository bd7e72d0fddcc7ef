/*
 * The database schema and its migrations. PRAGMA user_version holds how many
 * migrations have run; each migration runs once, in order, inside one transaction
 * with the version bump, so a crash leaves either the old or the new schema.
 * Add a migration by appending to the list; never edit one that has shipped.
 *
 * Tables:
 *   ops        the append-only op log, one row per document version (invariant 1);
 *              author is the principal id that submitted the op, ts the commit time
 *   milestones the document after every N-th op, so rebuilding any version replays
 *              fewer than N ops; type NULL when the document did not exist
 */
#include "store/store.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: op log and milestones */
    "CREATE TABLE ops ("
    "  doc TEXT NOT NULL,"
    "  v INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"          /* 0 edit, 1 create, 2 delete */
    "  src TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  author TEXT NOT NULL,"
    "  op TEXT,"
    "  PRIMARY KEY (doc, v)"
    ");"
    "CREATE INDEX ops_doc_ts ON ops (doc, ts, v);"
    "CREATE TABLE milestones ("
    "  doc TEXT NOT NULL,"
    "  v INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  type TEXT,"
    "  data TEXT,"
    "  PRIMARY KEY (doc, v)"
    ");",
};

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_schema_configure(sqlite3 *db, int busy_timeout_ms, char *err, size_t errlen)
{
    sqlite3_busy_timeout(db, busy_timeout_ms);
    if (exec(db, "PRAGMA journal_mode=WAL", err, errlen) != 0 ||
        exec(db, "PRAGMA synchronous=FULL", err, errlen) != 0 ||
        exec(db, "PRAGMA foreign_keys=ON", err, errlen) != 0)
        return -1;
    return 0;
}

static int user_version(sqlite3 *db, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_schema_migrate(sqlite3 *db, char *err, size_t errlen)
{
    const int latest = (int)(sizeof migrations / sizeof migrations[0]);
    char sql[64];
    int version;

    if (exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    if (user_version(db, &version, err, errlen) != 0)
        goto fail;
    if (version > latest) {
        snprintf(err, errlen, "database schema %d is newer than this konsil (%d)", version,
                 latest);
        goto fail;
    }
    for (int i = version; i < latest; i++)
        if (exec(db, migrations[i], err, errlen) != 0)
            goto fail;
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", latest);
    if (exec(db, sql, err, errlen) != 0 || exec(db, "COMMIT", err, errlen) != 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
