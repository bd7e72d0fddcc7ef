/*
 * `konsil audit report`'s data: who read and wrote what of one case, and when — the
 * recipients of a client's data that the client may ask for under GDPR Art. 15 — from
 * the audit trail (every entry about the case: the reads that disclose something of it,
 * and everything else its people did) and the op log (each author's changes).
 *
 * Ownership: *out is the caller's to free.
 */
#ifndef KONSIL_STORE_AUDIT_REPORT_H
#define KONSIL_STORE_AUDIT_REPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* The report of case id (a case's id, or one of its sessions': its case), inside the
 * caller's read transaction:
 *   {case: {id, title, status, created_at, closed_at},
 *    people: [{id, name, role, specialty?,
 *              reads: [{seq, ts, action, details}],   the entries that disclosed the
 *                       case's data to them (STORE_RECIPIENT_ACTIONS: session.read.open,
 *                       history.read, snapshot.read, lobby.read, export, copy.read,
 *                       client_view.read)
 *              other: [{seq, ts, action, details}],   everything else they did to it
 *              writes: null | {ops, first_v, last_v, first, last,
 *                              parts: {top-level part: components}}}]}
 * in the order they first appear. 0; 1 no such case or session; -1 (err says why). */
int store_audit_report(sqlite3 *db, const char *id, cJSON **out, char *err, size_t errlen);

#endif
