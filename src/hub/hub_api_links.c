/*
 * Client links, joining by link, and the lobby: a link's token is shown once, in the
 * response that creates it (the list shows everything else); a join records the client
 * and its login session in one transaction and sets the client cookie; lobby decisions
 * reach the login cache at once, and every change of who waits reaches the counsellors'
 * meeting channel (hub_meeting.c).
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "store/store_api.h"

#define MAX_LINK_SECS (30 * 24 * 3600)
#define MAX_LANG 35

/* A language tag as a link may carry it (BCP 47's letters, digits and hyphens: "ar",
 * "de-x-ls"): 2..35 bytes, starting with a letter, no empty subtag. */
static int lang_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 2 || n > MAX_LANG || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return 0;
        if (ch == '-' && (i + 1 == n || s[i + 1] == '-'))
            return 0;
    }
    return 1;
}

static void link_done(hub *h, hub_req *req, store_job *job)
{
    const char *lang = hub_api_str(job->in, "lang");
    cJSON *out;
    char url[64 + MAX_LANG];

    (void)h;
    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 201);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", hub_api_str(job->in, "link_id"));
    cJSON_AddStringToObject(out, "token", hub_api_str(req->ctx, "token"));
    snprintf(url, sizeof url, "/j/%s%s%s", hub_api_str(req->ctx, "token"), lang ? "?lang=" : "",
             lang ? lang : "");
    cJSON_AddStringToObject(out, "url", url);
    cJSON_AddItemToObject(out, "expires_at", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "expires_at"), 1));
    cJSON_AddItemToObject(out, "lobby", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "lobby"), 1));
    if (cJSON_GetObjectItemCaseSensitive(job->in, "max_uses"))
        cJSON_AddItemToObject(out, "max_uses", cJSON_Duplicate(
            cJSON_GetObjectItemCaseSensitive(job->in, "max_uses"), 1));
    if (lang)
        cJSON_AddStringToObject(out, "lang", lang);
    else
        cJSON_AddNullToObject(out, "lang");
    hub_req_reply(req, 201, out);
}

void hub_api_link_create(hub *h, hub_req *req, const char *id)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1], link_id[37];
    const cJSON *exp, *max, *lobby, *lang;
    cJSON *body, *in;

    if (hub_api_need_login(h, req, 0) != 0 || !(body = hub_api_body(req)))
        return;
    exp = cJSON_GetObjectItemCaseSensitive(body, "expires_in_s");
    max = cJSON_GetObjectItemCaseSensitive(body, "max_uses");
    lobby = cJSON_GetObjectItemCaseSensitive(body, "lobby");
    lang = cJSON_GetObjectItemCaseSensitive(body, "lang");
    if (!cJSON_IsNumber(exp) || exp->valuedouble != (double)(int64_t)exp->valuedouble ||
        exp->valuedouble < 1 || exp->valuedouble > MAX_LINK_SECS ||
        (max && !cJSON_IsNull(max) && (!cJSON_IsNumber(max) || max->valuedouble < 1 ||
                                       max->valuedouble > 1000000 ||
                                       max->valuedouble != (double)(int64_t)max->valuedouble)) ||
        (lobby && !cJSON_IsBool(lobby)) ||
        (lang && !cJSON_IsNull(lang) && !lang_ok(cJSON_GetStringValue(lang)))) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request", "expires_in_s must be 1 to 2592000 seconds; "
                      "max_uses a positive integer; lobby true or false; lang a language "
                      "tag");
        return;
    }
    if (hub_api_may_create(h, req) != 0) {
        cJSON_Delete(body);
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    hub_api_new_id(link_id);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = hub_api_in(req, NULL);
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "link_id", link_id);
    cJSON_AddStringToObject(in, "hash", hash);
    cJSON_AddNumberToObject(in, "expires_at",
                            (double)(hub_now_ms() + (int64_t)exp->valuedouble * 1000));
    if (cJSON_IsNumber(max))
        cJSON_AddNumberToObject(in, "max_uses", max->valuedouble);
    cJSON_AddBoolToObject(in, "lobby", cJSON_IsTrue(lobby));
    if (cJSON_IsString(lang))
        cJSON_AddStringToObject(in, "lang", lang->valuestring);
    cJSON_Delete(body);
    hub_api_then(h, req, store_api_link_create, STORE_WRITER, in, link_done);
}

/* The query's end_clients: 1 for true, 0 for false or absent, -1 for anything else. */
static int query_end_clients(const hub_req *req)
{
    static const char key[] = "end_clients=";
    int found = 0;

    if (req->bad_query)
        return -1;
    for (const char *p = req->query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        const char *v = p + sizeof key - 1;
        size_t n;
        if (strncmp(p, key, sizeof key - 1) != 0)
            continue;
        n = strchr(v, '&') ? (size_t)(strchr(v, '&') - v) : strlen(v);
        if (found || !((n == 4 && strncmp(v, "true", 4) == 0) ||
                       (n == 5 && strncmp(v, "false", 5) == 0)))
            return -1;
        found = n == 4 ? 1 : 2;
    }
    return found == 1;
}

/* The clients the revoke ended (the store removed them and their logins) lose their
 * sockets now. */
static void revoked(hub *h, hub_req *req, store_job *job)
{
    const cJSON *client;

    if (hub_call_ok(job))
        cJSON_ArrayForEach(client, cJSON_GetObjectItemCaseSensitive(job->out, "ended"))
            hub_case_client_removed(h, hub_api_str(job->out, "case_id"),
                                    cJSON_GetStringValue(client));
    hub_reply_job(req, job, 204);
}

void hub_api_link_revoke(hub *h, hub_req *req, const char *id, const char *link)
{
    int end_clients = query_end_clients(req);
    cJSON *in;

    if (end_clients < 0) {
        hub_req_error(req, 400, "bad_request", "end_clients must be true or false");
        return;
    }
    if (!(in = hub_api_login_in(h, req, NULL)))
        return;
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "link_id", link);
    cJSON_AddBoolToObject(in, "end_clients", end_clients);
    hub_api_then(h, req, store_api_link_revoke, STORE_WRITER, in, revoked);
}

void hub_api_link_list(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    hub_api_answer(h, req, store_api_link_list, STORE_READER, in, 200);
}

static void join_done(hub *h, hub_req *req, store_job *job)
{
    cJSON *entry, *out;
    const char *session = hub_api_str(job->out, "session");
    int waiting;

    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 200);
        return;
    }
    waiting = strcmp(hub_api_str(job->out, "status"), "waiting") == 0;
    entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "hash", hub_api_str(job->in, "login_hash"));
    cJSON_AddStringToObject(entry, "kind", "client");
    cJSON_AddStringToObject(entry, "session", session);
    cJSON_AddStringToObject(entry, "case_id", hub_api_str(job->out, "case_id"));
    cJSON_AddStringToObject(entry, "status", hub_api_str(job->out, "status"));
    cJSON_AddNumberToObject(entry, "last_used", (double)hub_now_ms());
    cJSON_AddItemToObject(entry, "expires_at", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->in, "expires_at"), 1));
    cJSON_AddItemToObject(entry, "principal", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(job->out, "principal"), 1));
    if (!hub_auth_put(h, entry)) {
        cJSON_Delete(entry);
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    cJSON_Delete(entry);
    hub_api_set_cookie(h, req, hub_api_str(req->ctx, "token"), h->cfg.session_max_secs);
    if (waiting)
        hub_case_lobby_changed(h, hub_api_str(job->out, "case_id"));
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "session_id", session);
    if (waiting)
        cJSON_AddStringToObject(out, "status", "waiting");
    else
        cJSON_AddStringToObject(out, "role", "client");
    hub_req_reply(req, waiting ? 202 : 200, out);
}

void hub_api_join(hub *h, hub_req *req)
{
    char link_hash[AUTH_TOKEN_HASH_LEN + 1], token[AUTH_TOKEN_TEXT_LEN + 1],
         hash[AUTH_TOKEN_HASH_LEN + 1], client[37];
    const char *name;
    cJSON *body = hub_api_body(req), *in;
    auth_principal check;
    int64_t now = hub_now_ms();

    if (!body)
        return;
    name = cJSON_GetObjectItemCaseSensitive(body, "display_name") ?
           hub_api_str(body, "display_name") : "Klient:in";
    if (!hub_api_str(body, "token") || !name ||
        auth_principal_init(&check, "x", name, AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false,
                            NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 400, "bad_request",
                      "token is required; display_name must be 1 to 127 bytes of text");
        return;
    }
    if (auth_token_hash(hub_api_str(body, "token"), link_hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 404, "link_invalid", "this link is not valid");
        return;
    }
    if (auth_token_new(token, hash, NULL) != 0) {
        cJSON_Delete(body);
        hub_req_error(req, 500, "internal", "no random numbers");
        return;
    }
    hub_api_new_id(client);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "link_hash", link_hash);
    cJSON_AddStringToObject(in, "client_id", client);
    cJSON_AddStringToObject(in, "display_name", name);
    cJSON_AddStringToObject(in, "login_hash", hash);
    cJSON_AddNumberToObject(in, "now", (double)now);
    cJSON_AddNumberToObject(in, "expires_at", (double)(now + h->cfg.session_max_secs * 1000));
    cJSON_Delete(body);
    hub_api_then(h, req, store_api_join, STORE_WRITER, in, join_done);
}

void hub_api_join_status(hub *h, hub_req *req)
{
    cJSON *out;

    if (hub_api_need_login(h, req, 1) != 0)
        return;
    if (!req->login.session[0]) {
        hub_req_error(req, 400, "not_a_client", "only clients have a join status");
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "session_id", req->login.session);
    cJSON_AddStringToObject(out, "status", req->login.ended ? "ended" :
                            req->login.waiting ? "waiting" : "admitted");
    hub_req_reply(req, 200, out);
}

void hub_api_lobby(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "lobby.read");
    cJSON_AddTrueToObject(req->ctx, "optional");   /* nobody waiting: nothing disclosed */
    hub_api_then(h, req, store_api_lobby_list, STORE_READER, in, hub_api_read_done);
}

static void decided(hub *h, hub_req *req, store_job *job)
{
    size_t pos = 0;
    hub_login *l;

    if (hub_call_ok(job)) {
        int admit = strcmp(hub_api_str(job->out, "status"), "admitted") == 0;
        char hashes[8][AUTH_TOKEN_HASH_LEN + 1];
        size_t n = 0;
        while ((l = room_map_next(&h->logins, &pos)))
            if (strcmp(l->who.id, hub_api_str(job->out, "client")) == 0) {
                l->waiting = 0;
                if (!admit && n < 8)
                    snprintf(hashes[n++], sizeof hashes[0], "%s", l->hash);
            }
        for (size_t i = 0; i < n; i++)
            hub_auth_remove(h, hashes[i]);
        hub_case_lobby_changed(h, hub_api_str(job->out, "case_id"));
    }
    hub_reply_job(req, job, 204);
}

void hub_api_lobby_decide(hub *h, hub_req *req, const char *id, const char *client,
                             int admit)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "client_id", client);
    cJSON_AddBoolToObject(in, "admit", admit);
    hub_api_then(h, req, store_api_lobby_decide, STORE_WRITER, in, decided);
}

static void client_removed(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_case_client_removed(h, hub_api_str(job->out, "case_id"),
                                hub_api_str(job->in, "client_id"));
    hub_reply_job(req, job, 204);
}

void hub_api_client_remove(hub *h, hub_req *req, const char *id, const char *client)
{
    cJSON *in = hub_api_login_in(h, req, NULL);

    if (!in)
        return;
    cJSON_AddStringToObject(in, "session", id);
    cJSON_AddStringToObject(in, "client_id", client);
    hub_api_then(h, req, store_api_client_remove, STORE_WRITER, in, client_removed);
}
