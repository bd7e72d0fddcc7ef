/*
 * What the STORE_CALL functions behind the REST API share (store_api.c, store_cases.c,
 * store_sessions.c, store_links.c, store_templates.c, store_sheets.c): statements with
 * every value bound (no SQL is ever built from input), reading a call's input, answering
 * with data or a refusal, audit entries in the caller's transaction, and who the actor
 * is in a case.
 */
#ifndef KONSIL_STORE_SQL_H
#define KONSIL_STORE_SQL_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store.h"

/* Prepares sql and binds the arguments `types` names: 's' text (NULL binds null), 'i'
 * int64. NULL on failure. */
sqlite3_stmt *store_q(sqlite3 *db, const char *sql, const char *types, ...);
/* Runs a statement that returns no rows and finalizes it; 0 or -1. */
int store_run(sqlite3_stmt *st);
/* A string / integer member of a call's input (NULL / 0 when absent). */
const char *store_s(const cJSON *o, const char *key);
int64_t store_i(const cJSON *o, const char *key);
/* Column i as text, NULL for SQL null. */
const char *store_col(sqlite3_stmt *st, int i);
/* Column i as a JSON number, or null for SQL null. */
cJSON *store_col_number(sqlite3_stmt *st, int i);
/* The first column of st's rows as a new JSON array of strings, st finalized; NULL when st
 * is NULL (the prepare failed) or a step fails. The caller owns the array. */
cJSON *store_strings(sqlite3_stmt *st);
/* Answers with data (taken; NULL for none). */
void store_answer(store_job *job, cJSON *out);
/* Refuses as INTERNAL: the database could not answer. Returns -1. */
int store_sql_fail(store_job *job);
/* Appends an audit entry at the call's `now` in the caller's transaction; refuses as
 * INTERNAL when it cannot (returns -1). case_id may be NULL, details NULL. */
int store_audit_call(sqlite3 *db, store_job *job, const char *actor, const char *action,
                     const char *case_id, const cJSON *details);
/* {id, name, role, specialty?} of a user row's columns (id, display_name, role,
 * specialty) starting at column c. */
cJSON *store_principal_json(sqlite3_stmt *st, int c);
/* The call's actor {id, role, session?} and its id ("" when none). */
const cJSON *store_actor(const store_job *job);
const char *store_actor_id(const store_job *job);
/* The version after document doc's last op (0 when it has none), or -1. */
int64_t store_doc_head(sqlite3 *db, const char *doc);

/* The user's place in case_id's team now: "lead", "counsellor" or "supervisor" copied
 * into role (16 bytes). 1 a member, 0 not (or no such case), -1 an SQL error. */
int store_team_role(sqlite3 *db, const char *case_id, const char *user_id, char role[16]);
/* The case of session id and whether the session runs: 1 found (case_id copied, 64
 * bytes), 0 no such session, -1 an SQL error. */
int store_session_case(sqlite3 *db, const char *session, char case_id[64], int *running);

/* ---- cases and sessions as the API shows them (store_cases.c, store_sessions.c) ---- */

/* The case resource (protocol/http-api.md) into *out; with_rules adds the template's
 * title and rules. 0 (*out NULL: no such case) or -1 (SQL error). */
int store_case_view(sqlite3 *db, const char *id, int with_rules, cJSON **out);
/* The session resource into *out. 0 (*out NULL: no such session) or -1. */
int store_session_view(sqlite3 *db, const char *id, cJSON **out);
/* Refuses unless the actor leads case id and, when need_open, it is open (legacy: the
 * error codes of the session endpoints). 0 when the call may go on, else -1. */
int store_require_lead(sqlite3 *db, store_job *job, const char *case_id, int need_open,
                       int legacy);
/* Ends running session `session` of case_id at the case document's head (audited:
 * session.end). 0, or -1 refused. */
int store_session_finish(sqlite3 *db, store_job *job, const char *session,
                         const char *case_id);
/* Closes case_id: its running sessions end, its status is closed (audited: case.close).
 * 0, or -1 refused. */
int store_case_finish(sqlite3 *db, store_job *job, const char *case_id);

/* store_resource.c: the case or session resource (case case_id) as the call's actor reads
 * it, through access_view.h: its title as free text (access_view_text) and, when
 * detailed, the template's declarations (consents, stamps, identity, structured) in
 * "template", "people" (the team, and the case's clients through access_view_identity)
 * and "readers" ([{path, readers: [{id?, name?, role, specialty?, lead?, reads,
 * consent?}]}] for each rule: protocol/http-api.md). 0, or -1 refused. */
int store_resource_for_reader(sqlite3 *db, store_job *job, const char *case_id,
                              cJSON *resource, int detailed);
/* The latest version of case_id's sheet as who (its role and lead in the case) reads it
 * under the frame of the time of the read; NULL when there is none, or it failed. */
struct auth_principal;
cJSON *store_resource_sheet(sqlite3 *db, store_job *job, const char *case_id,
                            const struct auth_principal *who);
/* store_totp.c: user's second factor, recovery codes and its key in the key store go
 * (a reset, turning it off). 0 or -1 (sqlite3_errmsg). */
int store_totp_forget(sqlite3 *db, const char *user);
/* store_totp.c: checks a login's second factor in.second {kind: "totp" | "recovery" |
 * "setup", code} for user and records what it uses (the step, the recovery code; setup
 * turns the pending secret on and puts its recovery codes into out). 0, or -1 refused
 * (totp_invalid). */
int store_totp_second_factor(sqlite3 *db, store_job *job, const char *user,
                             const cJSON *second, cJSON *out);

/* store_sheets.c: case meta's (store_case_meta) next appointment as user may read it,
 * a new tree; NULL when there is none (or it may not read the list). */
cJSON *store_sheet_next_meeting(sqlite3 *db, store_job *job, const cJSON *meta,
                                const char *user, const char *now_minute);

#endif
