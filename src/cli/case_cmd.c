/*
 * `konsil case erase CASE_ID --reason TEXT --confirmed-by USER [--db FILE] [--keys FILE]`:
 * erases a case on request from the command line (protocol/retention.md), also while the
 * server runs (it notices within two seconds: the case's connections close). The operator
 * asks (actor "cli"), USER — the username of an enabled counsellor or admin — is the
 * second staff member who confirmed it; the reason is recorded in the erasure's audit
 * entry. Like every erasure: the key first, then every row of the case, the content of
 * the audit entries about it, a tombstone; then the WAL is checkpointed and truncated.
 * A held or restricted case is refused and nothing changes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store_erase.h"
#include "store/store_sql.h"

#define REASON_MAX 500

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil case erase CASE_ID --reason TEXT --confirmed-by USER [--db FILE]\n"
            "                         [--keys FILE]\n\n"
            "Erases a case so that nothing of it remains (protocol/retention.md): its key in\n"
            "the key store (so no backup of the database can be read for it any more), its\n"
            "case sheet with every op and snapshot, its sessions, links, lobby, clients and\n"
            "their login sessions, grants, team, holds; the audit entries about it lose their\n"
            "content and still verify. A tombstone (id, time, how) and the erasure's audit\n"
            "entry remain. Works while the server runs; it closes the case's connections\n"
            "within two seconds.\n\n"
            "  --reason TEXT      why (1 to 500 bytes), recorded in the audit trail: no names\n"
            "  --confirmed-by USER  the username of the second staff member (an enabled\n"
            "                     counsellor or admin) who confirmed the erasure\n"
            "  --db FILE          the database (default konsil.db); it must exist\n"
            "  --keys FILE        its key store (default: the database's path + .keys)\n\n"
            "A case under a legal hold, or restricted, is not erased. Exit status: 0 erased,\n"
            "1 refused or failed (nothing changed), 2 usage error.\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The id of USER, an enabled counsellor or admin, into id (64 bytes). 0, or -1 (told). */
static int confirmer(sqlite3 *db, const char *username, char id[64])
{
    sqlite3_stmt *st = store_q(db, "SELECT id, role, disabled FROM users WHERE username = ?1", "s",
                               username);
    int rc = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 2) == 0 &&
        (strcmp(store_col(st, 1), "counsellor") == 0 || strcmp(store_col(st, 1), "admin") == 0)) {
        snprintf(id, 64, "%s", store_col(st, 0));
        rc = 0;
    } else {
        fprintf(stderr, "konsil case erase: --confirmed-by %s: no enabled counsellor or admin "
                "of that username\n", username);
    }
    sqlite3_finalize(st);
    return rc;
}

static int erase(const char *case_id, const char *reason, const char *user, const char *db_path,
                 const char *keys_path)
{
    static const char *const why[] = {
        NULL, "a legal hold stands on it", "it is restricted (lift the restriction first)",
        "there is no such case (or it was erased already)"};
    cli_db d;
    char by[64], err[300] = "";
    cJSON *details = NULL, *out = NULL;
    int64_t now = now_ms();
    int blocked, rc = 1;

    if (cli_db_open(&d, "case erase", db_path, NULL, keys_path) != 0)
        return 1;
    if (sqlite3_exec(d.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil case erase: %s\n", sqlite3_errmsg(d.db));
        cli_db_close(&d);
        return 1;
    }
    if (confirmer(d.db, user, by) != 0)
        goto done;
    blocked = store_erase_blocked(d.db, case_id, now);
    if (blocked != 0) {
        fprintf(stderr, "konsil case erase: %s: not erased: %s\n", case_id,
                blocked > 0 ? why[blocked] : sqlite3_errmsg(d.db));
        goto done;
    }
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "requested_by", "cli");
    cJSON_AddStringToObject(details, "confirmed_by", by);
    cJSON_AddStringToObject(details, "reason", reason);
    if (store_erase_case(d.db, case_id, "request", "cli", now, details, &out, err,
                         sizeof err) != 0 ||
        sqlite3_exec(d.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil case erase: %s: %s\n", case_id,
                err[0] ? err : sqlite3_errmsg(d.db));
        goto done;
    }
    printf("erased %s (audit entry seq %lld)\n", case_id,
           (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(out, "audit_seq")));
    rc = 0;
    if (store_erase_checkpoint(db_path, 200, err, sizeof err) != 0) {
        fprintf(stderr, "konsil case erase: erased, but %s: run `konsil retention run` later "
                "(or let the server's job do it)\n", err);
        rc = 1;
    }
done:
    if (rc != 0 && !out)
        sqlite3_exec(d.db, "ROLLBACK", NULL, NULL, NULL);
    cJSON_Delete(details);
    cJSON_Delete(out);
    cli_db_close(&d);
    return rc;
}

int cli_case(int argc, char **argv)
{
    const char *db_path = "konsil.db", *keys_path = NULL, *reason = NULL, *user = NULL;
    const char *id = NULL;

    if (argc < 2 || strcmp(argv[1], "erase") != 0) {
        int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        if (!help && argc > 1)
            fprintf(stderr, "konsil case: unknown command '%s'\n\n", argv[1]);
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--db") == 0 && v) {
            db_path = argv[++i];
        } else if (strcmp(a, "--keys") == 0 && v) {
            keys_path = argv[++i];
        } else if (strcmp(a, "--reason") == 0 && v) {
            reason = argv[++i];
        } else if (strcmp(a, "--confirmed-by") == 0 && v) {
            user = argv[++i];
        } else if (a[0] != '-' && !id) {
            id = a;
        } else {
            fprintf(stderr, "konsil case erase: unexpected '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!id || !reason || !user) {
        fprintf(stderr, "konsil case erase: CASE_ID, --reason and --confirmed-by are required\n\n");
        usage(stderr);
        return 2;
    }
    if (!reason[0] || strlen(reason) > REASON_MAX) {
        fprintf(stderr, "konsil case erase: --reason must be 1 to %d bytes\n", REASON_MAX);
        return 2;
    }
    return erase(id, reason, user, db_path, keys_path);
}
