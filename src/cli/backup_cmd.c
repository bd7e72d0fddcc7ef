/*
 * `konsil backup FILE [--db DB]` and `konsil restore FILE [--db DB]`.
 *
 * backup copies the database while the server runs (store_backup.h: one consistent
 * snapshot, the server's writer never blocked, the copy fsync'ed and renamed into place
 * only when complete) and prints what the copy holds, with the audit trail's head line
 * to keep as a checkpoint. It never replaces an existing FILE.
 *
 * restore puts a backup in place as DB for a server to start on: it refuses when DB (or
 * its -wal, -shm, -journal) exists, checks the backup first as `konsil check` does and
 * refuses one that fails, then copies it the same way. Neither changes the source.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store_backup.h"

static void usage_backup(FILE *out)
{
    fprintf(out,
            "usage: konsil backup FILE [--db DB]\n\n"
            "Writes a consistent copy of the database DB (default konsil.db) to FILE, also\n"
            "while `konsil serve` runs: the copy is one snapshot of the database, taken\n"
            "without stopping the server's writes (SQLite's online backup in steps of %d\n"
            "pages). FILE is created with mode 0600, fsync'ed, and appears under its name only\n"
            "once complete; an existing FILE is never replaced.\n\n"
            "Prints what the copy holds and its audit trail's head line (keep it: `konsil\n"
            "audit verify --checkpoint` on a restored database proves the trail since).\n\n"
            "The copy holds what the database holds and nothing more: not the key store of\n"
            "encryption at rest (keep it apart), not the master key, the configuration or TLS\n"
            "keys: see `man konsil`, BACKUP, for what else to keep.\n\n"
            "Exit status: 0 written, 1 failed (nothing is left at FILE), 2 usage error.\n",
            STORE_BACKUP_STEP_PAGES);
}

static void usage_restore(FILE *out)
{
    fprintf(out,
            "usage: konsil restore FILE [--db DB] [--keys FILE] [--master-key-file FILE]\n\n"
            "Restores the backup FILE (written by `konsil backup`) as the database DB\n"
            "(default konsil.db), for `konsil serve --db DB` to start on. DB must not exist\n"
            "(nor its -wal, -shm or -journal files): restore never overwrites a database.\n"
            "The backup is checked first as `konsil check` does (integrity, audit chain, op\n"
            "log) and refused when a check fails. FILE itself is not changed.\n\n"
            "A backup whose case data is encrypted at rest is checked against the key store\n"
            "the restored database will use (--keys, default DB.keys): the current key store,\n"
            "not a copy as old as the backup. One of another database, or older than the\n"
            "backup has seen, is refused; cases whose keys are gone (erased since) are\n"
            "listed, and the server erases what is left of them when it starts. With the\n"
            "master key the sealed records are checked too (protocol/keystore.md).\n\n"
            "Exit status: 0 restored, 1 refused or failed (nothing is left at DB), 2 usage\n"
            "error.\n");
}

/* Reads FILE [--db DB], and for restore [--keys FILE] [--master-key-file FILE] into k:
 * 0, 1 (--help shown), 2 (usage error shown). */
static int parse(int argc, char **argv, const char **file, const char **db,
                 cli_check_keys *k, void (*usage)(FILE *))
{
    *file = NULL;
    *db = "konsil.db";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            *db = argv[++i];
            continue;
        }
        if (k && strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            k->path = argv[++i];
            continue;
        }
        if (k && strcmp(argv[i], "--master-key-file") == 0 && i + 1 < argc) {
            k->master_file = argv[++i];
            continue;
        }
        if (argv[i][0] != '-' && !*file) {
            *file = argv[i];
            continue;
        }
        fprintf(stderr, "konsil %s: unexpected '%s'\n\n", argv[0], argv[i]);
        usage(stderr);
        return 2;
    }
    if (!*file) {
        fprintf(stderr, "konsil %s: which FILE?\n\n", argv[0]);
        usage(stderr);
        return 2;
    }
    return 0;
}

/* For a restore, keys is the key store the restored database goes with (--keys; NULL: the
 * default DB.keys); a backup passes restoring = 0. */
static void print_info(const char *verb, const char *from, const char *to,
                       const store_backup_info *info, int restoring, const char *keys)
{
    char head[AUDIT_HEAD_MAX + 1];

    printf("%s %s to %s: %lld bytes (%lld pages), schema %d, %lld cases, %lld documents\n",
           verb, from, to, (long long)info->bytes, (long long)info->pages, info->schema,
           (long long)info->cases, (long long)info->documents);
    if (audit_head_format(&info->audit, head) == 0)
        printf("%s\n", head);
    if (!info->keystore_id[0])
        return;
    if (!restoring)
        printf("key store: its case data is sealed under key store %s (generation %lld), "
               "which is not in this copy: keep the key store apart (protocol/keystore.md, "
               "Backups)\n", info->keystore_id, (long long)info->keystore_generation);
    else if (keys)
        printf("key store: its case data is sealed under key store %s: serve it with "
               "--keys %s and the master key\n", info->keystore_id, keys);
    else
        printf("key store: its case data is sealed under key store %s: serve it with the "
               "master key and that key store at %s.keys\n", info->keystore_id, to);
}

int cli_backup(int argc, char **argv)
{
    const char *file, *db;
    store_backup_info info;
    char err[600];
    int rc = parse(argc, argv, &file, &db, NULL, usage_backup);

    if (rc)
        return rc == 1 ? 0 : 2;
    if (cli_db_refuse_postgres("backup", db) != 0)
        return 1;
    if (store_backup_copy(db, file, &info, err, sizeof err) != 0) {
        fprintf(stderr, "konsil backup: %s\n", err);
        return 1;
    }
    print_info("backed up", db, file, &info, 0, NULL);
    return 0;
}

/* Checks the backup as `konsil check` does, against the key store the restored database
 * will have (k): 0 sound, 1 not (said on stderr). */
static int check_backup(const char *file, const cli_check_keys *k)
{
    sqlite3 *db = NULL;
    int rc;

    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil restore: %s: %s\n", file,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    printf("checking %s\n", file);
    rc = cli_check_db(db, "restore", k, stdout);
    sqlite3_close(db);
    if (rc != 0) {
        fprintf(stderr, "konsil restore: %s does not pass the check: nothing restored\n",
                file);
        return 1;
    }
    return 0;
}

int cli_restore(int argc, char **argv)
{
    const char *file, *db;
    store_backup_info info;
    cli_check_keys k = {NULL, NULL, NULL};
    char err[600], what[4200];
    int rc = parse(argc, argv, &file, &db, &k, usage_restore);

    if (rc)
        return rc == 1 ? 0 : 2;
    if (cli_db_refuse_postgres("restore", db) != 0)
        return 1;
    k.db_path = db;
    switch (store_backup_exists(db, what, sizeof what, err, sizeof err)) {
    case 0: break;
    case 1:
        fprintf(stderr, "konsil restore: %s exists: restore never overwrites a database "
                "(move it away, or restore elsewhere with --db)\n", what);
        return 1;
    default:
        fprintf(stderr, "konsil restore: %s\n", err);
        return 1;
    }
    if (check_backup(file, &k) != 0)
        return 1;
    if (store_backup_copy(file, db, &info, err, sizeof err) != 0) {
        fprintf(stderr, "konsil restore: %s\n", err);
        return 1;
    }
    print_info("restored", file, db, &info, 1, k.path);
    return 0;
}
