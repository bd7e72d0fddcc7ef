/*
 * The identity seam: who a WebSocket connection acts for, decided once from its HTTP
 * upgrade request: the login session its konsil_session cookie names (hub_auth.h).
 * Everything downstream (op authorship, duplicate detection, access, presence) uses
 * only that principal.
 */
#ifndef KONSIL_HUB_IDENTITY_H
#define KONSIL_HUB_IDENTITY_H

#include <libwebsockets.h>

#include "hub/hub_auth.h"

typedef struct hub hub;

/* The login of the upgrade request, or NULL (no, unknown, expired cookie, or a client
 * still in the lobby). Call while the upgrade headers are attached. */
hub_login *hub_identity_from_upgrade(hub *h, struct lws *wsi);

#endif
