/*
 * One connection's outbound queue: shared messages in send order, with the byte count
 * the slow-consumer limit is checked against. A growable ring of references, so
 * queueing allocates nothing per message while the queue holds any; the ring is freed
 * when the queue empties.
 *
 * Ownership: the queue holds one reference per queued message and drops it on pop
 * and on room_outq_clear().
 */
#ifndef KONSIL_ROOM_OUTQ_H
#define KONSIL_ROOM_OUTQ_H

#include <stddef.h>

#include "room/room_msg.h"

typedef struct room_outq {
    room_msg **ring;
    size_t cap, start, count;
    size_t bytes;       /* text bytes of the queued messages */
    size_t sent;        /* bytes of the first message already written */
} room_outq;

void room_outq_init(room_outq *q);
void room_outq_clear(room_outq *q);
/* Queues one reference to m. Returns 0, or -1 when memory runs out. */
int room_outq_push(room_outq *q, room_msg *m);
/* The first message, or NULL when empty. Borrowed. */
room_msg *room_outq_head(const room_outq *q);
/* The i-th queued message (0: the head), i < count. Borrowed. */
room_msg *room_outq_at(const room_outq *q, size_t i);
/* Drops the first message. */
void room_outq_pop(room_outq *q);

#endif
