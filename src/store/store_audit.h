/*
 * The audit table on top of the pure chain (src/auth/audit.h): appending a sealed entry
 * inside the caller's transaction, and verifying the whole table (against a checkpoint,
 * when one is given) and reading its head. Entries are only
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

/* Verifies every entry in seq order, and checkpoint when not NULL (a head kept earlier;
 * see audit_verify). All rows are read in one statement, so a writer appending meanwhile
 * is either wholly in or out. Returns 0 intact, 1 a problem (in *report), -1 when the
 * table cannot be read or checkpoint is no head (err). *head is the table as read: its
 * number of rows and the last one's hash (the genesis hash when empty); it is the chain's
 * head only when 0 is returned. */
int store_audit_verify(sqlite3 *db, const audit_anchor *checkpoint, audit_report *report,
                       audit_anchor *head, char *err, size_t errlen);

#endif
