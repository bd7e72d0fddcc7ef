/*
 * Identity from the upgrade request (see hub_identity.h).
 */
#include "hub/hub_internal.h"
#include "hub/hub_auth.h"

hub_login *hub_identity_from_upgrade(hub *h, struct lws *wsi)
{
    char cookie[2048];
    hub_login *l;
    int n = lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE);

    if (n <= 0)
        return NULL;
    l = hub_auth_find(h, cookie, 1);
    return l && !l->waiting && !l->ended ? l : NULL;
}
