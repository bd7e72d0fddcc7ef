/*
 * A string-keyed hash map (open addressing, linear probing) for rooms by document id
 * and presence channels by name. Keys are borrowed: each value owns its key and must
 * outlive its entry.
 */
#ifndef KONSIL_ROOM_MAP_H
#define KONSIL_ROOM_MAP_H

#include <stddef.h>

typedef struct room_map {
    struct room_map_slot { const char *key; void *value; } *slots;
    size_t cap, count, used;    /* used counts live entries and tombstones */
} room_map;

void room_map_init(room_map *m);
void room_map_clear(room_map *m);
void *room_map_get(const room_map *m, const char *key);
/* Adds or replaces. Returns 0, or -1 when memory runs out. */
int room_map_put(room_map *m, const char *key, void *value);
void room_map_del(room_map *m, const char *key);
/* Iteration: start with *pos = 0; returns the next value or NULL at the end. The map
 * may have the returned entry deleted during iteration, nothing else. */
void *room_map_next(const room_map *m, size_t *pos);

#endif
