/*
 * Development identity from the upgrade request (see hub_identity.h).
 */
#include "hub/hub_identity.h"

#include <stdio.h>
#include <string.h>

#define DEV_COOKIE "konsil_dev_user"

static int plain_name(const char *s, size_t n)
{
    if (n == 0 || n > 48)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The principal for a Cookie header value (NULL: no cookie). */
static int from_cookie(const char *cookie, hub_principal *out)
{
    const size_t key_len = strlen(DEV_COOKIE);
    const char *p = cookie;

    snprintf(out->id, sizeof out->id, "dev");
    while (p && *p) {
        const char *end, *value;
        while (*p == ' ' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        value = p + key_len + 1;
        if ((size_t)(end - p) > key_len && strncmp(p, DEV_COOKIE, key_len) == 0 &&
            p[key_len] == '=' && plain_name(value, (size_t)(end - value))) {
            snprintf(out->id, sizeof out->id, "%.*s", (int)(end - value), value);
            break;
        }
        p = end;
    }
    return 0;
}

int hub_identity_from_upgrade(struct lws *wsi, hub_principal *out)
{
    char cookie[1024];
    int n = lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE);

    return from_cookie(n > 0 ? cookie : NULL, out);
}
