/*
 * The identity seam: who a WebSocket connection acts for, decided once from its HTTP
 * upgrade request. Everything downstream (op authorship, duplicate detection, presence)
 * uses only the principal this returns; the access layer replaces this one function.
 *
 * For now every upgrade gets a development principal: the value of a
 * `konsil_dev_user` cookie when it is a plain name (letters, digits, . _ -, at most
 * 48 bytes), so tests can act as several people, and "dev" otherwise.
 */
#ifndef KONSIL_HUB_IDENTITY_H
#define KONSIL_HUB_IDENTITY_H

#include <libwebsockets.h>

#define HUB_PRINCIPAL_MAX 64

typedef struct hub_principal {
    char id[HUB_PRINCIPAL_MAX];
} hub_principal;

/* Returns 0 with *out filled, or -1 when the request carries no acceptable identity
 * (the hub then answers the upgrade with 401). Call while the upgrade headers are
 * still attached (HTTP_CONFIRM_UPGRADE or ESTABLISHED). */
int hub_identity_from_upgrade(struct lws *wsi, hub_principal *out);

#endif
