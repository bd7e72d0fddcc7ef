/*
 * Untyped presence (ShareDB's connection.getPresence(channel)): the hub only relays.
 * A `p` goes to every other subscriber of its channel and back to its sender as the
 * acknowledgement; `ps` subscribes and asks the others to re-send (`pr`); when a
 * connection unsubscribes or leaves, everyone else gets p:null for each presence it
 * had in those channels. Typed doc presence is refused: json0 cannot transform it.
 *
 * Invariants: presence is never stored; each subscriber receives a presence as the
 * access hooks give it to its view (presence_value: the place only where it may read
 * it, {"path": null} otherwise; presence_identity: the sender as that view names it),
 * built once per view; per connection the number of channels and of presences is
 * bounded (room_config); identity in a relayed presence (src, and u) is set here from
 * the sender's connection, never taken from the message.
 *
 * A presence id belongs to the connection that set it, per channel, until that one
 * sets it to null, unsubscribes or leaves: receivers (the stock client) key presences
 * by id alone, so another principal's `p` with that id — to move it or to erase it —
 * is refused (ERR_FORBIDDEN) and relayed to nobody. A connection of the same principal
 * takes the id over (a page reconnecting on a new socket before the old one is gone).
 *
 * Dependencies: the room calls in here (room_request.c hands over each presence request
 * once its room admitted it, in its turn; a peer leaving the room set leaves presence
 * too); presence calls nothing of the room. It reads the room set's config and
 * environment, given at creation, and reaches connections through room_peer.h.
 *
 * Ownership: channel state lives in the room_presence (one per room set, which frees
 * it); per-connection state hangs off the room_peer and is freed by
 * room_presence_leave().
 */
#ifndef KONSIL_ROOM_PRESENCE_H
#define KONSIL_ROOM_PRESENCE_H

#include "room/room.h"

typedef struct room_presence room_presence;

/* cfg and env are borrowed and must outlive the relay (the room set's own). NULL when
 * memory runs out. */
room_presence *room_presence_new(const room_config *cfg, const room_env *env);
void room_presence_free(room_presence *rp);

/* p, ps, pu and pr; replies are queued on p. msg stays the caller's. policy and view
 * are the channel's room's access policy and what p may see there (room_env): each
 * subscriber receives a presence as presence_value and presence_identity give it to its
 * view. */
void room_presence_handle(room_presence *rp, room_peer *p, proto_msg *msg, void *policy,
                          unsigned view);
/* p:null for each of the peer's presences, then it leaves every channel. */
void room_presence_leave(room_presence *rp, room_peer *p);

#endif
