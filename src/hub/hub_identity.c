/*
 * Identity from the upgrade request (see hub_identity.h).
 */
#include "hub/hub_internal.h"
#include "hub/hub_auth.h"

#include <stdio.h>
#include <string.h>

#define DEV_COOKIE "konsil_dev_user"

/* --dev-principals: the konsil_dev_user cookie's plain name, else "dev". */
static hub_login *dev_login(hub *h, const char *cookie)
{
    const char *name = "dev", *value;
    size_t n = 3, len;

    if (hub_cookie_value(cookie, DEV_COOKIE, &value, &len) == 0 && len <= 48) {
        name = value;
        n = len;
    }
    memset(&h->dev_login, 0, sizeof h->dev_login);
    snprintf(h->dev_login.who.id, sizeof h->dev_login.who.id, "%.*s", (int)n, name);
    if (auth_principal_init(&h->dev_login.who, h->dev_login.who.id, h->dev_login.who.id,
                            AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_NONE, false, NULL) != 0)
        auth_principal_init(&h->dev_login.who, "dev", "dev", AUTH_ROLE_COUNSELLOR,
                            AUTH_SPECIALTY_NONE, false, NULL);
    return &h->dev_login;
}

hub_login *hub_identity_from_upgrade(hub *h, struct lws *wsi)
{
    char cookie[2048];
    hub_login *l;
    int n = lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE);

    if (h->cfg.dev_principals)
        return dev_login(h, n > 0 ? cookie : NULL);
    if (n <= 0)
        return NULL;
    l = hub_auth_find(h, cookie, 1);
    return l && !l->waiting && !l->ended ? l : NULL;
}
