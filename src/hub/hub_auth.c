/*
 * The login-session cache and the login throttle's hub side (see hub_auth.h).
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/throttle.h"
#include "hub/hub_api.h"
#include "store/store_api.h"

/* A throttled key's window, summarised in the audit trail (login.throttled). */
static void throttle_report(void *arg, const auth_throttle_summary *s)
{
    static const char *const kinds[] = {"pair", "user", "address"};
    hub *h = arg;
    cJSON *d = cJSON_CreateObject();

    cJSON_AddStringToObject(d, "key", kinds[s->kind]);
    if (s->username)
        cJSON_AddStringToObject(d, "username", s->username);
    if (s->addr)
        cJSON_AddStringToObject(d, "addr", s->addr);
    cJSON_AddNumberToObject(d, "failed", s->failures);
    cJSON_AddNumberToObject(d, "refused", s->refused);
    cJSON_AddNumberToObject(d, "slowed", s->slowed);
    cJSON_AddNumberToObject(d, "from", (double)s->from);
    cJSON_AddNumberToObject(d, "to", (double)s->to);
    hub_api_audit(h, "", "login.throttled", NULL, d);
}

int hub_auth_init(hub *h)
{
    auth_throttle_config tc = {
        .window_ms = (int64_t)h->cfg.login_window_secs * 1000,
        .max_pair = (unsigned)h->cfg.login_max_pair,
        .max_addr = (unsigned)h->cfg.login_max_addr,
        .slow_after = (unsigned)h->cfg.login_slow_after,
        .max_delay_ms = (int64_t)h->cfg.login_max_delay_secs * 1000,
        .max_keys = h->cfg.login_max_keys,
    };

    room_map_init(&h->logins);
    h->throttle = auth_throttle_new(&tc, throttle_report, h);
    return h->throttle ? 0 : -1;
}

static void logins_clear(room_map *m)
{
    size_t pos = 0;
    hub_login *l;

    while ((l = room_map_next(m, &pos)))
        free(l);
    room_map_clear(m);
}

void hub_auth_free(hub *h)
{
    logins_clear(&h->logins);
    auth_throttle_free(h->throttle);
    h->throttle = NULL;
}

void hub_auth_flush(hub *h)
{
    if (h->throttle)
        auth_throttle_flush(h->throttle, hub_now_ms());
}

int hub_cookie_value(const char *cookie, const char *name, const char **value, size_t *len)
{
    const size_t key_len = strlen(name);
    const char *p = cookie;

    while (p && *p) {
        const char *end;
        while (*p == ' ' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > key_len && strncmp(p, name, key_len) == 0 && p[key_len] == '=') {
            *value = p + key_len + 1;
            *len = (size_t)(end - *value);
            return 0;
        }
        p = end;
    }
    return -1;
}

int hub_auth_cookie_token(const char *cookie, const char *name, char *token, size_t n)
{
    const char *value;
    size_t len;

    if (hub_cookie_value(cookie, name, &value, &len) != 0 || len >= n)
        return -1;
    snprintf(token, n, "%.*s", (int)len, value);
    return 0;
}

static int expired(hub *h, const hub_login *l, int64_t now)
{
    return now >= l->expires_at || now - l->last_used > (int64_t)h->cfg.session_idle_secs * 1000;
}

hub_login *hub_auth_find_hash(hub *h, const char *hash)
{
    hub_login *l = room_map_get(&h->logins, hash);
    int64_t now = hub_now_ms();

    if (l && expired(h, l, now)) {
        hub_auth_remove(h, hash);
        return NULL;
    }
    return l;
}

hub_login *hub_auth_find(hub *h, const char *cookie, int touch)
{
    char token[AUTH_TOKEN_TEXT_LEN + 2], hash[AUTH_TOKEN_HASH_LEN + 1];
    hub_login *l;

    if (!cookie || hub_auth_cookie_token(cookie, h->cookie, token, sizeof token) != 0 ||
        auth_token_hash(token, hash, NULL) != 0)
        return NULL;
    l = hub_auth_find_hash(h, hash);
    if (l && touch) {
        l->last_used = hub_now_ms();
        l->dirty = 1;
    }
    return l;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* A principal from {id, name, role, specialty?}. */
int hub_principal_from_json(const cJSON *j, auth_principal *out)
{
    auth_role role;
    auth_specialty spec = AUTH_SPECIALTY_NONE;
    const char *s = str(j, "specialty");

    if (!str(j, "role") || auth_role_parse(str(j, "role"), &role) != 0 ||
        (s && auth_specialty_parse(s, &spec) != 0))
        return -1;
    return auth_principal_init(out, str(j, "id") ? str(j, "id") : "",
                               str(j, "name") ? str(j, "name") : "", role, spec, false, NULL);
}

hub_login *hub_auth_put(hub *h, const cJSON *e)
{
    const char *hash = str(e, "hash");
    hub_login *l, *old;

    if (!hash || strlen(hash) != AUTH_TOKEN_HASH_LEN || !(l = calloc(1, sizeof *l)))
        return NULL;
    snprintf(l->hash, sizeof l->hash, "%s", hash);
    if (hub_principal_from_json(cJSON_GetObjectItemCaseSensitive(e, "principal"), &l->who) != 0) {
        free(l);
        return NULL;
    }
    snprintf(l->session, sizeof l->session, "%s", str(e, "session") ? str(e, "session") : "");
    snprintf(l->case_id, sizeof l->case_id, "%s", str(e, "case_id") ? str(e, "case_id") : "");
    l->waiting = str(e, "status") && strcmp(str(e, "status"), "waiting") == 0;
    l->ended = str(e, "status") && strcmp(str(e, "status"), "ended") == 0;
    l->last_used = num(e, "last_used");
    l->expires_at = num(e, "expires_at");
    l->added = hub_now_ms();
    old = room_map_get(&h->logins, hash);
    if (old) {
        if (old->last_used > l->last_used) {
            l->last_used = old->last_used;
            l->dirty = old->dirty;
        }
        room_map_del(&h->logins, hash);
        free(old);
    }
    if (room_map_put(&h->logins, l->hash, l) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

void hub_auth_remove(hub *h, const char *hash)
{
    hub_login *l = room_map_get(&h->logins, hash);

    if (!l)
        return;
    room_map_del(&h->logins, l->hash);
    free(l);
}

/* Removes account id's entries from the cache and closes its connections. */
static void drop(hub *h, const char *id)
{
    size_t pos = 0;
    hub_login *l;
    char hashes[64][AUTH_TOKEN_HASH_LEN + 1];
    size_t n = 0;

    do {
        n = 0;
        pos = 0;
        while ((l = room_map_next(&h->logins, &pos)) && n < 64)
            if (strcmp(l->who.id, id) == 0)
                snprintf(hashes[n++], sizeof hashes[0], "%s", l->hash);
        for (size_t i = 0; i < n; i++)
            hub_auth_remove(h, hashes[i]);
    } while (n == 64);
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->principal.id, id) == 0)
            hub_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "login session ended");
}

void hub_auth_drop_principal(hub *h, const char *id)
{
    size_t max = sizeof h->dropped / sizeof h->dropped[0];

    drop(h, id);
    /* A refresh under way read the database before the change: remember to drop again
     * what it brings (the oldest note gives way when more pile up within one refresh). */
    if (h->n_dropped == max) {
        memmove(&h->dropped[0], &h->dropped[1], (max - 1) * sizeof h->dropped[0]);
        h->n_dropped--;
    }
    snprintf(h->dropped[h->n_dropped].id, sizeof h->dropped[0].id, "%s", id);
    h->dropped[h->n_dropped++].at = hub_now_ms();
}

static void load_into(hub *h, const cJSON *list)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
        hub_auth_put(h, e);
}

int hub_auth_load_now(hub *h, char *err, size_t errlen)
{
    cJSON *in = cJSON_CreateObject();
    store_job *job;

    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    job = store_call_new(store_api_logins_load, STORE_READER, in);
    if (!job) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    store_run_now(h->store, job);
    if (!hub_call_ok(job)) {
        snprintf(err, errlen, "cannot read login sessions: %s", job->error);
        store_job_free(job);
        return -1;
    }
    load_into(h, job->out);
    store_job_free(job);
    return 0;
}

static void write_back(hub *h)
{
    cJSON *list = cJSON_CreateArray();
    size_t pos = 0;
    hub_login *l;
    store_job *job;
    int64_t now = hub_now_ms();

    /* Open connections keep their login session alive. */
    for (hub_conn *c = h->conns; c; c = c->next)
        if ((l = room_map_get(&h->logins, c->login_hash))) {
            l->last_used = now;
            l->dirty = 1;
        }
    while ((l = room_map_next(&h->logins, &pos)))
        if (l->dirty) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "hash", l->hash);
            cJSON_AddNumberToObject(e, "last_used", (double)l->last_used);
            cJSON_AddItemToArray(list, e);
            l->dirty = 0;
        }
    if (cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(list);
        return;
    }
    job = store_call_new(store_api_logins_touch, STORE_WRITER, list);
    if (job)
        hub_call(h, NULL, job, NULL);
}

void hub_auth_tick(hub *h)
{
    int64_t now = hub_now_ms();
    cJSON *in;
    store_job *job;

    if (h->auth_refreshing || now - h->auth_refresh_at < HUB_AUTH_REFRESH_MS)
        return;
    write_back(h);
    /* Summarise and forget throttle windows that are over. */
    auth_throttle_sweep(h->throttle, now);
    in = cJSON_CreateObject();
    cJSON_AddNumberToObject(in, "now", (double)now);
    job = store_call_new(store_api_logins_load, STORE_READER, in);
    if (!job)
        return;
    h->auth_refreshing = 1;
    h->auth_refresh_at = now;
    hub_call(h, NULL, job, hub_auth_refreshed);
}

void hub_auth_refreshed(hub *h, hub_req *req, store_job *job)
{
    room_map fresh;
    size_t pos = 0;
    hub_login *l;

    (void)req;
    h->auth_refreshing = 0;
    if (!hub_call_ok(job))
        return;
    /* Logins made after the read began are not in it yet: keep them. */
    fresh = h->logins;
    room_map_init(&h->logins);
    load_into(h, job->out);
    while ((l = room_map_next(&fresh, &pos))) {
        hub_login *now = room_map_get(&h->logins, l->hash);
        if (now && l->last_used > now->last_used) {
            now->last_used = l->last_used;
            now->dirty = l->dirty;
        }
        if (!now && l->added >= h->auth_refresh_at && room_map_put(&h->logins, l->hash, l) == 0)
            continue;
        free(l);
    }
    room_map_clear(&fresh);
    /* Accounts whose logins ended while this refresh read: their entries go again. */
    {
        size_t keep = 0;
        for (size_t i = 0; i < h->n_dropped; i++) {
            if (h->dropped[i].at < h->auth_refresh_at)
                continue;
            drop(h, h->dropped[i].id);
            h->dropped[keep++] = h->dropped[i];
        }
        h->n_dropped = keep;
    }
    for (hub_conn *c = h->conns; c; c = c->next) {
        hub_login *cl = room_map_get(&h->logins, c->login_hash);
        if (!cl || cl->waiting)
            hub_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "login session ended");
        else if (cl->ended)
            hub_conn_close(c, HUB_CLOSE_ACCESS_ENDED, "the session has ended");
    }
}

auth_throttle_decision hub_auth_attempt(hub *h, const char *username, const char *addr)
{
    return auth_throttle_begin(h->throttle, username, addr, hub_now_ms());
}

void hub_auth_attempt_done(hub *h, const char *username, const char *addr, int ok)
{
    auth_throttle_end(h->throttle, username, addr, ok != 0, hub_now_ms());
}
