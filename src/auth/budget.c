/*
 * Budgets per key and window (see budget.h). Keys live in a hash map and in one list
 * ordered by the start of their window, oldest first: keys whose window is over are
 * dropped from its head as the table is used, and when it is full the head is forgotten.
 */
#include "auth/budget.h"

#include <stdlib.h>
#include <string.h>

#include "room/room_map.h"

typedef struct entry {
    char *key;                  /* owned; the map borrows it */
    uint64_t used;
    int64_t since, window_ms;
    struct entry *older, *newer;
} entry;

struct auth_budget {
    size_t max_keys, count;
    room_map map;
    entry *oldest, *newest;
};

auth_budget *auth_budget_new(size_t max_keys)
{
    auth_budget *b = calloc(1, sizeof *b);

    if (!b)
        return NULL;
    b->max_keys = max_keys ? max_keys : 1;
    room_map_init(&b->map);
    return b;
}

static void unlink_entry(auth_budget *b, entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        b->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        b->newest = e->older;
    e->older = e->newer = NULL;
}

static void append(auth_budget *b, entry *e)
{
    e->older = b->newest;
    e->newer = NULL;
    if (b->newest)
        b->newest->newer = e;
    else
        b->oldest = e;
    b->newest = e;
}

static void forget(auth_budget *b, entry *e)
{
    unlink_entry(b, e);
    room_map_del(&b->map, e->key);
    b->count--;
    free(e->key);
    free(e);
}

void auth_budget_free(auth_budget *b)
{
    if (!b)
        return;
    while (b->oldest)
        forget(b, b->oldest);
    room_map_clear(&b->map);
    free(b);
}

static int over(const entry *e, int64_t now)
{
    return now - e->since >= e->window_ms;
}

/* Drops keys from the head whose window is over (the list is ordered by start, not by
 * end, so a later one may be over too: it goes when it reaches the head or is used). */
static void sweep(auth_budget *b, int64_t now)
{
    while (b->oldest && over(b->oldest, now))
        forget(b, b->oldest);
}

/* The key's entry in a running window, or NULL. */
static entry *live(auth_budget *b, const char *key, int64_t now)
{
    entry *e = room_map_get(&b->map, key);

    if (e && over(e, now)) {
        forget(b, e);
        e = NULL;
    }
    return e;
}

uint64_t auth_budget_left(auth_budget *b, const char *key, uint64_t limit, int64_t now,
                          int64_t *retry_ms)
{
    entry *e = live(b, key, now);

    if (retry_ms)
        *retry_ms = e ? e->since + e->window_ms - now : 0;
    return !e ? limit : e->used >= limit ? 0 : limit - e->used;
}

int auth_budget_use(auth_budget *b, const char *key, uint64_t amount, int64_t window_ms,
                    int64_t now)
{
    entry *e;

    sweep(b, now);
    e = live(b, key, now);
    if (!e) {
        while (b->count >= b->max_keys && b->oldest)
            forget(b, b->oldest);
        e = calloc(1, sizeof *e);
        if (!e || !(e->key = strdup(key)) || room_map_put(&b->map, e->key, e) != 0) {
            if (e)
                free(e->key);
            free(e);
            return -1;
        }
        e->since = now;
        e->window_ms = window_ms;
        append(b, e);
        b->count++;
    }
    e->used += amount;
    return 0;
}

int auth_budget_take(auth_budget *b, const char *key, uint64_t limit, int64_t window_ms,
                     int64_t now, int64_t *retry_ms)
{
    if (auth_budget_left(b, key, limit, now, retry_ms) < 1)
        return -1;
    if (auth_budget_use(b, key, 1, window_ms, now) != 0) {
        *retry_ms = 0;
        return -1;
    }
    return 0;
}

size_t auth_budget_keys(const auth_budget *b)
{
    return b->count;
}
