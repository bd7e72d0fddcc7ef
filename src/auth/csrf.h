/*
 * Cross-site request refusal: whether an HTTP request to the REST API or a WebSocket
 * upgrade may be served, decided from its headers alone (pure: no sockets, no state).
 *
 * Rules (protocol/http-api.md, "Cross-site requests"):
 *   - a state-changing request (POST, PUT, PATCH, DELETE) must say
 *     `Content-Type: application/json` (parameters such as charset allowed), body or
 *     not: a page elsewhere cannot send that type without a CORS preflight, which Konsil
 *     never grants;
 *   - a request that carries an Origin must come from the server's own origin: the
 *     configured public origin when there is one, else the scheme the server speaks
 *     (https under TLS) with the request's Host. `Origin: null` is never ours. An Origin
 *     header present but too long to read is refused;
 *   - `Sec-Fetch-Site: cross-site` or `same-site` is refused whatever the Origin says;
 *   - a request without Origin and without Sec-Fetch-Site (scripts, API clients) passes.
 * The Origin and Sec-Fetch-Site rules hold for every method (a GET of history leaves
 * an audit entry, and nothing on another site needs the API); the content type only for
 * state-changing ones. The WebSocket upgrade follows the Origin and Sec-Fetch-Site
 * rules (it has no body, so no content type).
 */
#ifndef KONSIL_AUTH_CSRF_H
#define KONSIL_AUTH_CSRF_H

#include <stdbool.h>
#include <stddef.h>

/* The headers of one request, as the hub read them. A header that is absent is NULL;
 * one present but too long for the hub's buffer is flagged unreadable. */
typedef struct auth_csrf_request {
    const char *method;             /* "POST", ...; ignored for an upgrade */
    bool websocket;                 /* an upgrade to /ws */
    const char *content_type;
    bool content_type_unreadable;
    const char *origin;
    bool origin_unreadable;
    const char *sec_fetch_site;
    bool sec_fetch_site_unreadable;
    const char *host;               /* the Host header */
    bool tls;                       /* the server speaks https */
    const char *public_origin;      /* --public-origin, normalised, or NULL */
} auth_csrf_request;

typedef enum auth_csrf_verdict {
    AUTH_CSRF_OK = 0,
    AUTH_CSRF_MEDIA_TYPE,           /* 415 unsupported_media_type */
    AUTH_CSRF_CROSS_ORIGIN,         /* 403 cross_origin */
} auth_csrf_verdict;

/* The verdict; *why (may be NULL) gets a sentence for people, static storage. */
auth_csrf_verdict auth_csrf_check(const auth_csrf_request *r, const char **why);

/* Whether a method changes state (POST, PUT, PATCH, DELETE). */
bool auth_csrf_state_changing(const char *method);

/* Checks and normalises a configured origin ("https://konsil.example[:port]", no path,
 * no trailing slash; scheme and host lowercased, a default port dropped) into out
 * (n bytes). Returns 0, or -1 when it is not such an origin. */
int auth_csrf_origin_normalise(const char *in, char *out, size_t n);

#endif
