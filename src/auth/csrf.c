/*
 * Cross-site request refusal (see csrf.h). Origins are compared in one normal form:
 * "scheme://host[:port]" with scheme and host lowercased and the scheme's default port
 * dropped, so "HTTP://Example:80" and "http://example" are the same origin.
 */
#include "auth/csrf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An origin's parts longer than this are not origins anyone serves. */
#define ORIGIN_MAX 300

bool auth_csrf_state_changing(const char *method)
{
    return method && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                      strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0);
}

static int host_char(int c)
{
    return isalnum(c) || c == '.' || c == '-';
}

/* host[:port] from s (up to end) into out as "host[:port]", lowercased, without the
 * default port of the scheme. 0 or -1. */
static int host_port(const char *s, const char *end, int https, char *out, size_t n)
{
    const char *h = s, *colon = NULL;
    char host[ORIGIN_MAX];
    size_t hl;
    long port = -1;

    if (s < end && *s == '[') {        /* an IPv6 literal */
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close)
            return -1;
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return -1;
        h = close + 1;
        if (h < end && *h != ':')
            return -1;
        colon = h < end ? h : NULL;
        hl = (size_t)(h - s);
    } else {
        for (h = s; h < end && *h != ':'; h++)
            if (!host_char((unsigned char)*h))
                return -1;
        colon = h < end ? h : NULL;
        hl = (size_t)(h - s);
    }
    if (hl == 0 || hl >= sizeof host)
        return -1;
    for (size_t i = 0; i < hl; i++)
        host[i] = (char)tolower((unsigned char)s[i]);
    host[hl] = '\0';
    if (colon) {
        const char *p = colon + 1;
        if (p == end || end - p > 5)
            return -1;
        port = 0;
        for (; p < end; p++) {
            if (!isdigit((unsigned char)*p))
                return -1;
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return -1;
        if (port == (https ? 443 : 80))
            port = -1;
    }
    if (port < 0)
        return snprintf(out, n, "%s", host) < (int)n ? 0 : -1;
    return snprintf(out, n, "%s:%ld", host, port) < (int)n ? 0 : -1;
}

int auth_csrf_origin_normalise(const char *in, char *out, size_t n)
{
    const char *rest, *end;
    char hp[ORIGIN_MAX + 8];
    int https;

    if (!in)
        return -1;
    if (strncasecmp(in, "https://", 8) == 0) {
        https = 1;
        rest = in + 8;
    } else if (strncasecmp(in, "http://", 7) == 0) {
        https = 0;
        rest = in + 7;
    } else {
        return -1;
    }
    end = rest + strlen(rest);
    if (end - rest > ORIGIN_MAX || host_port(rest, end, https, hp, sizeof hp) != 0)
        return -1;
    return snprintf(out, n, "%s://%s", https ? "https" : "http", hp) < (int)n ? 0 : -1;
}

/* The server's own origin for this request, normalised, or -1 when it cannot say. */
static int own_origin(const auth_csrf_request *r, char *out, size_t n)
{
    char hp[ORIGIN_MAX + 8];

    if (r->public_origin)
        return snprintf(out, n, "%s", r->public_origin) < (int)n ? 0 : -1;
    if (!r->host || strlen(r->host) > ORIGIN_MAX ||
        host_port(r->host, r->host + strlen(r->host), r->tls, hp, sizeof hp) != 0)
        return -1;
    return snprintf(out, n, "%s://%s", r->tls ? "https" : "http", hp) < (int)n ? 0 : -1;
}

/* The media type of a Content-Type value is application/json. */
static bool json_type(const char *ct)
{
    const char *end;

    while (*ct == ' ' || *ct == '\t')
        ct++;
    end = strchr(ct, ';');
    if (!end)
        end = ct + strlen(ct);
    while (end > ct && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (size_t)(end - ct) == strlen("application/json") &&
           strncasecmp(ct, "application/json", (size_t)(end - ct)) == 0;
}

static auth_csrf_verdict say(auth_csrf_verdict v, const char **why, const char *text)
{
    if (why)
        *why = text;
    return v;
}

auth_csrf_verdict auth_csrf_check(const auth_csrf_request *r, const char **why)
{
    char origin[ORIGIN_MAX + 16], own[ORIGIN_MAX + 16];

    if (r->sec_fetch_site_unreadable ||
        (r->sec_fetch_site && (strcasecmp(r->sec_fetch_site, "cross-site") == 0 ||
                               strcasecmp(r->sec_fetch_site, "same-site") == 0)))
        return say(AUTH_CSRF_CROSS_ORIGIN, why, "requests from other sites are refused");
    if (r->origin_unreadable)
        return say(AUTH_CSRF_CROSS_ORIGIN, why, "the Origin header is too long");
    if (r->origin) {
        if (auth_csrf_origin_normalise(r->origin, origin, sizeof origin) != 0 ||
            own_origin(r, own, sizeof own) != 0 || strcmp(origin, own) != 0)
            return say(AUTH_CSRF_CROSS_ORIGIN, why,
                       "requests from another origin are refused");
    }
    if (!r->websocket && auth_csrf_state_changing(r->method) &&
        (r->content_type_unreadable || !r->content_type || !json_type(r->content_type)))
        return say(AUTH_CSRF_MEDIA_TYPE, why,
                   "a request that changes something must be Content-Type: application/json");
    return say(AUTH_CSRF_OK, why, "");
}
