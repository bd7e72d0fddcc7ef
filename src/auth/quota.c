/*
 * Connection quotas (see quota.h). Counts per address and per principal live in hash
 * maps and are freed when they reach zero, so the tables never hold more entries than
 * there are connections. Connections with a running deadline are kept in one list in
 * the order their deadlines were set; every deadline is `handshake_ms` after it was set,
 * so that order is the order they expire in.
 */
#include "auth/quota.h"

#include <stdlib.h>
#include <string.h>

#include "room/room_map.h"

typedef struct counter {
    char *key;          /* owned; the map borrows it */
    size_t pending, websockets;
} counter;

struct auth_quota_conn {
    void *owner;
    counter *addr;
    counter *principal; /* once a WebSocket */
    int64_t deadline;   /* while watched */
    bool watched;
    struct auth_quota_conn *prev, *next;
};

struct auth_quota {
    auth_quota_config cfg;
    room_map addrs, principals;
    size_t pending, websockets;
    auth_quota_conn *first, *last;  /* watched, by deadline */
};

auth_quota *auth_quota_new(const auth_quota_config *cfg)
{
    auth_quota *q = calloc(1, sizeof *q);

    if (!q)
        return NULL;
    q->cfg = *cfg;
    room_map_init(&q->addrs);
    room_map_init(&q->principals);
    return q;
}

static void free_counters(room_map *m)
{
    size_t pos = 0;
    counter *k;

    while ((k = room_map_next(m, &pos))) {
        free(k->key);
        free(k);
    }
    room_map_clear(m);
}

static void unwatch(auth_quota *q, auth_quota_conn *c)
{
    if (!c->watched)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        q->first = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        q->last = c->prev;
    c->prev = c->next = NULL;
    c->watched = false;
}

static void watch(auth_quota *q, auth_quota_conn *c, int64_t now)
{
    unwatch(q, c);
    c->deadline = now + q->cfg.handshake_ms;
    c->watched = true;
    c->prev = q->last;
    if (q->last)
        q->last->next = c;
    else
        q->first = c;
    q->last = c;
}

void auth_quota_free(auth_quota *q)
{
    if (!q)
        return;
    free_counters(&q->addrs);
    free_counters(&q->principals);
    free(q);
}

static counter *counter_get(room_map *m, const char *key)
{
    counter *k = room_map_get(m, key);

    if (k)
        return k;
    k = calloc(1, sizeof *k);
    if (!k || !(k->key = strdup(key)) || room_map_put(m, k->key, k) != 0) {
        if (k)
            free(k->key);
        free(k);
        return NULL;
    }
    return k;
}

static void counter_drop(room_map *m, counter *k)
{
    if (!k || k->pending || k->websockets)
        return;
    room_map_del(m, k->key);
    free(k->key);
    free(k);
}

auth_quota_conn *auth_quota_accept(auth_quota *q, const char *addr, int64_t now,
                                   auth_quota_verdict *why)
{
    counter *a = room_map_get(&q->addrs, addr);
    auth_quota_conn *c;

    if (q->pending >= q->cfg.max_pending) {
        *why = AUTH_QUOTA_PENDING_FULL;
        return NULL;
    }
    if (a && a->pending >= q->cfg.max_pending_addr) {
        *why = AUTH_QUOTA_PENDING_ADDR;
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(a = counter_get(&q->addrs, addr))) {
        free(c);
        *why = AUTH_QUOTA_NO_MEMORY;
        return NULL;
    }
    c->addr = a;
    a->pending++;
    q->pending++;
    watch(q, c, now);
    *why = AUTH_QUOTA_OK;
    return c;
}

void auth_quota_set_owner(auth_quota_conn *c, void *owner)
{
    c->owner = owner;
}

void *auth_quota_owner(const auth_quota_conn *c)
{
    return c->owner;
}

const char *auth_quota_addr(const auth_quota_conn *c)
{
    return c->addr->key;
}

auth_quota_verdict auth_quota_upgrade(auth_quota *q, auth_quota_conn *c, const char *principal)
{
    counter *p;

    if (c->principal)
        return AUTH_QUOTA_OK;
    if (q->websockets >= q->cfg.max_conns)
        return AUTH_QUOTA_CONNS_FULL;
    if (c->addr->websockets >= q->cfg.max_conns_addr)
        return AUTH_QUOTA_CONNS_ADDR;
    p = room_map_get(&q->principals, principal);
    if (p && p->websockets >= q->cfg.max_conns_principal)
        return AUTH_QUOTA_CONNS_PRINCIPAL;
    if (!(p = counter_get(&q->principals, principal)))
        return AUTH_QUOTA_NO_MEMORY;
    unwatch(q, c);
    c->principal = p;
    p->websockets++;
    c->addr->pending--;
    c->addr->websockets++;
    q->pending--;
    q->websockets++;
    return AUTH_QUOTA_OK;
}

void auth_quota_request(auth_quota *q, auth_quota_conn *c, bool body, int64_t now)
{
    if (c->principal)
        return;
    if (!body)
        unwatch(q, c);
    else if (!c->watched)
        watch(q, c, now);
}

void auth_quota_complete(auth_quota *q, auth_quota_conn *c)
{
    unwatch(q, c);
}

void auth_quota_close(auth_quota *q, auth_quota_conn *c)
{
    counter *a = c->addr;

    unwatch(q, c);
    if (c->principal) {
        c->principal->websockets--;
        a->websockets--;
        q->websockets--;
        counter_drop(&q->principals, c->principal);
    } else {
        a->pending--;
        q->pending--;
    }
    counter_drop(&q->addrs, a);
    free(c);
}

void *auth_quota_expired(auth_quota *q, int64_t now)
{
    auth_quota_conn *c = q->first;

    if (!c || c->deadline > now)
        return NULL;
    unwatch(q, c);
    return c->owner;
}

size_t auth_quota_pending(const auth_quota *q)
{
    return q->pending;
}

size_t auth_quota_websockets(const auth_quota *q)
{
    return q->websockets;
}

void auth_quota_of_addr(const auth_quota *q, const char *addr, size_t *pending,
                        size_t *websockets)
{
    const counter *a = room_map_get(&q->addrs, addr);

    *pending = a ? a->pending : 0;
    *websockets = a ? a->websockets : 0;
}
