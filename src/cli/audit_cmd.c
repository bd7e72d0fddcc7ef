/*
 * `konsil audit head|verify|report`: the audit trail's hash chain, checked straight on the
 * database (also while the server runs; SQLite gives the check one consistent read).
 * `head` prints the chain's head as one line to keep elsewhere, and only for a chain that
 * verifies; `verify --checkpoint HEAD` also holds the chain to such a line, which is what
 * finds entries cut from the end and a chain recomputed after a change. A verdict goes to
 * stdout ("intact: …" or "BROKEN at seq N: …"); a failure is also told on stderr.
 * `report` (who read and wrote what of a case) is audit_report_cmd.c's.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "auth/audit.h"
#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_audit.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil audit head [--db FILE]\n"
            "       konsil audit verify [--checkpoint HEAD] [--db FILE]\n"
            "       konsil audit report ID [--format text|json] [--db FILE]\n"
            "                          [--master-key-file FILE] [--keys FILE]\n\n"
            "The audit trail is a hash chain: each entry carries the SHA-256 of its content\n"
            "and of the entry before it (protocol/access.md, \"The audit chain\").\n\n"
            "  head     verifies the chain and prints its head, one line to keep where the\n"
            "           database's writers cannot change it (the operator's log, a signed\n"
            "           file), e.g.\n"
            "             konsil-audit-head v1 entries=1234 hash=9f86d081884c7d65...\n"
            "           (the full hash has 64 hex digits). A chain that does not verify has\n"
            "           no head: exit status 1.\n"
            "  verify   checks the chain from its first entry; prints \"intact: N entries,\n"
            "           head H\" or reports the first entry altered, inserted or removed as\n"
            "           \"BROKEN at seq N: ...\". Whoever can write the database can also cut\n"
            "           entries from the end or recompute the chain after a change, which the\n"
            "           chain alone cannot show; with --checkpoint, verify also fails when the\n"
            "           chain holds fewer entries than the checkpoint or its entry N (N as in\n"
            "           the checkpoint) has another hash. Entries added since are fine.\n"
            "  report   who read and wrote what of a case, and when, from the audit trail\n"
            "           and the op log (GDPR Art. 15); `konsil audit report --help`\n\n"
            "Options:\n"
            "  --db FILE          the database (default konsil.db); it must exist\n"
            "  --checkpoint HEAD  (verify) a line printed by `konsil audit head`, exactly as\n"
            "                     printed and as one argument, e.g.\n"
            "                     --checkpoint \"$(cat audit-head.txt)\"\n\n"
            "Exit status: 0 intact, 1 broken, short of its checkpoint or unreadable (the\n"
            "reason also on stderr), 2 usage error.\n");
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    char err[256];

    if (cli_db_refuse_postgres("audit", path) != 0)
        return NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        store_schema_configure(db, 10000, err, sizeof err) != 0 ||
        store_schema_migrate(db, err, sizeof err) != 0) {
        fprintf(stderr, "konsil audit: %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int cli_audit(int argc, char **argv)
{
    const char *db_path = "konsil.db", *checkpoint_text = NULL;
    audit_anchor checkpoint, head;
    audit_report report;
    char err[256], line[AUDIT_HEAD_MAX + 1];
    sqlite3 *db;
    int rc, want_head;

    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return cli_audit_report(argc, argv);
    if (argc < 2 || (strcmp(argv[1], "head") != 0 && strcmp(argv[1], "verify") != 0)) {
        int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        if (!help && argc > 1)
            fprintf(stderr, "konsil audit: unknown command '%s'\n\n", argv[1]);
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    want_head = strcmp(argv[1], "head") == 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
            continue;
        }
        if (!want_head && strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc) {
            checkpoint_text = argv[++i];
            continue;
        }
        fprintf(stderr, "konsil audit %s: unknown option or missing value '%s'\n", argv[1],
                argv[i]);
        return 2;
    }
    if (checkpoint_text) {
        auth_error aerr = {{0}};
        if (audit_head_parse(checkpoint_text, &checkpoint, &aerr) != 0) {
            fprintf(stderr, "konsil audit verify: --checkpoint: %s\n", aerr.message);
            return 2;
        }
    }
    if (!(db = open_db(db_path)))
        return 1;
    memset(&report, 0, sizeof report);
    rc = store_audit_verify(db, checkpoint_text ? &checkpoint : NULL, &report, &head, err,
                            sizeof err);
    sqlite3_close(db);
    if (rc < 0) {
        fprintf(stderr, "konsil audit %s: %s\n", argv[1], err);
        return 1;
    }
    if (rc > 0) {
        if (want_head) {
            fprintf(stderr, "konsil audit head: the chain does not verify, so it has no head to "
                            "keep: BROKEN at seq %lld: %s\n", (long long)report.seq,
                    report.message);
            return 1;
        }
        printf("BROKEN at seq %lld: %s\n", (long long)report.seq, report.message);
        fprintf(stderr, "konsil audit verify: the audit trail does not verify: %s\n",
                report.message);
        return 1;
    }
    if (want_head) {
        if (audit_head_format(&head, line) != 0) {
            fprintf(stderr, "konsil audit head: the table's last hash is malformed\n");
            return 1;
        }
        printf("%s\n", line);
        return 0;
    }
    printf("intact: %lld entries, head %s", (long long)head.seq, head.hash);
    if (checkpoint_text)
        printf(" (checkpoint of %lld entries holds)", (long long)checkpoint.seq);
    printf("\n");
    return 0;
}
