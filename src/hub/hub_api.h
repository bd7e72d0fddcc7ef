/*
 * What the REST API's files share (protocol/http-api.md): the router (hub_api.c) calls
 * one handler per endpoint, and the handlers share the helpers of hub_api_common.c.
 * The handlers live by concept: logins (hub_api_login.c), cases, their team, templates
 * and tasks (hub_api_cases.c), sessions (hub_api_sessions.c), links, joining and the
 * lobby (hub_api_links.c), history reads (hub_api_history.c), retention, erasure,
 * restriction and the client's own copy (hub_api_retention.c), accounts kept by admins
 * and set-password links (hub_api_accounts.c), an account's own second factor
 * (hub_api_totp.c).
 *
 * Each handler checks what it can on the service thread (login, role, the shape of the
 * body), then hands the rest to a store call, which checks again against the database
 * and answers; slow work (password hashing) runs on the store's worker thread. Tokens
 * (cookies, join links) appear only in responses, never in logs.
 */
#ifndef KONSIL_HUB_API_H
#define KONSIL_HUB_API_H

#include "hub/hub_internal.h"

/* ---- helpers (hub_api_common.c) ---- */

/* A fresh random id (a UUID, 36 characters). */
void hub_api_new_id(char out[37]);
/* 1..max bytes of well-formed UTF-8 without control characters. */
int hub_api_text(const char *s, size_t max);
/* A path segment that can be an id: [A-Za-z0-9-], 1..63 bytes. */
int hub_api_id(const char *s, size_t n);
/* The request body as a JSON object; NULL when it is none (req answered 400). */
cJSON *hub_api_body(hub_req *req);
/* The string member k of o, or NULL. */
const char *hub_api_str(const cJSON *o, const char *k);
/* {id, name, role, specialty?} of a principal. */
cJSON *hub_api_principal(const auth_principal *who);
/* The input every store call gets: {actor: {id, role, session?}, now, inactive_ms,
 * notice_ms (--inactive-days, --deletion-notice-days)}, and the id (of the session or
 * case the path names) when there is one. */
cJSON *hub_api_in(const hub_req *req, const char *id);
/* Runs fn on thread t with input in (taken); req is answered when it finishes: status
 * ok and the call's data on success, its refusal otherwise (hub_reply_job). */
void hub_api_answer(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *),
                    store_thread t, cJSON *in, int ok);
/* The same, with done answering req. */
void hub_api_then(hub *h, hub_req *req, int (*fn)(sqlite3 *, store_job *), store_thread t,
                  cJSON *in, hub_call_done done);
/* Requires a login; clients in the lobby, or whose session ended, only when
 * waiting_ok. 0 or -1 (answered). */
int hub_api_need_login(hub *h, hub_req *req, int waiting_ok);
/* What most handlers start with: a logged-in principal (a client still in the lobby,
 * or whose session ended, refused) and its store call's input {actor, now, id?}; NULL
 * when req was answered. */
cJSON *hub_api_login_in(hub *h, hub_req *req, const char *id);
/* Whether the logged-in account may create one more case, session or link now
 * (--max-creates): 0, or -1 with req answered 429 rate_limited and Retry-After. */
int hub_api_may_create(hub *h, hub_req *req);
void hub_api_set_cookie(hub *h, hub_req *req, const char *token, int64_t max_age_s);
/* The completion of a read that is audited before it is answered (hub_api_history.c):
 * req->ctx's "action" names the entry, job->doc the case, job->audit its details; a read
 * whose ctx has "optional": true and no details (nothing disclosed) is answered at once. */
void hub_api_read_done(hub *h, hub_req *req, store_job *job);
/* Appends an audit entry with details (taken; may be NULL), fire and forget. */
void hub_api_audit(hub *h, const char *actor, const char *action, const char *session,
                   cJSON *details);

/* ---- handlers ---- */

/* The issuer authenticator apps show beside the account, and the refusal when no
 * master key was given (nothing can be sealed). */
#define HUB_TOTP_ISSUER "Konsil"
#define HUB_TOTP_UNAVAILABLE "the server has no master key to seal second factors under: " \
                             "the operator must start it with --master-key-file"

void hub_api_login(hub *h, hub_req *req);
void hub_api_login_totp(hub *h, hub_req *req);

/* accounts (hub_api_accounts.c) */
void hub_api_users(hub *h, hub_req *req);
void hub_api_user_create(hub *h, hub_req *req);
void hub_api_user_disable(hub *h, hub_req *req, const char *id, int disable);
void hub_api_user_password_link(hub *h, hub_req *req, const char *id);
void hub_api_user_totp_reset(hub *h, hub_req *req, const char *id);
void hub_api_password_info(hub *h, hub_req *req);
void hub_api_password_set(hub *h, hub_req *req);

/* an account's own second factor (hub_api_totp.c) */
void hub_api_my_totp(hub *h, hub_req *req);
void hub_api_my_totp_setup(hub *h, hub_req *req);
void hub_api_my_totp_confirm(hub *h, hub_req *req);
void hub_api_my_totp_disable(hub *h, hub_req *req);
void hub_api_my_recovery_codes(hub *h, hub_req *req);
void hub_api_logout(hub *h, hub_req *req);
void hub_api_me(hub *h, hub_req *req);

void hub_api_case_create(hub *h, hub_req *req);
void hub_api_cases(hub *h, hub_req *req);
void hub_api_case_get(hub *h, hub_req *req, const char *id);
void hub_api_case_close(hub *h, hub_req *req, const char *id);
void hub_api_case_session_start(hub *h, hub_req *req, const char *id);
/* legacy: id is a session (POST /api/sessions/{id}/participants, …/grants) */
void hub_api_team_add(hub *h, hub_req *req, const char *id, int legacy);
void hub_api_team_remove(hub *h, hub_req *req, const char *id, const char *user);
void hub_api_lead_transfer(hub *h, hub_req *req, const char *id);
void hub_api_grant_create(hub *h, hub_req *req, const char *id, int legacy);
void hub_api_templates(hub *h, hub_req *req);
void hub_api_my_tasks(hub *h, hub_req *req);

/* the legacy POST /api/sessions: a case with its first session */
void hub_api_session_create(hub *h, hub_req *req);
void hub_api_sessions(hub *h, hub_req *req);
void hub_api_session_get(hub *h, hub_req *req, const char *id);
void hub_api_session_end(hub *h, hub_req *req, const char *id);
void hub_api_session_close(hub *h, hub_req *req, const char *id);

void hub_api_link_create(hub *h, hub_req *req, const char *id);
void hub_api_link_revoke(hub *h, hub_req *req, const char *id, const char *link);
void hub_api_link_list(hub *h, hub_req *req, const char *id);
void hub_api_join(hub *h, hub_req *req);
void hub_api_join_status(hub *h, hub_req *req);
void hub_api_lobby(hub *h, hub_req *req, const char *id);
void hub_api_lobby_decide(hub *h, hub_req *req, const char *id, const char *client,
                          int admit);
void hub_api_client_remove(hub *h, hub_req *req, const char *id, const char *client);

/* retention and data-subject rights (hub_api_retention.c) */
void hub_api_erasure_request(hub *h, hub_req *req, const char *id);
void hub_api_erasure_confirm(hub *h, hub_req *req, const char *id, const char *request);
void hub_api_erasure_cancel(hub *h, hub_req *req, const char *id, const char *request);
void hub_api_hold_set(hub *h, hub_req *req, const char *id);
void hub_api_hold_lift(hub *h, hub_req *req, const char *id, const char *hold);
/* restricting: 1 restricts, 0 lifts the restriction */
void hub_api_case_restrict(hub *h, hub_req *req, const char *id, int restricting);
void hub_api_retention_class(hub *h, hub_req *req, const char *id);
void hub_api_case_keep(hub *h, hub_req *req, const char *id);
void hub_api_officer(hub *h, hub_req *req);
/* client_id NULL: the client's own copy (GET /api/me/copy) */
void hub_api_client_copy(hub *h, hub_req *req, const char *id, const char *client_id);
void hub_api_client_view(hub *h, hub_req *req, const char *id);

/* of_session: id is a session (its part of the case's history), else a case */
void hub_api_history(hub *h, hub_req *req, const char *id, int of_session);
void hub_api_snapshot(hub *h, hub_req *req, const char *id, int of_session);

#endif
