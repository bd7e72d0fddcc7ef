/*
 * Accounts kept by admins in the browser (protocol/http-api.md, "Accounts"): the list,
 * a new account with a one-time set-password link, disabling and enabling, a new
 * set-password link, a reset of the second factor; and the link's use by its owner,
 * without a login. The store checks again that the actor is an admin and audits every
 * change.
 *
 * A link's token is shown once, in the answer to the admin who made it, inside a URL
 * whose fragment carries it (/#/password/<token>): browsers never send a fragment, so
 * the token reaches no access log, proxy or Referer. The server keeps its SHA-256.
 */
#include "hub/hub_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "store/store_api.h"

/* The logged-in admin's store input, or NULL (answered). */
static cJSON *admin_in(hub *h, hub_req *req, const char *id)
{
    cJSON *in = hub_api_login_in(h, req, id);

    if (in && req->login.who.role != AUTH_ROLE_ADMIN) {
        cJSON_Delete(in);
        hub_req_error(req, 403, "forbidden", "only admins keep accounts");
        return NULL;
    }
    return in;
}

/* A new link into in.link ({id, hash, expires_at}); its token into token. 0 or -1. */
static int add_link(hub *h, hub_req *req, cJSON *in, char token[AUTH_TOKEN_TEXT_LEN + 1])
{
    char hash[AUTH_TOKEN_HASH_LEN + 1], id[37];
    cJSON *link;

    if (auth_token_new(token, hash, NULL) != 0) {
        hub_req_error(req, 500, "internal", "no random numbers");
        return -1;
    }
    hub_api_new_id(id);
    link = cJSON_AddObjectToObject(in, "link");
    cJSON_AddStringToObject(link, "id", id);
    cJSON_AddStringToObject(link, "hash", hash);
    cJSON_AddNumberToObject(link, "expires_at",
                            (double)(hub_now_ms() + (int64_t)h->cfg.password_link_secs * 1000));
    return 0;
}

/* Adds the token and its URL to a link object of an answer. */
static void show_token(cJSON *link, const char *token)
{
    char url[128];

    snprintf(url, sizeof url, "/#/password/%s", token);
    cJSON_AddStringToObject(link, "token", token);
    cJSON_AddStringToObject(link, "url", url);
}

void hub_api_users(hub *h, hub_req *req)
{
    cJSON *in = admin_in(h, req, NULL);

    if (in)
        hub_api_answer(h, req, store_api_users_list, STORE_READER, in, 200);
}

static void created(hub *h, hub_req *req, store_job *job)
{
    (void)h;
    if (hub_call_ok(job))
        show_token(cJSON_GetObjectItemCaseSensitive(job->out, "link"),
                   hub_api_str(req->ctx, "token"));
    hub_reply_job(req, job, 201);
}

/* A username: 1..64 bytes of printable text without blanks. */
static int username_ok(const char *s)
{
    if (!hub_api_text(s, 64))
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '\t')
            return 0;
    return 1;
}

void hub_api_user_create(hub *h, hub_req *req)
{
    cJSON *in = admin_in(h, req, NULL), *body;
    const char *username, *name, *role_s, *spec_s;
    char token[AUTH_TOKEN_TEXT_LEN + 1], id[37];
    auth_role role;
    auth_specialty spec = AUTH_SPECIALTY_NONE;

    if (!in)
        return;
    if (!(body = hub_api_body(req))) {
        cJSON_Delete(in);
        return;
    }
    username = hub_api_str(body, "username");
    name = hub_api_str(body, "name") ? hub_api_str(body, "name") : username;
    role_s = hub_api_str(body, "role");
    spec_s = hub_api_str(body, "specialty");
    if (!username_ok(username) || !hub_api_text(name, 128) || !role_s ||
        auth_role_parse(role_s, &role) != 0 || role == AUTH_ROLE_CLIENT ||
        (spec_s && (auth_specialty_parse(spec_s, &spec) != 0 ||
                    (role != AUTH_ROLE_COUNSELLOR && spec != AUTH_SPECIALTY_NONE)))) {
        cJSON_Delete(body);
        cJSON_Delete(in);
        hub_req_error(req, 400, "bad_request",
                      "username (1-64 characters, no blanks), name, role (counsellor, "
                      "supervisor or admin) and a specialty only for counsellors");
        return;
    }
    if (add_link(h, req, in, token) != 0) {
        cJSON_Delete(body);
        cJSON_Delete(in);
        return;
    }
    hub_api_new_id(id);
    cJSON_AddStringToObject(in, "user_id", id);
    cJSON_AddStringToObject(in, "username", username);
    cJSON_AddStringToObject(in, "display_name", name);
    cJSON_AddStringToObject(in, "role", auth_role_name(role));
    if (role == AUTH_ROLE_COUNSELLOR)
        cJSON_AddStringToObject(in, "specialty", auth_specialty_name(spec));
    cJSON_Delete(body);
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    hub_api_then(h, req, store_api_user_create, STORE_WRITER, in, created);
}

static void disabled_done(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->out, "disabled")))
        hub_auth_drop_principal(h, hub_api_str(job->out, "id"));
    hub_reply_job(req, job, 200);
}

void hub_api_user_disable(hub *h, hub_req *req, const char *id, int disable)
{
    cJSON *in = admin_in(h, req, id);

    if (!in)
        return;
    cJSON_AddBoolToObject(in, "disabled", disable);
    hub_api_then(h, req, store_api_user_set_disabled, STORE_WRITER, in, disabled_done);
}

static void link_done(hub *h, hub_req *req, store_job *job)
{
    (void)h;
    if (hub_call_ok(job))
        show_token(job->out, hub_api_str(req->ctx, "token"));
    hub_reply_job(req, job, 201);
}

void hub_api_user_password_link(hub *h, hub_req *req, const char *id)
{
    cJSON *in = admin_in(h, req, id);
    char token[AUTH_TOKEN_TEXT_LEN + 1];

    if (!in)
        return;
    if (add_link(h, req, in, token) != 0) {
        cJSON_Delete(in);
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "token", token);
    hub_api_then(h, req, store_api_password_link_create, STORE_WRITER, in, link_done);
}

void hub_api_user_totp_reset(hub *h, hub_req *req, const char *id)
{
    cJSON *in = admin_in(h, req, id);

    if (in)
        hub_api_answer(h, req, store_api_totp_reset, STORE_WRITER, in, 200);
}

/* The body's link token as {hash, now}, or NULL (answered). */
static cJSON *link_in(hub_req *req, cJSON *body)
{
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    const char *token = hub_api_str(body, "token");
    cJSON *in;

    if (!token || auth_token_hash(token, hash, NULL) != 0) {
        hub_req_error(req, 404, "link_invalid", "this link is not valid");
        return NULL;
    }
    in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "hash", hash);
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    return in;
}

void hub_api_password_info(hub *h, hub_req *req)
{
    cJSON *body = hub_api_body(req), *in;

    if (!body)
        return;
    in = link_in(req, body);
    cJSON_Delete(body);
    if (in)
        hub_api_answer(h, req, store_api_password_link_get, STORE_READER, in, 200);
}

static void password_set(hub *h, hub_req *req, store_job *job)
{
    if (hub_call_ok(job))
        hub_auth_drop_principal(h, hub_api_str(job->out, "user"));
    hub_reply_job(req, job, 204);
}

static void password_hashed(hub *h, hub_req *req, store_job *job)
{
    cJSON *in;

    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 204);
        return;
    }
    in = cJSON_DetachItemFromObjectCaseSensitive(req->ctx, "in");
    cJSON_AddStringToObject(in, "password", hub_api_str(job->out, "hash"));
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    hub_api_then(h, req, store_api_password_set, STORE_WRITER, in, password_set);
}

static void link_checked(hub *h, hub_req *req, store_job *job)
{
    if (!hub_call_ok(job)) {
        hub_reply_job(req, job, 204);
        return;
    }
    hub_api_then(h, req, store_api_password_hash, STORE_WORKER,
                 cJSON_DetachItemFromObjectCaseSensitive(req->ctx, "hash_in"),
                 password_hashed);
}

/* Characters (not bytes) of UTF-8 text. */
static size_t characters(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

void hub_api_password_set(hub *h, hub_req *req)
{
    cJSON *body = hub_api_body(req), *in, *hash_in;
    const char *pw;

    if (!body)
        return;
    pw = hub_api_str(body, "password");
    if (!pw || !hub_api_text(pw, 1024) || characters(pw) < h->cfg.password_min) {
        char why[96];
        snprintf(why, sizeof why, "a password has at least %zu characters",
                 h->cfg.password_min);
        cJSON_Delete(body);
        hub_req_error(req, 400, "password_too_short", why);
        return;
    }
    in = link_in(req, body);
    if (!in) {
        cJSON_Delete(body);
        return;
    }
    /* The link checked first (a cheap read), then the password hashed on the worker
     * (scrypt takes tens of ms), then set by the writer, which checks the link again. */
    req->ctx = cJSON_CreateObject();
    cJSON_AddItemToObject(req->ctx, "in", cJSON_Duplicate(in, 1));
    hash_in = cJSON_AddObjectToObject(req->ctx, "hash_in");
    cJSON_AddStringToObject(hash_in, "password", pw);
    cJSON_Delete(body);
    hub_api_then(h, req, store_api_password_link_get, STORE_READER, in, link_checked);
}
