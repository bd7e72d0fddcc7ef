/*
 * Open-addressing hash map (see room_map.h). Deleted slots become tombstones so probe
 * chains stay intact; the table is rebuilt when live entries plus tombstones pass
 * three quarters of it.
 */
#include "room/room_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char tombstone[] = "";

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void room_map_init(room_map *m)
{
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
}

void room_map_clear(room_map *m)
{
    free(m->slots);
    room_map_init(m);
}

static struct room_map_slot *find(const room_map *m, const char *key)
{
    size_t i;

    if (!m->cap)
        return NULL;
    for (i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct room_map_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != tombstone && strcmp(s->key, key) == 0)
            return s;
    }
}

void *room_map_get(const room_map *m, const char *key)
{
    struct room_map_slot *s = find(m, key);
    return s ? s->value : NULL;
}

static int grow(room_map *m)
{
    size_t cap = m->cap ? m->cap : 16;
    struct room_map_slot *old = m->slots;
    size_t old_cap = m->cap;

    while ((m->count + 1) * 2 > cap)
        cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    m->cap = cap;
    m->used = m->count;
    for (size_t i = 0; i < old_cap; i++) {
        size_t j;
        if (!old[i].key || old[i].key == tombstone)
            continue;
        for (j = hash(old[i].key) & (cap - 1); m->slots[j].key; j = (j + 1) & (cap - 1))
            ;
        m->slots[j] = old[i];
    }
    free(old);
    return 0;
}

int room_map_put(room_map *m, const char *key, void *value)
{
    struct room_map_slot *s = find(m, key);
    size_t i;

    if (s) {
        s->key = key;
        s->value = value;
        return 0;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    for (i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        s = &m->slots[i];
        if (!s->key || s->key == tombstone)
            break;
    }
    if (!s->key)
        m->used++;
    s->key = key;
    s->value = value;
    m->count++;
    return 0;
}

void room_map_del(room_map *m, const char *key)
{
    struct room_map_slot *s = find(m, key);

    if (!s)
        return;
    s->key = tombstone;
    s->value = NULL;
    m->count--;
}

void *room_map_next(const room_map *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++) {
        struct room_map_slot *s = &m->slots[*pos];
        if (s->key && s->key != tombstone) {
            (*pos)++;
            return s->value;
        }
    }
    return NULL;
}
