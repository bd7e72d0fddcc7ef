/*
 * The database schema and its migrations. PRAGMA user_version holds how many
 * migrations have run; each migration runs once, in order, inside one transaction
 * with the version bump, so a crash leaves either the old or the new schema.
 * Add a migration by appending to the list, and its PostgreSQL form to
 * store_schema_pg.c; never edit one that has shipped. On PostgreSQL the version is kept
 * in the one-row table konsil_schema (db_schema_version), and the migrating transaction
 * holds a lock that makes a second node starting at the same time wait for the first.
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
 *              of src/auth/password.h ("" until a set-password link is used); disabled
 *              accounts cannot log in; totp_secret the second factor's secret sealed
 *              under the account's key in the key store ("account:<id>", store_crypt.h),
 *              totp_pending one being set up, totp_last_step the last TOTP step accepted for that secret (a code
 *              works once; a new secret starts again from 0)
 *   recovery_codes  an account's single-use codes for a lost second factor, by the
 *              SHA-256 of the code (src/auth/totp.h); used_at once used
 *   password_links  one-time links to set an account's password, by the SHA-256 of
 *              their token; expiring, single use, revoked by a newer one
 *   logins     login sessions by the SHA-256 of their cookie token (the token itself is
 *              never stored); kind 'user' or 'client' (then `session` binds it)
 *   templates  case-sheet templates by (name, version): versions are only ever added,
 *              never changed or removed, so a case's rules never change under its history
 *   cases      the cases: each owns the document whose id is the case id; the template
 *              (name, version) it started with; status open, closed or restricted
 *   team       who works on a case: lead, counsellor or supervisor, from added_at until
 *              removed_at (a row per membership; at most one current row per user)
 *   sessions   the meetings of a case: started_at/ended_at and the versions of the case
 *              document edited during it, [start_v, end_v) (end_v NULL while it runs)
 *   links      client join links of a session, by the SHA-256 of their token; lang the
 *              language the counsellor chose for the client's page (a BCP 47 tag) or NULL
 *   clients    clients that joined a session through a link; status
 *              waiting/admitted/declined
 *   audit      the append-only audit chain of src/auth/audit.h; its `session` column
 *              names the case an entry is about (before cases: the session, which became
 *              the case with the same id)
 *   grants     identified-reading grants: the lead lets a supervisor read a case's
 *              history unpseudonymised until expires_at (ms since the epoch)
 *
 *   holds      legal holds on a case (who, why, until): a held case is not erased
 *   erasure_requests  erasures asked for by the lead or an admin, waiting for a second
 *              staff member's confirmation
 *   erasures   the tombstones of erased cases: id, when, how (due, request,
 *              key_destroyed) and the audit entry that records it; nothing else of the
 *              case remains
 *   settings   key/value: the key store this database's case data is encrypted under
 *              (keystore_id) and the newest key-store generation it has seen
 *
 * Migration 5 turned the sessions of schema 4 (each owning its document) into cases
 * with the same id, each with that one session (same id, versions [0, end)), its
 * participants into the team and its templates into the templates table; nothing of
 * the op log moves.
 */
#include "store/store.h"

#include <stdio.h>

#include "db/db_sqlite.h"
#include "store/store_schema_pg.h"

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
    /* 5: cases. Every session becomes a case with the same id (its document id, the op
     * log's doc) and that one session; the template texts sessions were made with become
     * numbered versions of their names. */
    "CREATE TABLE templates ("
    "  name TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  added_at INTEGER NOT NULL,"
    "  added_by TEXT NOT NULL,"         /* konsil (shipped), cli, serve, migration */
    "  PRIMARY KEY (name, version)"
    ");"
    "INSERT INTO templates (name, version, text, added_at, added_by)"
    "  SELECT template_name, ROW_NUMBER() OVER (PARTITION BY template_name"
    "    ORDER BY first_used, template), template, first_used, 'migration'"
    "  FROM (SELECT template_name, template, MIN(created_at) AS first_used FROM sessions"
    "        GROUP BY template_name, template) AS used;"
    "CREATE TABLE cases ("
    "  id TEXT PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  template_name TEXT NOT NULL,"
    "  template_version INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"           /* open, closed, restricted */
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  closed_at INTEGER,"
    "  FOREIGN KEY (template_name, template_version) REFERENCES templates (name, version)"
    ");"
    "INSERT INTO cases (id, title, template_name, template_version, status, created_at,"
    "  created_by, closed_at)"
    "  SELECT s.id, s.title, s.template_name, t.version,"
    "    CASE WHEN s.closed_at IS NULL THEN 'open' ELSE 'closed' END, s.created_at, s.lead,"
    "    s.closed_at"
    "  FROM sessions s JOIN templates t ON t.name = s.template_name AND t.text = s.template;"
    "CREATE TABLE team ("
    "  case_id TEXT NOT NULL REFERENCES cases (id),"
    "  user_id TEXT NOT NULL,"
    "  role TEXT NOT NULL,"             /* lead, counsellor, supervisor */
    "  added_at INTEGER NOT NULL,"
    "  added_by TEXT NOT NULL,"
    "  removed_at INTEGER,"
    "  removed_by TEXT"
    ");"
    "CREATE UNIQUE INDEX team_current ON team (case_id, user_id) WHERE removed_at IS NULL;"
    "CREATE INDEX team_user ON team (user_id, case_id);"
    "INSERT INTO team (case_id, user_id, role, added_at, added_by)"
    "  SELECT p.session, p.user_id, CASE WHEN p.user_id = s.lead THEN 'lead'"
    "    WHEN u.role = 'supervisor' THEN 'supervisor' ELSE 'counsellor' END, p.added_at,"
    "    s.lead"
    "  FROM participants p JOIN sessions s ON s.id = p.session JOIN users u ON u.id = p.user_id;"
    "DROP TABLE participants;"
    "CREATE TABLE meetings ("
    "  id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL REFERENCES cases (id),"
    "  started_at INTEGER NOT NULL,"
    "  started_by TEXT NOT NULL,"
    "  start_v INTEGER NOT NULL,"
    "  ended_at INTEGER,"
    "  ended_by TEXT,"
    "  end_v INTEGER"
    ");"
    "INSERT INTO meetings (id, case_id, started_at, started_by, start_v, ended_at, ended_by,"
    "  end_v)"
    "  SELECT s.id, s.id, s.created_at, s.lead, 0, s.closed_at,"
    "    CASE WHEN s.closed_at IS NULL THEN NULL ELSE s.lead END,"
    "    CASE WHEN s.closed_at IS NULL THEN NULL ELSE"
    "      (SELECT COALESCE(MAX(o.v) + 1, 0) FROM ops o WHERE o.doc = s.id) END"
    "  FROM sessions s;"
    "DROP TABLE sessions;"
    "ALTER TABLE meetings RENAME TO sessions;"
    "CREATE INDEX sessions_case ON sessions (case_id, started_at);"
    "CREATE TABLE case_grants ("
    "  id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL REFERENCES cases (id),"
    "  user_id TEXT NOT NULL,"
    "  granted_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "INSERT INTO case_grants (id, case_id, user_id, granted_by, created_at, expires_at)"
    "  SELECT id, session, user_id, granted_by, created_at, expires_at FROM grants;"
    "DROP TABLE grants;"
    "ALTER TABLE case_grants RENAME TO grants;"
    "CREATE INDEX grants_case_user ON grants (case_id, user_id, expires_at);"
    "CREATE INDEX links_session ON links (session);"
    "CREATE INDEX clients_session ON clients (session);",
    /* 6: retention, erasure, restriction; the audit chain's second format (entries
     * hashed over a hash of their content, so an erased case's entries can lose their
     * content and still verify); settings (the key store this database belongs to) */
    "ALTER TABLE audit ADD COLUMN format INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE audit ADD COLUMN content_hash TEXT;"
    "ALTER TABLE audit ADD COLUMN nonce TEXT;"
    "ALTER TABLE audit ADD COLUMN emptied_by INTEGER;"
    "CREATE INDEX audit_actor ON audit (actor);"
    "ALTER TABLE cases ADD COLUMN retention_class TEXT;"
    "ALTER TABLE cases ADD COLUMN delete_at INTEGER;"
    "ALTER TABLE cases ADD COLUMN kept_at INTEGER;"
    "ALTER TABLE cases ADD COLUMN restricted_at INTEGER;"
    "ALTER TABLE cases ADD COLUMN restricted_by TEXT;"
    "ALTER TABLE cases ADD COLUMN restricted_reason TEXT;"
    "ALTER TABLE cases ADD COLUMN restricted_from TEXT;"
    "CREATE INDEX cases_delete_at ON cases (delete_at) WHERE delete_at IS NOT NULL;"
    "CREATE TABLE holds ("
    "  id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL REFERENCES cases (id),"
    "  reason TEXT NOT NULL,"
    "  set_by TEXT NOT NULL,"
    "  set_at INTEGER NOT NULL,"
    "  until INTEGER,"                  /* NULL: until lifted */
    "  lifted_at INTEGER,"
    "  lifted_by TEXT,"
    "  lift_reason TEXT"
    ");"
    "CREATE INDEX holds_case ON holds (case_id);"
    "CREATE TABLE erasure_requests ("
    "  id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL REFERENCES cases (id),"
    "  reason TEXT NOT NULL,"
    "  requested_by TEXT NOT NULL,"
    "  requested_at INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"           /* pending, cancelled (done ones go with the case) */
    "  decided_by TEXT,"
    "  decided_at INTEGER"
    ");"
    "CREATE INDEX erasure_requests_case ON erasure_requests (case_id);"
    "CREATE TABLE erasures ("
    "  case_id TEXT PRIMARY KEY,"
    "  erased_at INTEGER NOT NULL,"
    "  how TEXT NOT NULL,"              /* due, request, key_destroyed */
    "  audit_seq INTEGER NOT NULL"
    ");"
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");",
    /* 7: accounts kept in the browser: the second factor (TOTP) of each account, its
     * recovery codes, and one-time links to set a password */
    "ALTER TABLE users ADD COLUMN totp_secret BLOB;"
    "ALTER TABLE users ADD COLUMN totp_pending BLOB;"
    "ALTER TABLE users ADD COLUMN totp_enabled_at INTEGER;"
    "ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE recovery_codes ("
    "  user_id TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  used_at INTEGER,"
    "  PRIMARY KEY (user_id, hash)"
    ") WITHOUT ROWID;"
    "CREATE TABLE password_links ("
    "  id TEXT PRIMARY KEY,"
    "  user_id TEXT NOT NULL,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER,"
    "  revoked_at INTEGER"
    ");"
    "CREATE INDEX password_links_user ON password_links (user_id);",
    /* 8: the language a link's client page opens in */
    "ALTER TABLE links ADD COLUMN lang TEXT;",
    /* 9: a document's create ops by version, so that loading a room finds the latest
     * create without walking the op log back from its end (the index holds only the
     * rows with kind 1, so appending edits costs it nothing) */
    "CREATE INDEX ops_create ON ops (doc, v) WHERE kind = 1;",
};

int store_schema_configure(sqlite3 *db, int busy_timeout_ms, char *err, size_t errlen)
{
    static const char *const pragmas[] = {
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA secure_delete=ON",
        "PRAGMA foreign_keys=ON",
    };

    sqlite3_busy_timeout(db, busy_timeout_ms);
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
        char *msg = NULL;
        if (sqlite3_exec(db, pragmas[i], NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            return -1;
        }
    }
    return 0;
}

int store_schema_latest(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

int store_schema_migrate(sqlite3 *db, char *err, size_t errlen)
{
    return store_schema_migrate_to(db, store_schema_latest(), err, errlen);
}

int store_schema_migrate_to(sqlite3 *handle, int latest, char *err, size_t errlen)
{
    db *d = db_sqlite_adopt(handle);
    int rc;

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = store_schema_migrate_db(d, latest, err, errlen);
    db_close(d);
    return rc;
}

int store_schema_migrate_db(db *d, int latest, char *err, size_t errlen)
{
    int pg = db_backend_of(d) == DB_POSTGRES;
    int version = 0;

    if (pg && store_schema_pg_count != (size_t)store_schema_latest()) {
        snprintf(err, errlen, "this konsil has %d migrations and %zu PostgreSQL forms of them",
                 store_schema_latest(), store_schema_pg_count);
        return -1;
    }
    /* One process migrates; another one starting at once waits here, then finds the
     * schema at the version the first committed (READ COMMITTED reads it anew). */
    if (db_begin(d, DB_WRITE) != DB_OK || db_lock(d, DB_LOCK_SCHEMA) != DB_OK ||
        db_schema_version(d, &version) != DB_OK)
        goto fail;
    if (version > store_schema_latest() || latest > store_schema_latest()) {
        snprintf(err, errlen, "database schema %d is newer than this konsil (%d)", version,
                 store_schema_latest());
        goto refused;
    }
    for (int i = version; i < latest; i++)
        if (db_exec(d, pg ? store_schema_pg_migrations[i] : migrations[i]) != DB_OK)
            goto fail;
    if (latest > version && db_set_schema_version(d, latest) != DB_OK)
        goto fail;
    if (db_commit(d) != DB_OK)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "%s", db_errmsg(d));
refused:
    db_rollback(d);
    return -1;
}
