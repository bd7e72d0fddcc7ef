/*
 * A connection's output (see room_peer.h).
 */
#include "room/room_peer.h"

#include <string.h>

void room_peer_init(room_peer *p, const char *principal, const char *src)
{
    memset(p, 0, sizeof *p);
    room_outq_init(&p->outq);
    p->principal = principal;
    p->src = src;
}

void room_peer_kill(const room_env *env, room_peer *p)
{
    if (p->dead)
        return;
    p->dead = 1;
    /* What it did not read is never sent now: the close goes out before the queue. */
    room_outq_clear(&p->outq);
    env->kill(env->ctx, p);
}

int room_peer_push(const room_config *cfg, const room_env *env, room_peer *p, room_msg *m)
{
    if (p->dead)
        return 0;
    if (room_outq_push(&p->outq, m) != 0) {
        room_peer_kill(env, p);
        return -1;
    }
    env->wake(env->ctx, p);
    if (p->outq.bytes > cfg->outq_max && p->outq.count > 1)
        room_peer_kill(env, p);
    return 0;
}

int room_peer_push_buf(const room_config *cfg, const room_env *env, room_peer *p,
                       proto_buf *b)
{
    room_msg *m = room_msg_from_buf(b);
    int rc;

    if (!m) {
        room_peer_kill(env, p);
        return -1;
    }
    rc = room_peer_push(cfg, env, p, m);
    room_msg_unref(m);
    return rc;
}
