/*
 * Erasing a case so that nothing of it remains (DESIGN.md invariant 9; protocol/retention.md):
 * its key first (so every backup of the database loses it too), then every row keyed by
 * it — the op log and stored snapshots, its sessions, links, lobby and clients and their
 * login sessions, grants, team, holds, erasure requests and the case row — and the
 * content of every audit entry about it or by one of its clients (store_audit_empty);
 * what remains is a content-free tombstone (erasures: id, when, how, the audit entry)
 * and the erasure's own audit entry (who asked, who confirmed, why, how much went).
 * secure_delete (store_schema_configure) overwrites what is deleted with zeros; the WAL
 * holding earlier copies is checkpointed and truncated afterwards (store_erase_checkpoint).
 *
 * Erasure comes three ways: due (its deletion date passed: the server's own job or
 * `konsil retention run`), on request (asked for by the lead or an admin with a reason,
 * confirmed by a second staff member; `konsil case erase` from the command line), or when
 * its key is found destroyed (a case restored from a backup taken before its erasure:
 * its data cannot be read any more, and what is left of it goes). A case under a legal
 * hold, or restricted, is never erased.
 */
#ifndef KONSIL_STORE_ERASE_H
#define KONSIL_STORE_ERASE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store.h"

/* Why a case may not be erased now: 0 it may, 1 held (a legal hold stands), 2
 * restricted, 3 no such case (or erased already), -1 SQL error. */
int store_erase_blocked(sqlite3 *db, const char *case_id, int64_t now);

/* Erases case_id inside the caller's write transaction (see above). how: "due",
 * "request" or "key_destroyed"; actor: who did it ("konsil" for the server's job, "cli");
 * details: more for the erasure's audit entry (requested_by, confirmed_by, reason), only
 * read, may be NULL. *out (may be NULL) gets {case_id, erased_at, how, sessions: [ids],
 * clients: [ids], audit_seq} for whoever must let go of it (the hub). Does not check
 * whether it may: store_erase_blocked. 0, or -1 with err. */
int store_erase_case(sqlite3 *db, const char *case_id, const char *how, const char *actor,
                     int64_t now, const cJSON *details, cJSON **out, char *err, size_t errlen);

/* Checkpoints the database at path and truncates its WAL, retrying while readers hold
 * it (up to about tries * 50 ms), on a connection of its own. 0, or -1 when it could not
 * (err). */
int store_erase_checkpoint(const char *path, int tries, char *err, size_t errlen);

/* ---- STORE_CALLs (protocol/http-api.md) ---- */

/* writer: in {id, request_id, reason, actor, now}: the lead or an admin asks for the case
 * to be erased (audited case.erase.request) -> out the request. */
int store_api_erasure_request(sqlite3 *db, store_job *job);
/* writer: in {id, request_id, actor, now}: another staff member (a counsellor of the team
 * or an admin, not the one who asked) confirms: the case is erased -> out {case_id,
 * erased_at, how, sessions, clients}. */
int store_api_erasure_confirm(sqlite3 *db, store_job *job);
/* writer: in {id, request_id, actor, now}: the one who asked, the lead or an admin
 * withdraws the request (audited case.erase.cancel). */
int store_api_erasure_cancel(sqlite3 *db, store_job *job);
/* reader: in {now} -> {"due": [case ids], "key_destroyed": [case ids]}: closed cases
 * whose deletion date passed, without a standing hold and not restricted; and cases
 * whose data is sealed under a key the key store no longer has. */
int store_api_erase_due_list(sqlite3 *db, store_job *job);
/* writer: in {id, how ("due" or "key_destroyed"), actor, now}: erases the case if it still
 * is what `how` says (checked again) -> out as store_erase_case's, or null when it no
 * longer is. */
int store_api_erase_due(sqlite3 *db, store_job *job);
/* reader: in {since} -> {"erasures": [{case_id, erased_at, how}]} erased at or after
 * since (ms). */
int store_api_erasures_since(sqlite3 *db, store_job *job);
/* writer: in {id}: after an erasure made elsewhere (the command line), what this server
 * may have written of the case since (an op committed before it learnt) goes too, and the
 * key store is read again. */
int store_api_erase_purge(sqlite3 *db, store_job *job);
/* worker: checkpoints and truncates the WAL (store_erase_checkpoint) of the database the
 * worker's connection reads. */
int store_api_checkpoint(sqlite3 *db, store_job *job);

#endif
