/*
 * A session's history as one reader may see it: the REST history and snapshot
 * endpoints (protocol/http-api.md), as STORE_CALL functions for the reader thread.
 *
 * Both rebuild the document from the latest milestone at or below the version asked
 * for (never from version 0) and project everything through the session's own access
 * rules for the reader, exactly as /ws projects snapshots and ops: hidden components
 * are removed and an op that loses them all stays as an empty op, so versions line up.
 * Membership is checked in SQL here; a reader that does not take part is refused
 * as STORE_ERR_NOT_FOUND, as for a session that does not exist.
 *
 * Each history page also lists the session events (joins, leaves, links used, the
 * session closed: from the audit trail) that fall between its first and last op.
 *
 * A supervisor reads pseudonymised (access_pseudo.h) unless `identified` is true and it
 * holds an unexpired grant (table grants) at `now`.
 *
 * Input (job->in): {id, actor: {id, role, session?}, now, identified?} and
 *   history:  from, to (absent: the latest version), page (most ops), page_bytes (most
 *             bytes of stored op text; one op always fits)
 *   snapshot: v (absent: the latest version)
 * Output: job->out, the response's data; job->audit, what the read's audit entry
 * records: {from, to} or {v}, and identified: true for an identified read. Refusals
 * (job->err): NOT_FOUND, VERSION_RANGE (from or v beyond the latest), INTERNAL.
 */
#ifndef KONSIL_STORE_HISTORY_H
#define KONSIL_STORE_HISTORY_H

#include <sqlite3.h>

#include "store/store.h"

/* reader: {snapshot: {v, data}, ops: [{v, ts, author, op | create | del}], next,
 * events: [{ts, kind, actor}]}. */
int store_history_read(sqlite3 *db, store_job *job);
/* reader: {v, data}. */
int store_history_snapshot(sqlite3 *db, store_job *job);

/* Receives one entry of an export; nonzero stops it. The entry is only lent. */
typedef int (*store_history_emit)(void *ctx, const cJSON *entry);

/* The whole history of session id for `konsil export`, inside the caller's read
 * transaction: the operator's export is not projected through the access rules, but
 * pseudonymised when asked (as for supervisors). Hands emit, in time order, each op as
 * {type: "op", v, ts, author, op | create | del} and each session event as
 * {type: "event", ts, kind, actor}; *final is then the document at the latest version
 * (null when it does not exist), the caller's to free. 0; 1 when there is no such
 * session; -1 otherwise; err says why. */
int store_history_export(sqlite3 *db, const char *id, int pseudonymise,
                         store_history_emit emit, void *ctx, cJSON **final, char *err,
                         size_t errlen);

#endif
