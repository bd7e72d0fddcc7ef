/*
 * A session's history as one reader may see it: the REST history and snapshot
 * endpoints (protocol/http-api.md), as STORE_CALL functions for the reader thread.
 *
 * Both rebuild the document from the latest milestone at or below the version asked
 * for (never from version 0) and project everything through the session's own access
 * rules for the reader, exactly as /ws projects snapshots and ops: hidden components
 * are removed and an op that loses them all stays as an empty op, so versions line up.
 * Membership is checked in SQL here; a reader that does not take part gets 404.
 *
 * Input (job->in): {id, actor: {id, role, session?}} and
 *   history:  from, to (absent: the latest version), page (most ops), page_bytes (most
 *             bytes of stored op text; one op always fits)
 *   snapshot: v (absent: the latest version)
 * Output: job->code and job->text (the response body, or an error body); on success
 * job->out holds what the audit entry records: {from, to, ops} or {v}.
 */
#ifndef KONSIL_STORE_HISTORY_H
#define KONSIL_STORE_HISTORY_H

#include <sqlite3.h>

#include "store/store.h"

/* reader: {snapshot: {v, data}, ops: [{v, ts, author, op | create | del}], next}. */
int store_history_read(sqlite3 *db, store_job *job);
/* reader: {v, data}. */
int store_history_snapshot(sqlite3 *db, store_job *job);

#endif
