/*
 * The audit table on top of the pure chain (src/auth/audit.h): appending a sealed entry
 * inside the caller's transaction, and verifying the whole table. Entries are only
 * ever inserted; nothing in Konsil updates or deletes them.
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

/* Verifies every entry in seq order. Returns 0 intact, 1 a problem (in *report),
 * -1 when the table cannot be read (err). *count and head (AUDIT_HASH_LEN + 1, the
 * last entry's hash or the genesis hash) describe the table. */
int store_audit_verify(sqlite3 *db, audit_report *report, size_t *count, char *head,
                       char *err, size_t errlen);

#endif
