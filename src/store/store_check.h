/*
 * `konsil check`'s verdicts on a database, each read in one read transaction (so it
 * works while the server writes): SQLite's own integrity and foreign-key checks, and the
 * op log's continuity. The audit chain has its own check (store_audit.h).
 *
 * The op log is sound when, for every document, its versions run 0, 1, 2, … without a
 * gap (invariant 1), its times never decrease along them, every op applies to the
 * document before it (create, edit, delete, as the rooms apply them: src/doc), and every
 * stored milestone equals the document its ops rebuild at that version. The check reads
 * the op log and the milestones once, each in its clustered (doc, v) order, holding one
 * document at a time.
 *
 * Sealed case data (encryption at rest, store_crypt.h) is opened through konsil_open
 * when the key store is at hand with its master key (STORE_CHECK_OPEN; the caller
 * registered the SQL functions). A document whose records cannot be opened — no master
 * key (STORE_CHECK_SKIP), or its key gone (the case was erased after this copy was made)
 * — keeps the checks of its versions and times; its contents are counted as not checked,
 * which is no problem.
 *
 * Ownership: a result owns its `problems` (store_check_clear()).
 */
#ifndef KONSIL_STORE_CHECK_H
#define KONSIL_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* Problems listed one by one at most; beyond, only counted. */
#define STORE_CHECK_LISTED 50

/* How sealed records are read. */
typedef enum store_check_sealed {
    STORE_CHECK_PLAIN,      /* none are sealed (no key store) */
    STORE_CHECK_OPEN,       /* opened with the key store */
    STORE_CHECK_SKIP        /* sealed ones are not opened: their contents are not checked */
} store_check_sealed;

typedef struct store_check_result {
    int64_t documents, ops, milestones;    /* what the op-log check read */
    int64_t unopened;                       /* documents whose sealed contents went
                                               unchecked */
    size_t n_problems;                      /* every problem found */
    cJSON *problems;                        /* the first STORE_CHECK_LISTED, as strings */
} store_check_result;

void store_check_init(store_check_result *r);
void store_check_clear(store_check_result *r);

/* PRAGMA integrity_check and foreign_key_check; problems go into r. 0, or -1 with err
 * when the checks themselves cannot run. */
int store_check_integrity(sqlite3 *db, store_check_result *r, char *err, size_t errlen);

/* The op log and its milestones (above); problems go into r, counts too. 0, or -1 with
 * err when the tables cannot be read. */
int store_check_oplog(sqlite3 *db, store_check_sealed how, store_check_result *r, char *err,
                      size_t errlen);

#endif
