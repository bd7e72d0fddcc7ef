/*
 * Login throttling (see throttle.h). Keys live in a hash map (by their text) and in one
 * list ordered by the start of their window, oldest first: the sweep and the eviction
 * both take from its head, in constant time per key.
 *
 * Key texts: "p\x01<username>\x01<address>", "u\x01<username>", "a\x01<address>" (the
 * hub admits usernames without control characters).
 */
#include "auth/throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_map.h"

typedef struct entry {
    char *key;                  /* owned; the map borrows it */
    auth_throttle_kind kind;
    unsigned failures, refused, slowed;
    int64_t since;              /* window start */
    struct entry *older, *newer;
} entry;

struct auth_throttle {
    auth_throttle_config cfg;
    auth_throttle_report_fn report;
    void *arg;
    room_map map;
    entry *oldest, *newest;
    size_t count;
};

auth_throttle *auth_throttle_new(const auth_throttle_config *cfg, auth_throttle_report_fn report,
                                 void *arg)
{
    auth_throttle *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_keys < 3)
        t->cfg.max_keys = 3;
    t->report = report;
    t->arg = arg;
    room_map_init(&t->map);
    return t;
}

static void unlink_entry(auth_throttle *t, entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    e->older = e->newer = NULL;
}

static void append(auth_throttle *t, entry *e)
{
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest)
        t->newest->newer = e;
    else
        t->oldest = e;
    t->newest = e;
}

/* Reports e's window when something in it was throttled. */
static void report(auth_throttle *t, const entry *e, int64_t now, bool early)
{
    auth_throttle_summary s;
    char user[256], addr[256];
    const char *body = e->key + 2, *sep;

    if (!t->report || (!e->refused && !e->slowed))
        return;
    memset(&s, 0, sizeof s);
    s.kind = e->kind;
    s.failures = e->failures;
    s.refused = e->refused;
    s.slowed = e->slowed;
    s.from = e->since;
    s.to = early ? now : e->since + t->cfg.window_ms;
    s.early = early;
    switch (e->kind) {
    case AUTH_THROTTLE_PAIR:
        sep = strchr(body, '\x01');
        snprintf(user, sizeof user, "%.*s", sep ? (int)(sep - body) : 0, body);
        snprintf(addr, sizeof addr, "%s", sep ? sep + 1 : "");
        s.username = user;
        s.addr = addr;
        break;
    case AUTH_THROTTLE_USER:
        s.username = body;
        break;
    case AUTH_THROTTLE_ADDR:
        s.addr = body;
        break;
    }
    t->report(t->arg, &s);
}

static void forget(auth_throttle *t, entry *e)
{
    unlink_entry(t, e);
    room_map_del(&t->map, e->key);
    t->count--;
    free(e->key);
    free(e);
}

void auth_throttle_free(auth_throttle *t)
{
    if (!t)
        return;
    while (t->oldest)
        forget(t, t->oldest);
    room_map_clear(&t->map);
    free(t);
}

static int key_text(char *out, size_t n, auth_throttle_kind kind, const char *user,
                    const char *addr)
{
    int len = kind == AUTH_THROTTLE_PAIR ? snprintf(out, n, "p\x01%s\x01%s", user, addr) :
              kind == AUTH_THROTTLE_USER ? snprintf(out, n, "u\x01%s", user) :
              snprintf(out, n, "a\x01%s", addr);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* The live entry of a key: one whose window is over is reported and starts afresh. */
static entry *find(auth_throttle *t, auth_throttle_kind kind, const char *user,
                   const char *addr, int64_t now)
{
    char key[600];
    entry *e;

    if (key_text(key, sizeof key, kind, user, addr) != 0 ||
        !(e = room_map_get(&t->map, key)))
        return NULL;
    if (now - e->since >= t->cfg.window_ms) {
        report(t, e, now, false);
        e->failures = e->refused = e->slowed = 0;
        e->since = now;
        unlink_entry(t, e);
        append(t, e);
    }
    return e;
}

/* A new entry; when the table is full the oldest one not in `keep` goes first. */
static entry *create(auth_throttle *t, auth_throttle_kind kind, const char *user,
                     const char *addr, int64_t now, entry *const keep[3])
{
    char key[600];
    entry *e;

    if (key_text(key, sizeof key, kind, user, addr) != 0)
        return NULL;
    if (t->count >= t->cfg.max_keys) {
        entry *victim = t->oldest;
        while (victim && (victim == keep[0] || victim == keep[1] || victim == keep[2]))
            victim = victim->newer;
        if (!victim)
            return NULL;
        report(t, victim, now, true);
        forget(t, victim);
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key)) || room_map_put(&t->map, e->key, e) != 0) {
        if (e)
            free(e->key);
        free(e);
        return NULL;
    }
    e->kind = kind;
    e->since = now;
    append(t, e);
    t->count++;
    return e;
}

static int64_t window_left(const auth_throttle *t, const entry *e, int64_t now)
{
    int64_t left = e->since + t->cfg.window_ms - now;
    return left > 0 ? left : 0;
}

auth_throttle_decision auth_throttle_begin(auth_throttle *t, const char *user,
                                           const char *addr, int64_t now)
{
    auth_throttle_decision d = {0};
    entry *a = find(t, AUTH_THROTTLE_ADDR, user, addr, now);
    entry *p = find(t, AUTH_THROTTLE_PAIR, user, addr, now);
    entry *u = find(t, AUTH_THROTTLE_USER, user, addr, now);
    entry *keep[3];
    unsigned beyond;

    if (a && a->failures >= t->cfg.max_addr) {
        a->refused++;
        d.refuse = true;
        d.by = AUTH_THROTTLE_ADDR;
        d.retry_after_ms = window_left(t, a, now);
        return d;
    }
    if (p && p->failures >= t->cfg.max_pair) {
        p->refused++;
        d.refuse = true;
        d.by = AUTH_THROTTLE_PAIR;
        d.retry_after_ms = window_left(t, p, now);
        return d;
    }
    keep[0] = a, keep[1] = p, keep[2] = u;
    if (!a)
        a = keep[0] = create(t, AUTH_THROTTLE_ADDR, user, addr, now, keep);
    if (a && !p)
        p = keep[1] = create(t, AUTH_THROTTLE_PAIR, user, addr, now, keep);
    if (a && p && !u)
        u = keep[2] = create(t, AUTH_THROTTLE_USER, user, addr, now, keep);
    if (!a || !p || !u) {
        d.refuse = true;
        d.by = AUTH_THROTTLE_ADDR;
        d.retry_after_ms = 1000;
        return d;
    }
    if (u->failures >= t->cfg.slow_after) {
        beyond = u->failures - t->cfg.slow_after;
        d.delay_ms = beyond >= 20 ? t->cfg.max_delay_ms :
                     (int64_t)AUTH_THROTTLE_BASE_DELAY_MS << beyond;
        if (d.delay_ms > t->cfg.max_delay_ms)
            d.delay_ms = t->cfg.max_delay_ms;
        u->slowed++;
    }
    a->failures++;
    p->failures++;
    u->failures++;
    return d;
}

void auth_throttle_end(auth_throttle *t, const char *user, const char *addr, bool ok,
                       int64_t now)
{
    if (!ok)
        return;
    for (int k = AUTH_THROTTLE_PAIR; k <= AUTH_THROTTLE_ADDR; k++) {
        entry *e = find(t, (auth_throttle_kind)k, user, addr, now);
        if (e && e->failures > 0)
            e->failures--;
    }
}

void auth_throttle_sweep(auth_throttle *t, int64_t now)
{
    while (t->oldest && now - t->oldest->since >= t->cfg.window_ms) {
        report(t, t->oldest, now, false);
        forget(t, t->oldest);
    }
}

void auth_throttle_flush(auth_throttle *t, int64_t now)
{
    auth_throttle_sweep(t, now);
    while (t->oldest) {
        report(t, t->oldest, now, true);
        forget(t, t->oldest);
    }
}

size_t auth_throttle_keys(const auth_throttle *t)
{
    return t->count;
}
