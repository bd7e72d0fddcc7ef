/*
 * Access control on /ws: each room's policy, fed from its case (the template version's
 * rules, the team and its lead, the case's status, the running sessions whose clients
 * reach the document) and the room hooks for membership and writing built on
 * src/auth/access_view.h (room_env.admit, check_write); what each view receives is
 * hub_view.h's, on the live frame the policy holds. A room's document is a case's: its
 * id is the case id.
 *
 * Who reaches the document: the current members of the case's team, and a client
 * while the session it joined runs. An open case is written as the rules say; a closed
 * one is read-only for everyone; a restricted one is read-only and read by its lead and
 * by admins (who read what the lead reads); an erased one by nobody. Besides
 * the access rules, an op that sets a task's owner to anyone but a counsellor of the
 * team (or the client) is refused (case_sheet.h).
 *
 * A policy is made from the case meta the store reads with the document
 * (store_case_meta) and is refcounted: the room holds one reference, and each presence
 * channel of that case one. The hub updates a loaded room's policy when the team, the
 * lead, the status or the running sessions change (hub_case.c), so a change takes
 * effect at once; the database stays the authority (a room loaded later reads it).
 *
 * A view is access_view_key(access_view_of(the principal in that case)): it decides
 * everything projection and the write check look at, so it is the cache key for
 * projected snapshots and ops. The policy also keeps everyone admitted (their id, name
 * and role: the stamping op names its author from it).
 */
#ifndef KONSIL_HUB_ACCESS_H
#define KONSIL_HUB_ACCESS_H

#include <cjson/cJSON.h>

#include "auth/principal.h"
#include "auth/template.h"
#include "hub/hub_view.h"
#include "room/room.h"

typedef struct hub_policy hub_policy;

/* A policy from case meta (only read) and its document at the latest version (doc,
 * NULL when none or when the policy serves no room: its live frame then starts empty);
 * NULL when meta is NULL or invalid. */
hub_policy *hub_policy_new(const cJSON *meta, const cJSON *doc);
void *hub_policy_ref(void *policy);
void hub_policy_unref(void *policy);
/* The team changed: user_id joined with its team role ("lead", "counsellor",
 * "supervisor"), left, or became the lead (the former lead a counsellor). */
void hub_policy_add_member(hub_policy *p, const char *user_id, const char *team_role);
void hub_policy_remove_member(hub_policy *p, const char *user_id);
void hub_policy_set_lead(hub_policy *p, const char *user_id);
/* The case's status: "open", "closed", "restricted" or "erased" (nobody reaches it). */
void hub_policy_set_status(hub_policy *p, const char *status);
/* A session of the case started (running) or ended. */
void hub_policy_session(hub_policy *p, const char *session, int running);
const template_spec *hub_policy_template(const hub_policy *p);
/* The live frame of the room (hub_view.h). */
hub_live *hub_policy_live(hub_policy *p);
/* Who the room admitted with that id (its latest connection's principal), or NULL. */
const auth_principal *hub_policy_person(const hub_policy *p, const char *id);
/* The case's id. Borrowed. */
const char *hub_policy_case(const hub_policy *p);
/* Whether principal `who` (a user, or a client bound to `bound_session`) reaches the
 * policy's document doc; *view is what it may read there. 0 or -1. */
int hub_policy_view(const hub_policy *p, const char *doc, const auth_principal *who,
                    const char *bound_session, unsigned *view);
/* A principal that matches exactly the selectors of view (a view key). */
void hub_view_principal(unsigned view, auth_principal *out);

/* Installs the hooks into env. */
void hub_access_env(room_env *env);

#endif
