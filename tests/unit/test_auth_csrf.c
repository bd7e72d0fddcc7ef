/*
 * The cross-site refusal rules (auth/csrf.h): content types, origins against the Host
 * header and against a configured public origin, Sec-Fetch-Site, unreadable headers,
 * and the upgrade's rules.
 */
#include <string.h>

#include "auth/csrf.h"
#include "unit.h"

static auth_csrf_request post(const char *content_type, const char *origin)
{
    auth_csrf_request r;

    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.content_type = content_type;
    r.origin = origin;
    r.host = "127.0.0.1:8080";
    return r;
}

static void content_type_rules(void)
{
    auth_csrf_request r = post("application/json", NULL);
    const char *why = NULL;

    CHECK(auth_csrf_check(&r, &why) == AUTH_CSRF_OK);
    r.content_type = "Application/JSON; charset=utf-8";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.content_type = " application/json ;charset=utf-8";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    const char *bad[] = {"text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/jsonx",
                         "application/json-patch+json", "", "application/js"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.content_type = bad[i];
        CHECK(auth_csrf_check(&r, &why) == AUTH_CSRF_MEDIA_TYPE);
    }
    CHECK(strstr(why, "application/json") != NULL);
    r.content_type = NULL;  /* no body, no type: still refused */
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_MEDIA_TYPE);
    r.content_type = "application/json";
    r.content_type_unreadable = true;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_MEDIA_TYPE);
    /* Every state-changing method, and no safe one. */
    r = post(NULL, NULL);
    for (const char *const *m = (const char *const[]){"POST", "PUT", "PATCH", "DELETE", NULL};
         *m; m++) {
        r.method = *m;
        CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_MEDIA_TYPE);
    }
    for (const char *const *m = (const char *const[]){"GET", "HEAD", "OPTIONS", NULL}; *m; m++) {
        r.method = *m;
        CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    }
}

static void origin_against_host(void)
{
    auth_csrf_request r = post("application/json", "http://127.0.0.1:8080");

    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.origin = "HTTP://127.0.0.1:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    const char *foreign[] = {"http://evil.example", "https://127.0.0.1:8080",
                             "http://127.0.0.1:8081", "http://127.0.0.1", "null", "",
                             "http://127.0.0.1:8080/", "http://127.0.0.1:8080/path",
                             "http://user@127.0.0.1:8080", "ws://127.0.0.1:8080",
                             "http://127.0.0.1:8080.evil.example",
                             "http://127.0.0.1:8080, http://evil.example"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        r.origin = foreign[i];
        CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    }
    /* Cross-origin wins over a wrong type: 403, not 415. */
    r = post("text/plain", "http://evil.example");
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    /* Default ports are the same origin; the Host's case does not matter. */
    r = post("application/json", "http://konsil.example");
    r.host = "Konsil.Example:80";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.tls = true;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r.origin = "https://konsil.example";
    r.host = "konsil.example";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.host = "konsil.example:443";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    /* No Host, or a Host that is no host: an Origin cannot be confirmed. */
    r.host = NULL;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r.host = "konsil.example/evil";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    /* IPv6 literals. */
    r = post("application/json", "http://[::1]:8080");
    r.host = "[::1]:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.origin = "http://[::2]:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
}

static void unreadable_origin_is_refused(void)
{
    auth_csrf_request r = post("application/json", NULL);

    r.origin_unreadable = true;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r.websocket = true;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r = post("application/json", NULL);
    r.sec_fetch_site_unreadable = true;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
}

static void sec_fetch_site(void)
{
    auth_csrf_request r = post("application/json", NULL);

    r.sec_fetch_site = "same-origin";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.sec_fetch_site = "none";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.sec_fetch_site = "cross-site";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r.sec_fetch_site = "Same-Site";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    /* Even with our own Origin beside it. */
    r.origin = "http://127.0.0.1:8080";
    r.sec_fetch_site = "cross-site";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
}

static void public_origin(void)
{
    char norm[400];
    auth_csrf_request r = post("application/json", "https://konsil.example");

    CHECK(auth_csrf_origin_normalise("HTTPS://Konsil.Example:443", norm, sizeof norm) == 0);
    CHECK_STR(norm, "https://konsil.example");
    CHECK(auth_csrf_origin_normalise("http://konsil.example:8443", norm, sizeof norm) == 0);
    CHECK_STR(norm, "http://konsil.example:8443");
    CHECK(auth_csrf_origin_normalise("https://konsil.example/", norm, sizeof norm) != 0);
    CHECK(auth_csrf_origin_normalise("konsil.example", norm, sizeof norm) != 0);
    CHECK(auth_csrf_origin_normalise("https://", norm, sizeof norm) != 0);
    CHECK(auth_csrf_origin_normalise("https://a:0", norm, sizeof norm) != 0);
    CHECK(auth_csrf_origin_normalise("https://a:65536", norm, sizeof norm) != 0);
    CHECK(auth_csrf_origin_normalise("ftp://a", norm, sizeof norm) != 0);
    /* Behind a proxy: plain HTTP inside, the public origin outside; Host is not used. */
    r.public_origin = "https://konsil.example";
    r.host = "127.0.0.1:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.origin = "http://127.0.0.1:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
    r.origin = NULL;
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
}

static void websocket_upgrade(void)
{
    auth_csrf_request r;

    memset(&r, 0, sizeof r);
    r.websocket = true;
    r.method = "GET";
    r.host = "127.0.0.1:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.origin = "http://127.0.0.1:8080";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_OK);
    r.origin = "http://evil.example";
    CHECK(auth_csrf_check(&r, NULL) == AUTH_CSRF_CROSS_ORIGIN);
}

int main(void)
{
    RUN(content_type_rules);
    RUN(origin_against_host);
    RUN(unreadable_origin_is_refused);
    RUN(sec_fetch_site);
    RUN(public_origin);
    RUN(websocket_upgrade);
    return unit_finish("test_auth_csrf");
}
