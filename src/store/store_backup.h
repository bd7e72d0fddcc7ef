/*
 * Copies of the database, for `konsil backup` and `konsil restore`: SQLite's online
 * backup API reading one consistent snapshot of the source, written to a new file that
 * appears under its name only once it is complete and on disk.
 *
 * The copy holds one read transaction on the source from its first page to its last, so
 * every page comes from the same snapshot (the state after some commit) however the
 * server writes meanwhile. In WAL mode a reader never blocks a writer: the server goes on
 * committing while the copy runs; only the WAL's checkpoint cannot pass the copy's
 * snapshot, so the WAL grows for the copy's duration. Pages are copied in steps with a
 * short pause between them, so the copy does not take the disk from the server's fsyncs.
 *
 * The new file is created with mode 0600 beside its destination (NAME.partial-XXXXXX),
 * filled, set to journal_mode=DELETE (a copy is one self-contained file, readable from
 * read-only media), quick-checked, fsync'ed, renamed to its name without replacing
 * anything that appeared there meanwhile, and the folder fsync'ed. On any failure the
 * partial file is removed and the destination does not exist.
 *
 * Ownership: plain values only.
 */
#ifndef KONSIL_STORE_BACKUP_H
#define KONSIL_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "auth/audit.h"

/* Pages per step of the copy and the pause after each (a page is 4 KiB by default). */
#define STORE_BACKUP_STEP_PAGES 256
#define STORE_BACKUP_PAUSE_MS 2

/* What a copy holds, read in the snapshot it copied. */
typedef struct store_backup_info {
    int64_t pages;          /* pages copied */
    int64_t bytes;          /* the copy's size */
    int schema;             /* PRAGMA user_version: the migrations it has */
    int64_t cases;          /* rows of its cases table (0 before schema 5) */
    int64_t documents;      /* documents in its op log */
    audit_anchor audit;     /* its audit trail's entries and last hash */
    char keystore_id[33];   /* the key store its case data is sealed under; "" for none */
    int64_t keystore_generation;    /* the newest generation of it the database saw */
} store_backup_info;

/* Copies the database at `from` to the new file `to`, which must not exist. 0, or -1
 * with err (nothing is left at `to`). */
int store_backup_copy(const char *from, const char *to, store_backup_info *info, char *err,
                      size_t errlen);

/* Whether a database exists at path: the file itself or any of its -wal, -shm and
 * -journal companions. 1 (and which in *what), 0, or -1 when it cannot be told (err). */
int store_backup_exists(const char *path, char *what, size_t whatlen, char *err,
                        size_t errlen);

#endif
