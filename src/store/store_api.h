/*
 * The SQL behind the REST API and the login-session cache, as STORE_CALL functions
 * (store.h): each runs on the thread named beside it, reads its input from job->in
 * and answers with data in job->out (what the hub sends or keeps, e.g. a principal for
 * its caches; "-> out" below, none when not named) or refuses with job->err, an error
 * code and a message (store_refuse). None of them knows HTTP: the hub maps the answer
 * to a status and a body. A writer call that refuses returns -1 so that its savepoint
 * undoes whatever it wrote; audit entries are written in the same transaction as what
 * they record, naming the case they are about.
 *
 * Every call checks the caller's rights in SQL itself (in.actor is the authenticated
 * principal {id, role, session?} the hub passes), so a request can never act on a case
 * its principal does not belong to, whatever the hub's caches say.
 *
 * The calls live by concept: logins here (store_api.c), cases and their team
 * (store_cases.c), sessions, the meetings of a case (store_sessions.c), links, joining
 * and the lobby (store_links.c), templates (store_templates.c), what the dashboard
 * reads out of case sheets (store_sheets.c). Retention, holds and restriction
 * (store_retention.h), erasure (store_erase.h) and the client's copy (store_copy.h) have
 * headers of their own.
 * Protocol: protocol/http-api.md.
 */
#ifndef KONSIL_STORE_API_H
#define KONSIL_STORE_API_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store.h"

/* ---- logins (store_api.c) ---- */

/* worker: in {username, password} -> out {principal: {id, name, role, specialty},
 * totp: {enabled, pending}} when the password matches an enabled account, else refused
 * UNAUTHENTICATED. */
int store_api_login_check(sqlite3 *db, store_job *job);
/* writer: in {hash, principal, kind, now, expires_at, addr, second?} records a login
 * session and audits login.ok; with second ({kind: "totp" | "recovery" | "setup", code})
 * the second factor is checked first (store_totp.c), refused totp_invalid -> out
 * {recovery_codes?: [...] (setup: shown once), recovery_codes_left?}. */
int store_api_login_record(sqlite3 *db, store_job *job);
/* writer: in {hash, actor} ends a login session (audited: logout). */
int store_api_logout(sqlite3 *db, store_job *job);
/* reader: in {now} -> out [{hash, kind, session, case_id, created_at, last_used,
 * expires_at, status, principal: {id, name, role, specialty}}]: every login session
 * that has not reached its absolute expiry and whose account is enabled; a client's
 * status is waiting, admitted, or ended (its session ended). */
int store_api_logins_load(sqlite3 *db, store_job *job);
/* writer: in [{hash, last_used}] persists idle times. */
int store_api_logins_touch(sqlite3 *db, store_job *job);
/* writer: in {ts, actor, action, session (the case), details} appends one audit entry. */
int store_api_audit(sqlite3 *db, store_job *job);

/* ---- cases and their team (store_cases.c) ---- */

/* What the access layer needs of case id: {id, title, status, template (text),
 * template_name, template_version, lead, created_at, closed_at, team: [{id, name, role,
 * specialty?, team_role, lead, added_at}], sessions: [{id, started_at, ended_at, status,
 * from, to}], running: [session ids], client_names: [...]}, or *out = NULL when id is
 * no case. Returns 0 or -1 (SQL error). */
int store_case_meta(sqlite3 *db, const char *id, cJSON **out);

/* writer: in {id, title, template?, lead_name, actor, now, session_id?}: the case from
 * the latest version of its template (default "default"), the actor its lead, its
 * document's create op at version 0; with session_id also its first session (the
 * legacy POST /api/sessions) -> out the case, or that session. */
int store_api_case_create(sqlite3 *db, store_job *job);
/* reader: in {actor, now_minute} -> {"cases": [...]}: the cases the actor is in the
 * team of, newest first, each with its next appointment. */
int store_api_cases_list(sqlite3 *db, store_job *job);
/* reader: in {id, actor} -> the case with its template's rules. */
int store_api_case_get(sqlite3 *db, store_job *job);
/* writer: in {id, actor, now}: the lead closes the case (read-only from then on), its
 * running session ends -> out the case. */
int store_api_case_close(sqlite3 *db, store_job *job);
/* writer: in {id, actor, username, role?, now, legacy?}: the lead adds a counsellor or
 * supervisor (with role, only an account of that role: INVALID role_mismatch) -> out
 * the member. */
int store_api_team_add(sqlite3 *db, store_job *job);
/* writer: in {id, actor, user_id, now}: the lead removes a member -> out {id,
 * team_role}. */
int store_api_team_remove(sqlite3 *db, store_job *job);
/* writer: in {id, actor, user_id, now}: the lead hands the lead to a counsellor of the
 * team -> out the case. */
int store_api_lead_transfer(sqlite3 *db, store_job *job);
/* writer: in {id, actor, username, expires_in_s, now}: the lead grants a supervisor of
 * the team identified reading of the case's history until now + expires_in_s (audited:
 * grant.create) -> out {id, user, expires_at}. */
int store_api_grant_create(sqlite3 *db, store_job *job);

/* ---- sessions: the meetings of a case (store_sessions.c) ---- */

/* writer: in {id (the case), session_id, actor, now}: a counsellor of the team starts a
 * session -> out the session. */
int store_api_session_start(sqlite3 *db, store_job *job);
/* writer: in {id, actor, now}: a counsellor of the team ends the session -> out it. */
int store_api_session_end(sqlite3 *db, store_job *job);
/* writer: in {id, actor, now}: the legacy close: the lead ends the session and closes
 * its case -> out the session. */
int store_api_session_close(sqlite3 *db, store_job *job);
/* reader: in {actor} -> {"sessions": [...]}: the sessions of the actor's cases (a
 * client: its one session). */
int store_api_sessions_list(sqlite3 *db, store_job *job);
/* reader: in {id, actor} -> the session with its case's template rules; NOT_FOUND when
 * the actor is neither in its case's team nor its client. */
int store_api_session_get(sqlite3 *db, store_job *job);
/* writer: the legacy POST /api/sessions/{id}/participants and …/grants: in.id a
 * session; store_api_team_add / store_api_grant_create on its case, with the session
 * endpoints' error codes. */
int store_api_session_participant_add(sqlite3 *db, store_job *job);
int store_api_session_grant_create(sqlite3 *db, store_job *job);

/* ---- links, joining, the lobby (store_links.c) ---- */

/* writer: in {session, actor, link_id, hash, expires_at, max_uses?, lobby, lang?, now}. */
int store_api_link_create(sqlite3 *db, store_job *job);
/* writer: in {session, link_id, end_clients (bool), actor, now}: revokes the link and,
 * with end_clients, removes the clients who came through it and are waiting or in (as
 * store_api_client_remove) -> out {case_id, ended: [the ids removed]}. */
int store_api_link_revoke(sqlite3 *db, store_job *job);
/* reader: in {session, actor, now} -> {"links": [{id, created_at, created_by,
 * created_by_name, expires_at, max_uses, uses, lobby, lang, revoked_at, status, clients
 * (how many are waiting or in), joined: [{id, name, status, joined_at}]}]}: the
 * session's links, newest first, for counsellors of the team; never a token. */
int store_api_link_list(sqlite3 *db, store_job *job);
/* writer: in {link_hash, client_id, display_name, login_hash, now, expires_at}: uses
 * the link, records the client and its login session -> out {principal, session,
 * case_id, status}. */
int store_api_join(sqlite3 *db, store_job *job);
/* reader: in {session, actor} -> {"waiting": [{id, name, since}]}. */
int store_api_lobby_list(sqlite3 *db, store_job *job);
/* reader: in {id (a case), actor?} -> {session: the running session's id or null,
 * waiting: how many clients wait in its lobby}: the case's meeting at a glance, named
 * nobody. With an actor, only for counsellors of the team (a supervisor FORBIDDEN,
 * anyone else NOT_FOUND); without one (the hub's own refresh for connections that
 * passed that check) for anyone. */
int store_api_meeting_state(sqlite3 *db, store_job *job);
/* writer: in {session, client_id, actor, admit (bool), now} -> out {client, status,
 * case_id}. */
int store_api_lobby_decide(sqlite3 *db, store_job *job);
/* writer: in {session, client_id, actor, now}: a counsellor of the team removes a client
 * of the session (waiting or admitted): its login sessions end (audited: client.remove)
 * -> out {case_id}. */
int store_api_client_remove(sqlite3 *db, store_job *job);

/* ---- accounts kept by admins (store_accounts.c) ---- */

/* reader: in {actor} -> {"users": [{id, username, name, role, specialty?, disabled,
 * created_at, has_password, totp: {enabled, enabled_at, recovery_codes_left}}]}. */
int store_api_users_list(sqlite3 *db, store_job *job);
/* writer: in {actor, now, user_id, username, display_name, role, specialty?, link: {id,
 * hash, expires_at}}: an account without a password and its set-password link (audited:
 * user.add) -> out {user, link: {id, expires_at}}; refused username_taken. */
int store_api_user_create(sqlite3 *db, store_job *job);
/* writer: in {actor, now, id, disabled}: disabling ends the account's login sessions
 * (audited: user.disable, user.enable; refused cannot_disable_self) -> out the user. */
int store_api_user_set_disabled(sqlite3 *db, store_job *job);
/* writer: in {actor, now, id, link}: a new set-password link, older unused ones revoked
 * (audited: user.password_link) -> out {id, expires_at, user}. */
int store_api_password_link_create(sqlite3 *db, store_job *job);
/* reader: in {hash, now} -> {username, name, expires_at} of a usable link; refused
 * link_invalid, link_used_up, link_revoked, link_expired. */
int store_api_password_link_get(sqlite3 *db, store_job *job);
/* worker: in {password} -> out {hash}: its scrypt string (slow: never on the writer). */
int store_api_password_hash(sqlite3 *db, store_job *job);
/* writer: in {hash (the link's), password (scrypt string), now}: sets the password, uses
 * the link, ends the account's login sessions (audited: user.passwd) -> out {user}. */
int store_api_password_set(sqlite3 *db, store_job *job);
/* writer: in {actor, now, id}: the account's second factor and recovery codes go
 * (audited: totp.reset) -> out the user. */
int store_api_totp_reset(sqlite3 *db, store_job *job);

/* ---- the second factor (store_totp.c) ---- */

/* writer: in {user_id, now, issuer}: a new secret, pending until confirmed -> out
 * {secret (base32), uri (otpauth://), digits, period}; refused totp_enabled. */
int store_api_totp_setup(sqlite3 *db, store_job *job);
/* writer: in {user_id, code, now}: the pending secret turns on when code matches it
 * (audited: totp.enable) -> out {recovery_codes}: ten, shown once. */
int store_api_totp_confirm(sqlite3 *db, store_job *job);
/* writer: in {user_id, code, now}: turned off with a current code (audited:
 * totp.disable). */
int store_api_totp_disable(sqlite3 *db, store_job *job);
/* writer: in {user_id, code, now}: ten new recovery codes, the old ones void (audited:
 * totp.recovery_codes) -> out {recovery_codes}. */
int store_api_recovery_renew(sqlite3 *db, store_job *job);
/* reader: in {user_id} -> {enabled, enabled_at, pending, recovery_codes_left}. */
int store_api_totp_status(sqlite3 *db, store_job *job);

/* ---- templates (store_templates.c) ---- */

/* reader: -> {"templates": [{name, version, title, description?}]}: the latest version
 * of each name, by name. */
int store_api_templates_list(sqlite3 *db, store_job *job);
/* writer: in {now, texts?: [template text, …]}: the shipped templates, then each text
 * (`konsil serve --templates`), as store_templates_install says. */
int store_api_templates_install(sqlite3 *db, store_job *job);

/* ---- what the dashboard reads out of case sheets (store_sheets.c) ---- */

/* reader: in {actor, today} -> {"tasks": [{case_id, case_title, index, what, due,
 * done, overdue}]}: the tasks of the actor's open cases it owns, due first. */
int store_api_my_tasks(sqlite3 *db, store_job *job);

#endif
