/*
 * A case's history as one reader may see it, whole or one session's part: the REST
 * history and snapshot endpoints (protocol/http-api.md), as STORE_CALL functions for the
 * reader thread.
 *
 * Both rebuild the document from the latest milestone at or below the version asked
 * for (never from version 0) and project everything through the case's own access
 * rules for the reader, exactly as /ws projects snapshots and ops: hidden components
 * are removed and an op that loses them all stays as an empty op, so versions line up.
 * Membership is checked in SQL here: a case is read by the current members of its
 * team; a session also by its client while it runs. Any other reader is refused as
 * STORE_ERR_NOT_FOUND, as for a case or session that does not exist.
 *
 * Each op says which session it was made in ("session": its id, or null between
 * sessions). Each history page also lists the case events (the team changed, sessions
 * started and ended, joins, leaves, links used, the case closed: from the audit trail)
 * that fall between its first and last op; a session's pages keep to its time.
 *
 * A supervisor reads pseudonymised (access_view.h) unless `identified` is true and it
 * holds an unexpired grant (table grants) at `now`.
 *
 * Input (job->in): {id, of_session?, actor: {id, role, session?}, now, identified?}:
 * id a case, or a session when of_session is true; and
 *   history:  from, to (absent: the first and last version read), page (most ops),
 *             page_bytes (most bytes of stored op text; one op always fits)
 *   snapshot: v (absent: the last version read)
 * A case's read covers versions [0, latest]; a session's [its first, its last] (the
 * latest while it runs). Output: job->out, the response's data; job->doc, the case's
 * id; job->audit, what the read's audit entry records: {from, to} or {v}, and
 * identified: true for an identified read. Refusals (job->err):
 * NOT_FOUND, VERSION_RANGE (from or v outside what is read), INTERNAL.
 */
#ifndef KONSIL_STORE_HISTORY_H
#define KONSIL_STORE_HISTORY_H

#include <sqlite3.h>

#include "auth/access_view.h"
#include "store/store.h"

/* reader: {snapshot: {v, data}, ops: [{v, ts, author, session, op | create | del}],
 * next, events: [{ts, kind, actor, session?}], and session: {id, from, to} (a session's
 * read) or sessions: [{id, from, to, started_at, ended_at}] (a case's)}. */
int store_history_read(sqlite3 *db, store_job *job);
/* reader: {v, data}. */
int store_history_snapshot(sqlite3 *db, store_job *job);

/* The view (access_view.h) of the call's actor, a member of case_id's team, as the
 * REST reads name people and show text to it (supervisors pseudonymised). 0, or -1
 * refused (NOT_FOUND: not a member). */
int store_actor_view(sqlite3 *db, store_job *job, const char *case_id, access_view *out);

/* Adds to meta (a case's, store_case_meta: its template text and client names) the frame
 * a read at this time is under: "frame": {"consents": the consent state of the latest
 * version of document job->doc, "identity": the values of its identity paths there (an
 * object holding only those paths)}. 0 or -1 (job->status, job->error). */
int store_case_frame(sqlite3 *db, store_job *job, cJSON *meta);

/* Receives one entry of an export; nonzero stops it. The entry is only lent. */
typedef int (*store_history_emit)(void *ctx, const cJSON *entry);

/* The case of id (a case's id, or a session's: its case) into case_id (64 bytes). 1
 * found, 0 not, -1 an SQL error. */
int store_history_case_of(sqlite3 *db, const char *id, char case_id[64]);

/* The whole history of case id for `konsil export`, inside the caller's read
 * transaction: the operator's export reads every path (access_view_export), pseudonymised
 * when asked (as a supervisor without a grant reads it), under the frame of the time of
 * the export. Hands emit, in time order, each op as {type: "op", v, ts, author, session,
 * op | create | del} and each case event as {type: "event", ts, kind, actor, session?};
 * *final is then the document at the latest version (null when it does not exist) and
 * *about {title, clients: [identity]}: the case's title and its clients as the export
 * shows them; both the caller's to free. 0; 1 when there is no such case; -1 otherwise;
 * err says why. */
int store_history_export(sqlite3 *db, const char *id, int pseudonymise,
                         store_history_emit emit, void *ctx, cJSON **final, cJSON **about,
                         char *err, size_t errlen);

#endif
