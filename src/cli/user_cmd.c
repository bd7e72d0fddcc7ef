/*
 * `konsil user add|list|disable|enable|passwd|totp-reset`: account administration,
 * straight on the database. They work on a fresh database (the schema is created) and
 * while the server runs (SQLite's busy timeout waits for the server's writer; a running
 * server notices a disabled account at its next login-session refresh, within seconds).
 * Passwords are read from stdin (one line), never from the command line; changes are
 * audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>
#include <uuid/uuid.h>

#include "auth/password.h"
#include "auth/principal.h"
#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_sql.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    char err[256];

    if (cli_db_refuse_postgres("user", path) != 0)
        return NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        store_schema_configure(db, 10000, err, sizeof err) != 0 ||
        store_schema_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "konsil: %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* One line from stdin without its newline. */
static int read_password(char *buf, size_t n)
{
    size_t len;

    if (!fgets(buf, (int)n, stdin))
        return -1;
    len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    return len ? 0 : -1;
}

static int hash_stdin(char *out, size_t n)
{
    char pw[AUTH_PASSWORD_MAX + 2];
    auth_error err = {{0}};
    int rc;

    if (read_password(pw, sizeof pw) != 0) {
        fprintf(stderr, "konsil user: give the password on stdin (one line)\n");
        return -1;
    }
    rc = auth_password_hash(pw, NULL, out, n, &err);
    memset(pw, 0, sizeof pw);
    if (rc != 0)
        fprintf(stderr, "konsil user: %s\n", err.message);
    return rc;
}

/* Runs sql with text arguments (NULL binds null), then `also` (NULL for nothing) with the
 * same arguments, inside one transaction with an audit entry; returns the rows sql
 * changed, or -1. */
static int change2(sqlite3 *db, const char *sql, const char *also, const char *const *args,
                   int nargs, const char *action, const char *subject)
{
    sqlite3_stmt *st = NULL;
    cJSON *details = cJSON_CreateObject();
    char err[200];
    int changed = -1;

    cJSON_AddStringToObject(details, "user", subject);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    for (const char *const *s = (const char *const[]){sql, also, NULL}; *s; s++) {
        int rc;
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_prepare_v2(db, *s, -1, &st, NULL) != SQLITE_OK) {
            changed = -1;
            goto rollback;
        }
        for (int i = 0; i < nargs; i++)
            sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            changed = -1;
            goto rollback;
        }
        if (*s == sql)
            changed = sqlite3_changes(db);
    }
    if (changed > 0 && store_audit_append(db, now_ms(), "cli", action, NULL, details, err,
                                          sizeof err) != 0) {
        changed = -1;
        goto rollback;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        goto out;
    changed = -1;
rollback:
    if (changed < 0)
        fprintf(stderr, "konsil user: %s\n", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(st);
    cJSON_Delete(details);
    return changed;
}

static int change(sqlite3 *db, const char *sql, const char *const *args, int nargs,
                  const char *action, const char *subject)
{
    return change2(db, sql, NULL, args, nargs, action, subject);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil user add NAME --role counsellor|supervisor|admin [--specialty S]\n"
            "                        [--display-name D] [--db FILE]   (password on stdin)\n"
            "       konsil user list [--db FILE]\n"
            "       konsil user disable NAME [--db FILE]\n"
            "       konsil user enable NAME [--db FILE]\n"
            "       konsil user passwd NAME [--db FILE]               (password on stdin)\n"
            "       konsil user totp-reset NAME [--db FILE]\n\n"
            "totp-reset removes the account's second factor and recovery codes (a lost\n"
            "phone): its next login sets a new one up where its role requires one.\n"
            "Specialties (counsellors only): debt, social_law, migration, housing, family,\n"
            "addiction, none. The database defaults to konsil.db.\n");
}

static int user_list(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT username, id, role, COALESCE(specialty, ''), "
                           "display_name, disabled FROM users ORDER BY username", -1, &st,
                           NULL) != SQLITE_OK)
        return 1;
    printf("%-20s %-36s %-11s %-11s %s\n", "USERNAME", "ID", "ROLE", "SPECIALTY", "NAME");
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("%-20s %-36s %-11s %-11s %s%s\n", sqlite3_column_text(st, 0),
               sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
               sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
               sqlite3_column_int(st, 5) ? " (disabled)" : "");
    sqlite3_finalize(st);
    return 0;
}

static int user_add(sqlite3 *db, const char *name, const char *role_s, const char *spec_s,
                    const char *display)
{
    auth_role role;
    auth_specialty spec = AUTH_SPECIALTY_NONE;
    auth_principal check;
    auth_error err = {{0}};
    char hash[AUTH_PASSWORD_HASH_MAX], id[37];
    uuid_t u;
    char now[32];
    const char *args[7];

    if (!role_s || auth_role_parse(role_s, &role) != 0 || role == AUTH_ROLE_CLIENT) {
        fprintf(stderr, "konsil user add: --role counsellor, supervisor or admin\n");
        return 2;
    }
    if (spec_s && (auth_specialty_parse(spec_s, &spec) != 0 ||
                   (role != AUTH_ROLE_COUNSELLOR && spec != AUTH_SPECIALTY_NONE))) {
        fprintf(stderr, "konsil user add: unknown specialty '%s' (only counsellors have one)\n",
                spec_s);
        return 2;
    }
    if (strlen(name) > 64 || auth_principal_init(&check, "x", name, role, spec, false, NULL) != 0 ||
        auth_principal_init(&check, "x", display ? display : name, role, spec, false, &err) != 0) {
        fprintf(stderr, "konsil user add: the name or display name is not valid text%s%s\n",
                err.message[0] ? ": " : "", err.message);
        return 2;
    }
    if (hash_stdin(hash, sizeof hash) != 0)
        return 1;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    snprintf(now, sizeof now, "%lld", (long long)now_ms());
    args[0] = id;
    args[1] = name;
    args[2] = display ? display : name;
    args[3] = auth_role_name(role);
    args[4] = role == AUTH_ROLE_COUNSELLOR ? auth_specialty_name(spec) : NULL;
    args[5] = hash;
    args[6] = now;
    if (change(db, "INSERT OR IGNORE INTO users (id, username, display_name, role, specialty, "
               "password, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, CAST(?7 AS INTEGER))",
               args, 7, "user.add", name) <= 0) {
        fprintf(stderr, "konsil user add: '%s' exists already\n", name);
        return 1;
    }
    printf("%s\n", id);
    return 0;
}

/* `user totp-reset NAME`: the account's second factor, its recovery codes and its key in
 * the key store go (the key store opened for removals: no master key needed), audited. */
static int totp_reset(const char *db_path, const char *name)
{
    sqlite3_stmt *st = NULL;
    cJSON *details = cJSON_CreateObject();
    char id[64] = "", err[200];
    cli_db d;
    int rc = 1;

    if (cli_db_open(&d, "user totp-reset", db_path, NULL, NULL) != 0) {
        cJSON_Delete(details);
        return 1;
    }
    if (sqlite3_exec(d.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d.db, "SELECT id FROM users WHERE username = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (!id[0]) {
        fprintf(stderr, "konsil user totp-reset: no user '%s'\n", name);
        goto out;
    }
    cJSON_AddStringToObject(details, "user", id);
    cJSON_AddStringToObject(details, "username", name);
    if (store_totp_forget(d.db, id) != 0 ||
        store_audit_append(d.db, now_ms(), "cli", "totp.reset", NULL, details, err,
                           sizeof err) != 0 ||
        sqlite3_exec(d.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil user totp-reset: %s\n", sqlite3_errmsg(d.db));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        sqlite3_exec(d.db, "ROLLBACK", NULL, NULL, NULL);
    cJSON_Delete(details);
    cli_db_close(&d);
    return rc;
}

int cli_user(int argc, char **argv)
{
    const char *db_path = "konsil.db", *role = NULL, *spec = NULL, *display = NULL;
    const char *verb = argc > 1 ? argv[1] : NULL, *name = NULL;
    sqlite3 *db;
    int rc;

    if (!verb || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(verb ? stdout : stderr);
        return verb ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (name) {
                fprintf(stderr, "konsil user: one NAME only (see --help)\n");
                return 2;
            }
            name = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "konsil user: %s needs a value (see --help)\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--db") == 0) db_path = v;
        else if (strcmp(a, "--role") == 0) role = v;
        else if (strcmp(a, "--specialty") == 0) spec = v;
        else if (strcmp(a, "--display-name") == 0) display = v;
        else {
            fprintf(stderr, "konsil user: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (strcmp(verb, "list") != 0 && !name) {
        fprintf(stderr, "konsil user %s: NAME is required (see --help)\n", verb);
        return 2;
    }
    if (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "disable") &&
        strcmp(verb, "enable") && strcmp(verb, "passwd") && strcmp(verb, "totp-reset")) {
        fprintf(stderr, "konsil user: unknown command '%s' (see --help)\n", verb);
        return 2;
    }
    if (!(db = open_db(db_path)))
        return 1;
    if (strcmp(verb, "list") == 0) {
        rc = user_list(db);
    } else if (strcmp(verb, "add") == 0) {
        rc = user_add(db, name, role, spec, display);
    } else if (strcmp(verb, "passwd") == 0) {
        char hash[AUTH_PASSWORD_HASH_MAX];
        const char *args[2] = {hash, name};
        rc = hash_stdin(hash, sizeof hash) != 0 ? 1 :
             change(db, "UPDATE users SET password = ?1 WHERE username = ?2", args, 2,
                    "user.passwd", name) > 0 ? 0 : 1;
        if (rc == 0) {
            const char *who[1] = {name};
            /* A new password ends the account's login sessions. */
            change(db, "DELETE FROM logins WHERE principal = (SELECT id FROM users WHERE "
                   "username = ?1)", who, 1, "logins.end", name);
        }
    } else if (strcmp(verb, "totp-reset") == 0) {
        sqlite3_close(db);
        return totp_reset(db_path, name);
    } else {
        const char *args[1] = {name};
        int disable = strcmp(verb, "disable") == 0;
        /* Disabling ends every login session of the account in the same transaction, so
         * enabling it again brings none back; a running server drops them at its next
         * refresh and closes their WebSockets with 1008. */
        rc = disable ?
             change2(db, "UPDATE users SET disabled = 1 WHERE username = ?1",
                     "DELETE FROM logins WHERE principal = (SELECT id FROM users WHERE "
                     "username = ?1)", args, 1, "user.disable", name) > 0 ? 0 : 1 :
             change(db, "UPDATE users SET disabled = 0 WHERE username = ?1", args, 1,
                    "user.enable", name) > 0 ? 0 : 1;
    }
    if (rc == 1 && strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0)
        fprintf(stderr, "konsil user %s: no user '%s'\n", verb, name);
    sqlite3_close(db);
    return rc;
}
