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

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_check.h"
#include "store/store_crypt.h"
#include "store/store_keys.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil check [--db FILE] [--keys FILE] [--master-key-file FILE]\n\n"
            "Checks a Konsil database and changes nothing: SQLite's integrity check and\n"
            "foreign keys, the audit trail's hash chain (as `konsil audit verify`), and the\n"
            "op log: every document's versions run from 0 without a gap, times never go\n"
            "back, every op applies to the document before it, and every stored snapshot\n"
            "(milestone) equals what the ops rebuild. Works while the server runs (one\n"
            "consistent read), on a backup and on a restored file.\n\n"
            "A database whose case data is encrypted at rest is checked against its key store:\n"
            "that it is this database's and not older than it has seen, and which cases' keys\n"
            "are gone (erased after a backup was taken). With the master key the sealed\n"
            "records are opened and checked too; without it their versions and times are.\n\n"
            "  --db FILE               the database (default konsil.db)\n"
            "  --keys FILE             its key store (default: the database's path + .keys)\n"
            "  --master-key-file FILE  the master key (64 hex digits, mode 600)\n\n"
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

/* Cases of db whose key the key store no longer holds. -1 on an error. */
static long long keys_gone(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM cases WHERE konsil_has_key(id) = 0", -1,
                           &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The key store db is bound to (schema 6 on), opened for reading: *keys (NULL: none), the
 * SQL functions registered with it, and how the op log's sealed records are read. Says
 * what it found; a key store that is not this database's, or older than it has seen, is a
 * problem. 0, or -1 when the master key cannot be read. */
static int open_keys(sqlite3 *db, int schema, const cli_check_keys *k, store_keys **keys,
                     store_check_sealed *how, store_check_result *r, FILE *out, char *err,
                     size_t errlen)
{
    unsigned char master[32];
    char bound[33] = "", path[4200], why[300];
    struct stat sb;
    int have_master = 0;
    long long gone;

    *keys = NULL;
    *how = STORE_CHECK_PLAIN;
    if (schema >= 6 && store_crypt_bound(db, bound, err, errlen) != 0)
        return -1;
    if (!bound[0]) {
        fprintf(out, "key store: none (the case data is not encrypted)\n");
        return store_crypt_register(db, NULL, err, errlen);
    }
    *how = STORE_CHECK_SKIP;
    snprintf(path, sizeof path, "%s%s", k->path ? k->path : k->db_path, k->path ? "" : ".keys");
    if (stat(path, &sb) != 0) {
        fprintf(out, "key store: %s is not there (the case data is sealed under key store "
                "%s): sealed contents not checked; name it with --keys\n", path, bound);
        return store_crypt_register(db, NULL, err, errlen);
    }
    if (k->master_file) {
        if (store_keys_read_master(k->master_file, master, err, errlen) != 0)
            return -1;
        have_master = 1;
    }
    if (store_keys_open(path, have_master ? master : NULL, 0, keys, why, sizeof why) != 0 ||
        store_crypt_attach(db, *keys, 0, why, sizeof why) != 0) {
        OPENSSL_cleanse(master, sizeof master);
        store_keys_free(*keys);
        *keys = NULL;
        fprintf(out, "key store: %s: PROBLEMS\n", path);
        r->n_problems++;
        if (!r->problems)
            r->problems = cJSON_CreateArray();
        cJSON_AddItemToArray(r->problems, cJSON_CreateString(why));
        return store_crypt_register(db, NULL, err, errlen);
    }
    OPENSSL_cleanse(master, sizeof master);
    if (store_crypt_register(db, *keys, err, errlen) != 0)
        return -1;
    if (have_master)
        *how = STORE_CHECK_OPEN;
    fprintf(out, "key store: %s (id %s, generation %lld): this database's%s\n", path, bound,
            (long long)store_keys_generation(*keys),
            have_master ? "" : "; sealed contents not checked (no --master-key-file)");
    gone = keys_gone(db);
    if (gone > 0)
        fprintf(out, "keys gone: %lld case%s (erased since this copy was made, or an erasure "
                "cut short: a server starting on it erases what is left)\n", gone,
                gone == 1 ? "" : "s");
    return 0;
}

int cli_check_db(sqlite3 *db, const char *cmd, const cli_check_keys *k, FILE *out)
{
    store_check_result r;
    store_check_sealed how;
    store_keys *keys = NULL;
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
    if (open_keys(db, schema, k, &keys, &how, &r, out, err, sizeof err) != 0)
        goto fail;
    before = r.n_problems;
    if (store_check_oplog(db, how, &r, err, sizeof err) != 0)
        goto fail;
    fprintf(out, "op log: %lld documents, %lld ops, %lld milestones: %s", (long long)r.documents,
            (long long)r.ops, (long long)r.milestones, r.n_problems > before ? "PROBLEMS" : "ok");
    if (r.unopened)
        fprintf(out, " (the sealed contents of %lld document%s not checked)",
                (long long)r.unopened, r.unopened == 1 ? "" : "s");
    fprintf(out, "\n");
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
    store_keys_free(keys);
    return rc;
}

int cli_check(int argc, char **argv)
{
    cli_check_keys k = {NULL, "konsil.db", NULL};
    sqlite3 *db = NULL;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            k.db_path = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            k.path = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--master-key-file") == 0 && i + 1 < argc) {
            k.master_file = argv[++i];
            continue;
        }
        fprintf(stderr, "konsil check: unknown option or missing value '%s'\n\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (cli_db_refuse_postgres("check", k.db_path) != 0)
        return 1;
    if (sqlite3_open_v2(k.db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil check: %s: %s\n", k.db_path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 10000);
    printf("konsil check: %s\n", k.db_path);
    rc = cli_check_db(db, "check", &k, stdout);
    sqlite3_close(db);
    return rc == 0 ? 0 : 1;
}
