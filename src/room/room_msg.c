/*
 * Refcounted shared messages (see room_msg.h). Only the service thread touches them,
 * so the count needs no atomics. A message is one allocation: its header, then the
 * headroom and the text.
 */
#include "room/room_msg.h"

#include <stdlib.h>

room_msg *room_msg_from_buf(proto_buf *b)
{
    size_t headroom = b->headroom;
    char *mem;
    long len = proto_buf_take(b, ROOM_MSG_HEADER, &mem);
    room_msg *m;

    if (len < 0)
        return NULL;
    m = (room_msg *)mem;
    m->refs = 1;
    m->len = (size_t)len;
    m->headroom = headroom;
    return m;
}

room_msg *room_msg_ref(room_msg *m)
{
    m->refs++;
    return m;
}

void room_msg_unref(room_msg *m)
{
    if (!m || --m->refs > 0)
        return;
    free(m);
}
