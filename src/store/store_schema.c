/*
 * The database schema and its migrations. PRAGMA user_version holds how many
 * migrations have run; each migration runs once, in order, inside one transaction
 * with the version bump, so a crash leaves either the old or the new schema.
 * Add a migration by appending to the list; never edit one that has shipped.
 *
 * Tables:
 *   ops        the append-only op log, one row per document version (invariant 1);
 *              author is the principal id that submitted the op, ts the commit time
 *              (non-decreasing in v per document, so a time maps to a version by
 *              binary search). Clustered on (doc, v) (WITHOUT ROWID) and no other
 *              index: appending an op touches one B-tree page
 *   milestones the document after some of its ops (room.h, milestone_every), so
 *              rebuilding any version replays a bounded number of ops; type NULL when
 *              the document did not exist
 *   users      accounts (counsellor, supervisor, admin); password is the scrypt string
 *              of src/auth/password.h; disabled accounts cannot log in
 *   logins     login sessions by the SHA-256 of their cookie token (the token itself is
 *              never stored); kind 'user' or 'client' (then `session` binds it)
 *   sessions   session rooms; `template` is the template text the session was created
 *              with, so its rules never change under its history; the document id is
 *              the session id
 *   participants  counsellors and supervisors of a session (the lead included)
 *   links      client join links by the SHA-256 of their token
 *   clients    clients that joined through a link; status waiting/admitted/declined
 *   audit      the append-only audit chain of src/auth/audit.h
 *   grants     identified-reading grants: the lead lets a supervisor read a session's
 *              history unpseudonymised until expires_at (ms since the epoch)
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
    /* 2: accounts, login sessions, session rooms, links, clients, audit */
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  specialty TEXT,"
    "  password TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE logins ("
    "  token_hash TEXT PRIMARY KEY,"
    "  principal TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  session TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  template_name TEXT NOT NULL,"
    "  template TEXT NOT NULL,"
    "  lead TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  closed_at INTEGER"
    ");"
    "CREATE TABLE participants ("
    "  session TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  added_at INTEGER NOT NULL,"
    "  PRIMARY KEY (session, user_id)"
    ");"
    "CREATE INDEX participants_user ON participants (user_id);"
    "CREATE TABLE links ("
    "  id TEXT PRIMARY KEY,"
    "  session TEXT NOT NULL,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  max_uses INTEGER,"
    "  uses INTEGER NOT NULL DEFAULT 0,"
    "  lobby INTEGER NOT NULL DEFAULT 0,"
    "  revoked_at INTEGER"
    ");"
    "CREATE TABLE clients ("
    "  id TEXT PRIMARY KEY,"
    "  session TEXT NOT NULL,"
    "  link_id TEXT NOT NULL,"
    "  display_name TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  session TEXT,"
    "  details TEXT,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ");",
    /* 3: identified-reading grants; session events */
    "CREATE TABLE grants ("
    "  id TEXT PRIMARY KEY,"
    "  session TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  granted_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX grants_session_user ON grants (session, user_id, expires_at);"
    /* the session events beside a history page are read by session and time */
    "CREATE INDEX audit_session_ts ON audit (session, ts);",
    /* 4: the op log clustered on (doc, v), without the (doc, ts, v) index: each append
     * wrote three B-trees (rowid table, primary key, time index), now one */
    "CREATE TABLE ops_by_v ("
    "  doc TEXT NOT NULL,"
    "  v INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  src TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  author TEXT NOT NULL,"
    "  op TEXT,"
    "  PRIMARY KEY (doc, v)"
    ") WITHOUT ROWID;"
    "INSERT INTO ops_by_v (doc, v, kind, src, seq, ts, author, op)"
    "  SELECT doc, v, kind, src, seq, ts, author, op FROM ops;"
    "DROP TABLE ops;"
    "ALTER TABLE ops_by_v RENAME TO ops;",
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
