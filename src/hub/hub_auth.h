/*
 * Login sessions and login rate limits, held by the service thread.
 *
 * The WebSocket upgrade must decide who is connecting inside one lws callback, so the
 * valid login sessions are kept in memory, by the SHA-256 of their cookie token. The
 * database stays the authority: the cache is loaded from it before the server listens
 * (so login sessions survive a restart), and re-read by the reader thread every
 * HUB_AUTH_REFRESH_MS, which is how `konsil user disable` from the command line, a
 * lobby decision or an absolute expiry reaches a running server; connections whose
 * login session disappeared are then closed (1008), a client's whose session ended
 * (4001). Idle expiry is kept here (the
 * last use is written back every refresh); a connection that stays open counts as use.
 *
 * Login throttling is auth/throttle.h's policy (refused per username and address and
 * per address, only slowed per username); the hub holds its table, sweeps it with the
 * refresh, and writes its summaries to the audit trail as `login.throttled`.
 */
#ifndef KONSIL_HUB_AUTH_H
#define KONSIL_HUB_AUTH_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/principal.h"
#include "auth/throttle.h"
#include "auth/token.h"

#define HUB_AUTH_REFRESH_MS 2000
/* The login cookie. Over https it carries the __Host- prefix (Secure, Path=/, no
 * Domain: no other host or path can set or shadow it); browsers refuse that prefix
 * without Secure, so plain HTTP (loopback, development) uses the bare name. */
#define HUB_COOKIE "konsil_session"
#define HUB_COOKIE_SECURE "__Host-konsil_session"

typedef struct hub hub;
typedef struct hub_req hub_req;
struct store_job;

typedef struct hub_login {
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    auth_principal who;
    char session[AUTH_ID_MAX];  /* a client's one session; "" for accounts */
    char case_id[AUTH_ID_MAX];  /* a client's session's case; "" for accounts */
    int waiting;                /* a client in the lobby, not admitted yet */
    int ended;                  /* a client whose session has ended: it reaches nothing */
    int64_t last_used, expires_at;
    int64_t added;              /* when this process learnt of it (ms) */
    int dirty;                  /* last_used not written back yet */
} hub_login;

int hub_auth_init(hub *h);
void hub_auth_free(hub *h);
/* The valid login a Cookie header names, or NULL. touch: the request uses it now. */
hub_login *hub_auth_find(hub *h, const char *cookie_header, int touch);
hub_login *hub_auth_find_hash(hub *h, const char *hash);
/* Adds or replaces an entry in the store_api_logins_load format. NULL: no memory. */
hub_login *hub_auth_put(hub *h, const cJSON *entry);
void hub_auth_remove(hub *h, const char *hash);
/* Every login session of account id ends now (disabled, or a new password): its cache
 * entries go, its WebSockets close with 1008, and a refresh read before the change
 * cannot bring them back. */
void hub_auth_drop_principal(hub *h, const char *id);
/* Loads the cache at start (before the store's threads run). */
int hub_auth_load_now(hub *h, char *err, size_t errlen);
/* From the tick: start a refresh and write back idle times when due. */
void hub_auth_tick(hub *h);
/* A refresh finished. */
void hub_auth_refreshed(hub *h, hub_req *req, struct store_job *job);

/* Whether an attempt for (username, addr) may start, and after what delay. */
auth_throttle_decision hub_auth_attempt(hub *h, const char *username, const char *addr);
/* The attempt's password check ended; ok takes it back (auth_throttle_end). */
void hub_auth_attempt_done(hub *h, const char *username, const char *addr, int ok);
/* Writes every pending throttle summary to the audit trail (at shutdown). */
void hub_auth_flush(hub *h);

/* Reads the login cookie `name` from a Cookie header into token (43 + 1 bytes).
 * 0 or -1 (none). */
int hub_auth_cookie_token(const char *cookie_header, const char *name, char *token, size_t n);

/* Finds cookie `name` in a Cookie header: *value points into the header (not terminated),
 * *len is its length. Returns 0, or -1 when absent. */
int hub_cookie_value(const char *cookie_header, const char *name, const char **value,
                     size_t *len);

#endif
