/*
 * The REST API's router (protocol/http-api.md): /api/... paths to their handlers
 * (hub_api.h), /j/<token> to the client page. Ids in paths are checked for shape here;
 * anything else is 404 not_found.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>

/* Splits "/a/b/c" into at most 6 segments; returns the count, or -1 when there are
 * more or the path does not start with "/". */
static int split(char *path, char *seg[6])
{
    char *p = path;
    int n = 0;

    if (*p != '/')
        return -1;
    p++;
    for (;;) {
        char *end;
        if (n == 6)
            return -1;
        seg[n++] = p;
        end = strchr(p, '/');
        if (!end)
            return n;
        *end = '\0';
        p = end + 1;
    }
}

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

void hub_api_route(hub *h, hub_req *req)
{
    char path[sizeof req->path], *seg[6] = {0};
    const char *m = req->method;
    int n;

    snprintf(path, sizeof path, "%s", req->path);
    if (strncmp(path, "/j/", 3) == 0 && req->path[3]) {
        if (!h->cfg.web_dir) {
            hub_req_error(req, 404, "not_found", "no client page is served");
            return;
        }
        snprintf(req->file, sizeof req->file, "%.4000s/index.html", h->web_origin);
        return;
    }
    n = split(path, seg);
    if (n < 2 || !is(seg[0], "api")) {
        hub_req_error(req, 404, "not_found", "no such resource");
        return;
    }
    if (n >= 3 && is(seg[1], "sessions") && !hub_api_id(seg[2], strlen(seg[2]))) {
        hub_req_error(req, 404, "not_found", "no such session");
        return;
    }
    if (n >= 3 && is(seg[1], "cases") && !hub_api_id(seg[2], strlen(seg[2]))) {
        hub_req_error(req, 404, "not_found", "no such case");
        return;
    }
    if (n == 2 && is(seg[1], "login") && is(m, "POST"))
        return hub_api_login(h, req);
    if (n == 3 && is(seg[1], "login") && is(seg[2], "totp") && is(m, "POST"))
        return hub_api_login_totp(h, req);
    if (n == 3 && is(seg[1], "me") && is(seg[2], "totp") && is(m, "GET"))
        return hub_api_my_totp(h, req);
    if (n == 3 && is(seg[1], "me") && is(seg[2], "totp") && is(m, "POST"))
        return hub_api_my_totp_setup(h, req);
    if (n == 4 && is(seg[1], "me") && is(seg[2], "totp") && is(seg[3], "confirm") &&
        is(m, "POST"))
        return hub_api_my_totp_confirm(h, req);
    if (n == 4 && is(seg[1], "me") && is(seg[2], "totp") && is(seg[3], "disable") &&
        is(m, "POST"))
        return hub_api_my_totp_disable(h, req);
    if (n == 3 && is(seg[1], "me") && is(seg[2], "recovery-codes") && is(m, "POST"))
        return hub_api_my_recovery_codes(h, req);
    if (n == 3 && is(seg[1], "password") && is(seg[2], "info") && is(m, "POST"))
        return hub_api_password_info(h, req);
    if (n == 2 && is(seg[1], "password") && is(m, "POST"))
        return hub_api_password_set(h, req);
    if (n >= 2 && is(seg[1], "users")) {
        if (n >= 3 && !hub_api_id(seg[2], strlen(seg[2]))) {
            hub_req_error(req, 404, "user_not_found", "no such account");
            return;
        }
        if (n == 2 && is(m, "GET"))
            return hub_api_users(h, req);
        if (n == 2 && is(m, "POST"))
            return hub_api_user_create(h, req);
        if (n == 4 && (is(seg[3], "disable") || is(seg[3], "enable")) && is(m, "POST"))
            return hub_api_user_disable(h, req, seg[2], is(seg[3], "disable"));
        if (n == 4 && is(seg[3], "password-link") && is(m, "POST"))
            return hub_api_user_password_link(h, req, seg[2]);
        if (n == 5 && is(seg[3], "totp") && is(seg[4], "reset") && is(m, "POST"))
            return hub_api_user_totp_reset(h, req, seg[2]);
    }
    if (n == 2 && is(seg[1], "logout") && is(m, "POST"))
        return hub_api_logout(h, req);
    if (n == 2 && is(seg[1], "me") && is(m, "GET"))
        return hub_api_me(h, req);
    if (n == 2 && is(seg[1], "join") && is(m, "POST"))
        return hub_api_join(h, req);
    if (n == 3 && is(seg[1], "join") && is(seg[2], "status") && is(m, "GET"))
        return hub_api_join_status(h, req);
    if (n == 3 && is(seg[1], "me") && is(seg[2], "tasks") && is(m, "GET"))
        return hub_api_my_tasks(h, req);
    if (n == 3 && is(seg[1], "me") && is(seg[2], "copy") && is(m, "GET"))
        return hub_api_client_copy(h, req, NULL, NULL);
    if (n == 2 && is(seg[1], "templates") && is(m, "GET"))
        return hub_api_templates(h, req);
    if (n == 3 && is(seg[1], "admin") && is(seg[2], "retention") && is(m, "GET"))
        return hub_api_officer(h, req);
    if (n >= 2 && is(seg[1], "cases")) {
        if (n == 2 && is(m, "POST"))
            return hub_api_case_create(h, req);
        if (n == 2 && is(m, "GET"))
            return hub_api_cases(h, req);
        if (n == 3 && is(m, "GET"))
            return hub_api_case_get(h, req, seg[2]);
        if (n == 4 && is(seg[3], "close") && is(m, "POST"))
            return hub_api_case_close(h, req, seg[2]);
        if (n == 4 && is(seg[3], "sessions") && is(m, "POST"))
            return hub_api_case_session_start(h, req, seg[2]);
        if (n == 4 && is(seg[3], "team") && is(m, "POST"))
            return hub_api_team_add(h, req, seg[2], 0);
        if (n == 5 && is(seg[3], "team") && is(m, "DELETE") &&
            hub_api_id(seg[4], strlen(seg[4])))
            return hub_api_team_remove(h, req, seg[2], seg[4]);
        if (n == 4 && is(seg[3], "lead") && is(m, "POST"))
            return hub_api_lead_transfer(h, req, seg[2]);
        if (n == 4 && is(seg[3], "grants") && is(m, "POST"))
            return hub_api_grant_create(h, req, seg[2], 0);
        if (n == 4 && is(seg[3], "history") && is(m, "GET"))
            return hub_api_history(h, req, seg[2], 0);
        if (n == 4 && is(seg[3], "snapshot") && is(m, "GET"))
            return hub_api_snapshot(h, req, seg[2], 0);
        if (n == 4 && is(seg[3], "holds") && is(m, "POST"))
            return hub_api_hold_set(h, req, seg[2]);
        if (n == 6 && is(seg[3], "holds") && hub_api_id(seg[4], strlen(seg[4])) &&
            is(m, "POST") && is(seg[5], "lift"))
            return hub_api_hold_lift(h, req, seg[2], seg[4]);
        if (n == 4 && is(m, "POST") && (is(seg[3], "restrict") || is(seg[3], "unrestrict")))
            return hub_api_case_restrict(h, req, seg[2], is(seg[3], "restrict"));
        if (n == 4 && is(seg[3], "retention") && is(m, "POST"))
            return hub_api_retention_class(h, req, seg[2]);
        if (n == 4 && is(seg[3], "keep") && is(m, "POST"))
            return hub_api_case_keep(h, req, seg[2]);
        if (n == 4 && is(seg[3], "client-view") && is(m, "GET"))
            return hub_api_client_view(h, req, seg[2]);
        if (n == 6 && is(seg[3], "clients") && hub_api_id(seg[4], strlen(seg[4])) &&
            is(seg[5], "copy") && is(m, "GET"))
            return hub_api_client_copy(h, req, seg[2], seg[4]);
        if (n == 4 && is(seg[3], "erasure") && is(m, "POST"))
            return hub_api_erasure_request(h, req, seg[2]);
        if (n == 6 && is(seg[3], "erasure") && hub_api_id(seg[4], strlen(seg[4])) &&
            is(m, "POST") && is(seg[5], "confirm"))
            return hub_api_erasure_confirm(h, req, seg[2], seg[4]);
        if (n == 6 && is(seg[3], "erasure") && hub_api_id(seg[4], strlen(seg[4])) &&
            is(m, "POST") && is(seg[5], "cancel"))
            return hub_api_erasure_cancel(h, req, seg[2], seg[4]);
    }
    if (n >= 2 && is(seg[1], "sessions")) {
        if (n == 2 && is(m, "POST"))
            return hub_api_session_create(h, req);
        if (n == 2 && is(m, "GET"))
            return hub_api_sessions(h, req);
        if (n == 3 && is(m, "GET"))
            return hub_api_session_get(h, req, seg[2]);
        if (n == 4 && is(seg[3], "end") && is(m, "POST"))
            return hub_api_session_end(h, req, seg[2]);
        if (n == 4 && is(seg[3], "close") && is(m, "POST"))
            return hub_api_session_close(h, req, seg[2]);
        if (n == 4 && is(seg[3], "participants") && is(m, "POST"))
            return hub_api_team_add(h, req, seg[2], 1);
        if (n == 4 && is(seg[3], "grants") && is(m, "POST"))
            return hub_api_grant_create(h, req, seg[2], 1);
        if (n == 4 && is(seg[3], "links") && is(m, "POST"))
            return hub_api_link_create(h, req, seg[2]);
        if (n == 4 && is(seg[3], "links") && is(m, "GET"))
            return hub_api_link_list(h, req, seg[2]);
        if (n == 5 && is(seg[3], "links") && is(m, "DELETE") &&
            hub_api_id(seg[4], strlen(seg[4])))
            return hub_api_link_revoke(h, req, seg[2], seg[4]);
        if (n == 4 && is(seg[3], "history") && is(m, "GET"))
            return hub_api_history(h, req, seg[2], 1);
        if (n == 4 && is(seg[3], "snapshot") && is(m, "GET"))
            return hub_api_snapshot(h, req, seg[2], 1);
        if (n == 4 && is(seg[3], "lobby") && is(m, "GET"))
            return hub_api_lobby(h, req, seg[2]);
        if (n == 5 && is(seg[3], "clients") && is(m, "DELETE") &&
            hub_api_id(seg[4], strlen(seg[4])))
            return hub_api_client_remove(h, req, seg[2], seg[4]);
        if (n == 6 && is(seg[3], "lobby") && hub_api_id(seg[4], strlen(seg[4])) &&
            is(m, "POST") && (is(seg[5], "admit") || is(seg[5], "decline")))
            return hub_api_lobby_decide(h, req, seg[2], seg[4], is(seg[5], "admit"));
    }
    hub_req_error(req, 404, "not_found", "no such resource");
}
