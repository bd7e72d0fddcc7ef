/*
 * A connection's output as the rooms and presence use it: queue a shared message on
 * its outbound queue and wake it; close it when live traffic outgrows the limit
 * (room_config.outq_max) or memory runs out. Both the room core and presence send
 * through here, so neither needs the other to reach a connection.
 *
 * Invariant: once a peer is dead (closing), nothing more is queued on it and the
 * environment's kill hook has run exactly once.
 */
#ifndef KONSIL_ROOM_PEER_H
#define KONSIL_ROOM_PEER_H

#include "room/room.h"

/* Marks p dead and asks the environment to close it (once). */
void room_peer_kill(const room_env *env, room_peer *p);
/* Queues one reference to m on p and wakes it; with live set, a queue over
 * cfg->outq_max closes p. Returns 0, or -1 (no memory: p is closed). */
int room_peer_push(const room_config *cfg, const room_env *env, room_peer *p, room_msg *m,
                   int live);
/* Queues the message built in b (not live traffic). Returns 0 or -1 (p is closed). */
int room_peer_push_buf(const room_config *cfg, const room_env *env, room_peer *p,
                       proto_buf *b);

#endif
