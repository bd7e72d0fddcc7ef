/*
 * Who received a case's data: the one place that answers it from the audit trail, for the
 * client's own copy (GDPR Art. 15(1)(c), store_copy.h) and for whatever else reports on
 * a case's disclosures (`konsil audit report`). A recipient is a principal that read the
 * case's data: opened its document on /ws (session.read.open), read its history or a
 * snapshot (history.read, snapshot.read), read the names of the clients waiting in its
 * lobby (lobby.read), exported it (export, by the operator on the command line), or took
 * a copy or a print view of it (copy.read, client_view.read).
 * Entries emptied by an erasure name nobody.
 */
#ifndef KONSIL_STORE_RECIPIENTS_H
#define KONSIL_STORE_RECIPIENTS_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* The audit actions that disclose a case's data to their actor, as an SQL list. */
#define STORE_RECIPIENT_ACTIONS \
    "'session.read.open', 'history.read', 'snapshot.read', 'lobby.read', 'export'," \
    " 'copy.read', 'client_view.read'"

/* The recipients of case_id's data: *out = [{id, name, role, specialty?, first, last,
 * reads}] (first and last in ms since the epoch; reads: how many disclosing entries),
 * by first read; `except` (may be NULL) is left out (the client a copy is for). The
 * operator's command line is {"id": "cli", "role": "operator"}. A client's name is the
 * one it chose. 0 or -1 (SQL error). */
int store_recipients_case(sqlite3 *db, const char *case_id, const char *except, cJSON **out);

#endif
