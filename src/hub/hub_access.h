/*
 * Access control on /ws: each room's policy (the session's template rules, its lead,
 * its participants, whether it is closed) and the room hooks built on src/auth
 * (room_env.admit, project, projects_whole, check_write, presence_visible).
 *
 * A policy is made from the session meta the store reads with the document
 * (store_api_session_meta) and is refcounted: the room holds one reference, and each
 * presence channel of that session one. The REST handlers update a loaded room's
 * policy when participants are added or the session is closed, so a change takes
 * effect at once; the database stays the authority (a room loaded later reads it).
 *
 * A view is access_principal_set() of the principal in that session: it decides
 * everything projection and the write check look at, so it is the cache key for
 * projected snapshots and ops.
 */
#ifndef KONSIL_HUB_ACCESS_H
#define KONSIL_HUB_ACCESS_H

#include <cjson/cJSON.h>

#include "auth/principal.h"
#include "auth/template.h"
#include "room/room.h"

typedef struct hub_policy hub_policy;

/* A policy from session meta (only read); NULL when meta is NULL or invalid. */
hub_policy *hub_policy_new(const cJSON *meta);
void *hub_policy_ref(void *policy);
void hub_policy_unref(void *policy);
void hub_policy_add_member(hub_policy *p, const char *user_id);
void hub_policy_close(hub_policy *p);
const access_rules *hub_policy_rules(const hub_policy *p);

/* Whether principal `who` (a user, or a client bound to `bound_session`) belongs to
 * the policy's session; *view is what it may read there. 0 or -1. */
int hub_policy_view(const hub_policy *p, const char *session, const auth_principal *who,
                    const char *bound_session, unsigned *view);
/* A principal that matches exactly the selectors of view (for the pure checks). */
/* The document doc as view receives it: projected and, for supervisors, pseudonymised
 * (access_pseudo.h; doc's identity values join the policy's dictionary). NULL when
 * memory runs out. A new tree for the caller. */
cJSON *hub_policy_project_snapshot(hub_policy *p, unsigned view, const cJSON *doc);

void hub_view_principal(unsigned view, auth_principal *out);

/* Installs the hooks into env. */
void hub_access_env(room_env *env);

#endif
