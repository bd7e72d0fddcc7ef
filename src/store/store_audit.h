/*
 * The audit table on top of the pure chain (src/auth/audit.h): appending a sealed entry
 * inside the caller's transaction (format 2 from schema 6 on), emptying the entries
 * about an erased case, and verifying the whole table (against a checkpoint, when one is
 * given) and reading its head. Entries are only ever inserted, and changed in one way
 * only: an erasure empties the entries about its case (store_audit_empty), keeping every
 * hash, so the chain and the heads kept before still verify.
 */
#ifndef KONSIL_STORE_AUDIT_H
#define KONSIL_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "auth/audit.h"

/* Appends (seq = last + 1, sealed onto the last entry's hash). Call inside a write
 * transaction so the entry commits with what it records. session may be NULL,
 * details NULL or an object (only read). Returns 0 or -1 with err filled. */
int store_audit_append(sqlite3 *db, int64_t ts, const char *actor, const char *action,
                       const char *session, const cJSON *details, char *err, size_t errlen);

/* Empties, inside the caller's write transaction, every entry not emptied yet whose
 * session is case_id or whose actor is one of `actors` (an array of ids, may be NULL),
 * naming as their erasure the entry that will be appended next (its seq into
 * *erasure_seq); *count and digest (audit_emptied_digest) are what that entry must
 * record as "emptied" and "emptied_digest". Returns 0 or -1 with err filled. */
int store_audit_empty(sqlite3 *db, const char *case_id, const cJSON *actors,
                      int64_t *erasure_seq, int64_t *count,
                      char digest[AUDIT_HASH_LEN + 1], char *err, size_t errlen);

/* Verifies every entry in seq order, and checkpoint when not NULL (a head kept earlier;
 * see audit_verify). All rows are read in one statement, so a writer appending meanwhile
 * is either wholly in or out. Returns 0 intact, 1 a problem (in *report), -1 when the
 * table cannot be read or checkpoint is no head (err). *head is the table as read: its
 * number of rows and the last one's hash (the genesis hash when empty); it is the chain's
 * head only when 0 is returned. */
int store_audit_verify(sqlite3 *db, const audit_anchor *checkpoint, audit_report *report,
                       audit_anchor *head, char *err, size_t errlen);

#endif
