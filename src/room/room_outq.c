/*
 * The outbound ring (see room_outq.h). Invariants: `bytes` is the sum of the queued
 * messages' lengths, including the part of the head already sent; an empty queue holds
 * no ring (most connections are idle most of the time).
 */
#include "room/room_outq.h"

#include <stdlib.h>

void room_outq_init(room_outq *q)
{
    q->ring = NULL;
    q->cap = q->start = q->count = 0;
    q->bytes = q->sent = 0;
}

void room_outq_clear(room_outq *q)
{
    while (q->count)
        room_outq_pop(q);
    free(q->ring);
    room_outq_init(q);
}

int room_outq_push(room_outq *q, room_msg *m)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        room_msg **ring = malloc(cap * sizeof *ring);
        if (!ring)
            return -1;
        for (size_t i = 0; i < q->count; i++)
            ring[i] = q->ring[(q->start + i) % q->cap];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->start = 0;
    }
    q->ring[(q->start + q->count) % q->cap] = room_msg_ref(m);
    q->count++;
    q->bytes += m->len;
    return 0;
}

room_msg *room_outq_head(const room_outq *q)
{
    return q->count ? q->ring[q->start] : NULL;
}

room_msg *room_outq_at(const room_outq *q, size_t i)
{
    return q->ring[(q->start + i) % q->cap];
}

void room_outq_pop(room_outq *q)
{
    room_msg *m;

    if (!q->count)
        return;
    m = q->ring[q->start];
    q->start = (q->start + 1) % q->cap;
    q->count--;
    q->bytes -= m->len;
    q->sent = 0;
    room_msg_unref(m);
    if (!q->count) {
        free(q->ring);
        room_outq_init(q);
    }
}
