/*
 * The SQL behind the REST API and the login-session cache, as STORE_CALL functions
 * (store.h): each runs on the thread named beside it, reads its input from job->in
 * and answers with data in job->out (what the hub sends or keeps, e.g. a principal for
 * its caches; "-> out" below, none when not named) or refuses with job->err, an error
 * code and a message (store_refuse). None of them knows HTTP: the hub maps the answer
 * to a status and a body. A writer call that refuses returns -1 so that its savepoint
 * undoes whatever it wrote; audit entries are written in the same transaction as what
 * they record.
 *
 * Every call checks the caller's rights in SQL itself (in.actor is the authenticated
 * principal {id, role, session?} the hub passes), so a request can never act on a
 * session its principal does not belong to, whatever the hub's caches say.
 * Protocol: protocol/http-api.md.
 */
#ifndef KONSIL_STORE_API_H
#define KONSIL_STORE_API_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store.h"

/* The session a document belongs to, for the access layer: {id, title, template
 * (text), lead, closed_at (null or ms), participants: [{id, name, role, specialty}]},
 * or *out = NULL when id is no session. Returns 0 or -1 (SQL error). */
int store_api_session_meta(sqlite3 *db, const char *id, cJSON **out);

/* worker: in {username, password} -> out {id, name, role, specialty} when the
 * password matches an enabled account, else refused UNAUTHENTICATED. */
int store_api_login_check(sqlite3 *db, store_job *job);
/* writer: in {hash, principal, kind, session?, now, expires_at, addr} records a login
 * session and audits login.ok / join. */
int store_api_login_record(sqlite3 *db, store_job *job);
/* writer: in {hash, actor} ends a login session (audited: logout). */
int store_api_logout(sqlite3 *db, store_job *job);
/* reader: in {now} -> out [{hash, kind, session, created_at, last_used, expires_at,
 * status, principal: {id, name, role, specialty}}]: every login session that has not
 * reached its absolute expiry and whose account is enabled. */
int store_api_logins_load(sqlite3 *db, store_job *job);
/* writer: in [{hash, last_used}] persists idle times. */
int store_api_logins_touch(sqlite3 *db, store_job *job);
/* writer: in {ts, actor, action, session, details} appends one audit entry. */
int store_api_audit(sqlite3 *db, store_job *job);

/* writer: in {id, title, template_name, template, document, actor, now}: the session,
 * its lead, and its document's create op at version 0 -> out the session. */
int store_api_session_create(sqlite3 *db, store_job *job);
/* reader: in {actor} -> {"sessions": [...]}: the sessions the actor belongs to. */
int store_api_sessions_list(sqlite3 *db, store_job *job);
/* reader: in {id, actor} -> the session; NOT_FOUND when the actor does not belong. */
int store_api_session_get(sqlite3 *db, store_job *job);
/* writer: in {id, actor, now}: the lead closes the session (read-only from then on)
 * -> out the session. */
int store_api_session_close(sqlite3 *db, store_job *job);
/* writer: in {id, actor, username, now}: the lead adds a counsellor or supervisor
 * -> out the participant {id, name, role, specialty?}. */
int store_api_participant_add(sqlite3 *db, store_job *job);
/* writer: {id, username, expires_in_s}: the lead grants a supervisor of the session
 * identified reading of its history until now + expires_in_s (audited: grant.create)
 * -> out {id, user, expires_at}. */
int store_api_grant_create(sqlite3 *db, store_job *job);

/* writer: in {session, actor, link_id, hash, expires_at, max_uses?, lobby, now}. */
int store_api_link_create(sqlite3 *db, store_job *job);
/* writer: in {session, link_id, actor, now}. */
int store_api_link_revoke(sqlite3 *db, store_job *job);
/* writer: in {link_hash, client_id, display_name, login_hash, now, expires_at}: uses
 * the link, records the client and its login session; out {principal, session,
 * status}. */
int store_api_join(sqlite3 *db, store_job *job);
/* reader: in {session, actor} -> {"waiting": [{id, name, since}]}. */
int store_api_lobby_list(sqlite3 *db, store_job *job);
/* writer: in {session, client_id, actor, admit (bool), now} -> out {client, status}. */
int store_api_lobby_decide(sqlite3 *db, store_job *job);

/* Whether actor ({id, role, session?}) takes part in session id: a participant, or
 * the client bound to it; *lead (may be NULL) says whether it leads it. 1, 0, or -1 on
 * an SQL error. */
int store_api_member(sqlite3 *db, const cJSON *actor, const char *id, int *lead);

#endif
