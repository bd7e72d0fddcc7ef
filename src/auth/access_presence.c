/* Presence filtering; see access_presence.h. Fails closed on a malformed path. */
#include "auth/access_presence.h"

bool access_presence_visible(const access_rules *rules, const auth_principal *who,
                             const cJSON *presence)
{
    if (!cJSON_IsObject(presence))
        return true;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(presence, "path");
    if (!path || cJSON_IsNull(path))
        return true;
    return access_can_read(rules, who, path);
}
