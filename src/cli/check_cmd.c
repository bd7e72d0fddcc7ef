/*
 * `konsil check [--db FILE]`: is this database sound? SQLite's integrity and
 * foreign-key checks, the audit trail's hash chain, and the op log's continuity
 * (store_check.h), all in one read transaction: it works while the server runs, on a
 * backup and on a restored file alike, and changes nothing (no migration either).
 * `konsil restore` runs the same checks on a backup before it restores it.
 *
 * stdout gets one line per check and a verdict; every problem found is a line starting
 * "PROBLEM:" (the first STORE_CHECK_LISTED of them; the count of all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_check.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil check [--db FILE]\n\n"
            "Checks a Konsil database and changes nothing: SQLite's integrity check and\n"
            "foreign keys, the audit trail's hash chain (as `konsil audit verify`), and the\n"
            "op log: every document's versions run from 0 without a gap, times never go\n"
            "back, every op applies to the document before it, and every stored snapshot\n"
            "(milestone) equals what the ops rebuild. Works while the server runs (one\n"
            "consistent read), on a backup and on a restored file.\n\n"
            "  --db FILE   the database (default konsil.db)\n\n"
            "Prints one line per check, each problem as \"PROBLEM: ...\", and \"ok\" or the\n"
            "number of problems last. Exit status: 0 sound, 1 problems found or the file\n"
            "cannot be read, 2 usage error.\n");
}

static int schema_of(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int audit_check(sqlite3 *db, store_check_result *r, FILE *out, char *err,
                       size_t errlen)
{
    audit_report report;
    audit_anchor head;
    int rc;

    memset(&report, 0, sizeof report);
    rc = store_audit_verify(db, NULL, &report, &head, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        fprintf(out, "audit: BROKEN at seq %lld\n", (long long)report.seq);
        r->n_problems++;
        fprintf(out, "PROBLEM: audit trail: %s\n", report.message);
        return 0;
    }
    fprintf(out, "audit: intact, %lld entries, head %s\n", (long long)head.seq, head.hash);
    return 0;
}

int cli_check_db(sqlite3 *db, const char *cmd, FILE *out)
{
    store_check_result r;
    char err[256];
    int schema = 0, rc = -1;
    size_t before;

    store_check_init(&r);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        schema_of(db, &schema) != 0) {
        fprintf(stderr, "konsil %s: %s\n", cmd, sqlite3_errmsg(db));
        goto out;
    }
    if (schema < 2 || schema > store_schema_latest()) {
        fprintf(stderr, "konsil %s: schema %d is %s\n", cmd, schema, schema < 2 ?
                "no Konsil database's" : "newer than this konsil's");
        goto out;
    }
    fprintf(out, "schema: %d\n", schema);
    if (store_check_integrity(db, &r, err, sizeof err) != 0)
        goto fail;
    fprintf(out, "integrity: %s\n", r.n_problems ? "PROBLEMS" : "ok");
    if (audit_check(db, &r, out, err, sizeof err) != 0)
        goto fail;
    before = r.n_problems;
    if (store_check_oplog(db, &r, err, sizeof err) != 0)
        goto fail;
    fprintf(out, "op log: %lld documents, %lld ops, %lld milestones: %s\n",
            (long long)r.documents, (long long)r.ops, (long long)r.milestones,
            r.n_problems > before ? "PROBLEMS" : "ok");
    for (cJSON *p = r.problems ? r.problems->child : NULL; p; p = p->next)
        fprintf(out, "PROBLEM: %s\n", p->valuestring);
    if (r.n_problems > STORE_CHECK_LISTED)
        fprintf(out, "PROBLEM: ... and %zu more\n", r.n_problems - STORE_CHECK_LISTED);
    if (r.n_problems)
        fprintf(out, "%zu problem%s\n", r.n_problems, r.n_problems == 1 ? "" : "s");
    else
        fprintf(out, "ok\n");
    rc = r.n_problems ? 1 : 0;
    goto out;
fail:
    fprintf(stderr, "konsil %s: %s\n", cmd, err);
out:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    store_check_clear(&r);
    return rc;
}

int cli_check(int argc, char **argv)
{
    const char *db_path = "konsil.db";
    sqlite3 *db = NULL;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
            continue;
        }
        fprintf(stderr, "konsil check: unknown option or missing value '%s'\n\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil check: %s: %s\n", db_path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 10000);
    printf("konsil check: %s\n", db_path);
    rc = cli_check_db(db, "check", stdout);
    sqlite3_close(db);
    return rc == 0 ? 0 : 1;
}
