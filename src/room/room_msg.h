/*
 * A finished outgoing message, shared by every connection that sends it: a broadcast
 * op is built once and queued for all subscribers with one reference each.
 *
 * The text sits after `headroom` spare bytes, so the transport can write its frame
 * header in front of it without copying (the hub builds messages with LWS_PRE).
 * A message is immutable once built; only the headroom bytes are scratch space.
 *
 * Ownership: refcounted. room_msg_from_buf() returns one reference; every queue that
 * holds the message takes one with room_msg_ref() and drops it with room_msg_unref().
 */
#ifndef KONSIL_ROOM_MSG_H
#define KONSIL_ROOM_MSG_H

#include <stddef.h>

#include "proto/proto_buf.h"

typedef struct room_msg {
    unsigned refs;
    size_t len;         /* text length */
    size_t headroom;
    /* in the same allocation, from ROOM_MSG_HEADER bytes on: headroom + text + NUL */
} room_msg;

/* Where the headroom starts in a message's one allocation (aligned for the header). */
#define ROOM_MSG_HEADER ((sizeof(room_msg) + 15) & ~(size_t)15)

/* Takes over the buffer's memory (the buffer is empty afterwards). NULL when the
 * buffer failed or memory runs out. */
room_msg *room_msg_from_buf(proto_buf *b);
room_msg *room_msg_ref(room_msg *m);
void room_msg_unref(room_msg *m);

static inline char *room_msg_text(const room_msg *m)
{
    return (char *)m + ROOM_MSG_HEADER + m->headroom;
}

#endif
