/*
 * The heartbeat rule: a connection that has sent a ShareDB ping (`pp`) has said it keeps
 * talking, and is hung up on when nothing reaches the server from it for
 * hub_config.heartbeat_secs (no close handshake: a peer that sends nothing would not
 * answer one). Its presence ends with the connection, so the others see it leave while
 * its own page, which has missed its pongs, already says it is offline
 * (protocol/sharedb-wire.md, "Heartbeat"). Connections that never ping are left to
 * WebSocket ping/pong (--ping-secs, --idle-secs); time the server itself does not read
 * from a connection (rate or backpressure pauses) never counts as silence.
 */
#ifndef KONSIL_HUB_HEARTBEAT_H
#define KONSIL_HUB_HEARTBEAT_H

#include "hub/hub_internal.h"

/* A whole message arrived from c; ping is nonzero for a `pp`. */
void hub_heartbeat_heard(hub_conn *c, int ping, int64_t now_ms);

/* Hangs up on the pinging connections silent for longer than the rule allows. */
void hub_heartbeat_sweep(hub *h, int64_t now_ms);

#endif
