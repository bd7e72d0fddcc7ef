/*
 * A connection's output as the rooms, presence and the hub use it: queue a shared
 * message on its outbound queue and wake it; close it when the queue outgrows its bound
 * (room_config.outq_max) or memory runs out. Every message to a connection is queued
 * here — live ops, acks, snapshots (s, f, bulk), catch-up ops, nf/nt replies, presence,
 * errors — so this is the one place the output bound is kept: a connection that does not
 * read is closed (the hub closes with 1013), never buffered without limit. A message
 * that alone is larger than the bound still goes out when nothing else is queued (a
 * snapshot of a document from before the size limits), so the queue holds at most the
 * bound or that one message.
 *
 * Invariant: once a peer is dead (closing), nothing more is queued on it and the
 * environment's kill hook has run exactly once.
 */
#ifndef KONSIL_ROOM_PEER_H
#define KONSIL_ROOM_PEER_H

#include "room/room.h"

/* Marks p dead, drops its queue and asks the environment to close it (once). */
void room_peer_kill(const room_env *env, room_peer *p);
/* Queues one reference to m on p and wakes it; a queue that holds more than one message
 * and more than cfg->outq_max bytes closes p. Returns 0, or -1 (no memory: p is
 * closed). */
int room_peer_push(const room_config *cfg, const room_env *env, room_peer *p, room_msg *m);
/* Queues the message built in b. Returns 0 or -1 (p is closed). */
int room_peer_push_buf(const room_config *cfg, const room_env *env, room_peer *p,
                       proto_buf *b);

#endif
