/*
 * Retention, legal holds and restriction of cases (protocol/retention.md), as the
 * database keeps them:
 *
 *   - a case has a retention class of its template version (the template's default
 *     until the lead chooses another while the case is open); when the case closes its
 *     deletion date is set: closed_at + the class's after_closure_days;
 *   - an open case whose last activity (its latest op, a session started or ended, its
 *     creation, or the lead's "still active") lies further back than the server's
 *     --inactive-days is "inactive": listed for its lead to close or keep;
 *   - a legal hold (who, why, until when or until lifted) keeps a case from erasure;
 *   - a restricted case (GDPR Art. 18) is read-only and read only by its lead and admins;
 *     its running session ends; lifting it, with a reason, brings back its status before.
 *
 * Everything is audited: case.retention, case.keep, hold.set, hold.lift, case.restrict,
 * case.unrestrict. The pure rules (the classes, their periods and bases) are the
 * template's (template.h).
 */
#ifndef KONSIL_STORE_RETENTION_H
#define KONSIL_STORE_RETENTION_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store.h"

#define STORE_DAY_MS (24LL * 3600 * 1000)

/* Inside the caller's write transaction, when case_id closes at closed_at: its deletion
 * date from its class (audited case.retention by the actor). 0, or -1 refused. */
int store_retention_schedule(sqlite3 *db, store_job *job, const char *case_id,
                             int64_t closed_at);

/* The case's retention as the API shows it (protocol/http-api.md), added to the case
 * resource `view` as "retention" (and "restriction" when restricted): for the lead and
 * admins (privileged) with the reasons of holds and restriction. in: now, inactive_ms,
 * notice_ms. 0 or -1. */
int store_retention_add(sqlite3 *db, const cJSON *in, int privileged, cJSON *view);

/* The officer's view: {cases: [{id, status, template, class, created_at, closed_at,
 * delete_at, held, restricted, inactive, last_activity, lead}], holds: [...],
 * restrictions: [...], requests: [...], erasures: [{case_id, erased_at, how}]} without
 * any case's content (no titles, no names of clients). Cases by deletion date (none
 * last). 0 or -1. */
int store_retention_officer(sqlite3 *db, int64_t now, int64_t inactive_ms, cJSON **out);

/* ---- STORE_CALLs ---- */

/* writer: in {now}: deletion dates for closed cases that have none (closed before
 * retention existed), audited case.retention by "konsil". */
int store_api_retention_settle(sqlite3 *db, store_job *job);
/* writer: in {id, class, actor, now}: the lead chooses the open case's class -> out the
 * case. */
int store_api_retention_class(sqlite3 *db, store_job *job);
/* writer: in {id, actor, now}: the lead confirms the open case is still active -> out the
 * case. */
int store_api_case_keep(sqlite3 *db, store_job *job);
/* writer: in {id, hold_id, reason, until?, actor, now}: the lead or an admin sets a legal
 * hold -> out the hold. */
int store_api_hold_set(sqlite3 *db, store_job *job);
/* writer: in {id, hold_id, reason, actor, now}: the lead or an admin lifts it -> out the
 * hold. */
int store_api_hold_lift(sqlite3 *db, store_job *job);
/* writer: in {id, reason, actor, now}: the lead or an admin restricts the case; its
 * running session ends -> out the case (with "sessions" ended). */
int store_api_case_restrict(sqlite3 *db, store_job *job);
/* writer: in {id, reason, actor, now}: the restriction is lifted -> out the case. */
int store_api_case_unrestrict(sqlite3 *db, store_job *job);
/* reader: in {actor (an admin), now, inactive_ms} -> the officer's view. */
int store_api_officer(sqlite3 *db, store_job *job);

#endif
