/*
 * A case's changes reaching the server's live state at once (see hub_internal.h): the
 * loaded room's policy (hub_access.h) and the connections that have the case open.
 *
 * The ShareDB protocol has no message that takes a document away from a subscriber or
 * hands it a new view, so a connection whose principal loses the case, or whose rights
 * in it change, is closed with a code of Konsil's own (protocol/sharedb-wire.md): 4001
 * when it no longer reaches the case (a reconnect's `s` is refused with ERR_FORBIDDEN,
 * a client's upgrade with 401), 4002 when it should open the case again to get its
 * new view. Only connections that had the case open are closed; a principal's other
 * connections go on.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <string.h>

#include "hub/hub_access.h"
#include "hub/hub_meeting.h"
#include "store/store_erase.h"

/* Closes the connections of user_id (every principal when NULL) that have case_id open. */
static void close_open(hub *h, const char *case_id, const char *user_id, int code,
                       const char *reason)
{
    for (hub_conn *c = h->conns; c; c = c->next)
        if ((!user_id || strcmp(c->principal.id, user_id) == 0) &&
            room_peer_in(&c->peer, case_id))
            hub_conn_close(c, code, reason);
}

void hub_case_member_added(hub *h, const char *case_id, const char *user_id,
                           const char *team_role)
{
    hub_policy *p = room_policy(h->rooms, case_id);

    if (p)
        hub_policy_add_member(p, user_id, team_role);
}

void hub_case_member_removed(hub *h, const char *case_id, const char *user_id)
{
    hub_policy *p = room_policy(h->rooms, case_id);

    if (p)
        hub_policy_remove_member(p, user_id);
    hub_meeting_drop(h, case_id, user_id);
    close_open(h, case_id, user_id, HUB_CLOSE_ACCESS_ENDED, "removed from the case's team");
}

void hub_case_lead_changed(hub *h, const char *case_id, const char *from, const char *to)
{
    hub_policy *p = room_policy(h->rooms, case_id);

    if (p)
        hub_policy_set_lead(p, to);
    close_open(h, case_id, from, HUB_CLOSE_ACCESS_CHANGED, "the case's lead changed");
    close_open(h, case_id, to, HUB_CLOSE_ACCESS_CHANGED, "the case's lead changed");
}

void hub_case_session_started(hub *h, const char *case_id, const char *session)
{
    hub_policy *p = room_policy(h->rooms, case_id);

    if (p)
        hub_policy_session(p, session, 1);
    hub_meeting_changed(h, case_id);
}

void hub_case_session_ended(hub *h, const char *case_id, const char *session)
{
    hub_policy *p = room_policy(h->rooms, case_id);
    size_t pos = 0;
    hub_login *l;

    if (!session)
        return;
    if (p)
        hub_policy_session(p, session, 0);
    while ((l = room_map_next(&h->logins, &pos)))
        if (strcmp(l->session, session) == 0)
            l->ended = 1;
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->bound_session, session) == 0)
            hub_conn_close(c, HUB_CLOSE_ACCESS_ENDED, "the session has ended");
    hub_meeting_changed(h, case_id);
}

void hub_case_closed(hub *h, const char *case_id, const cJSON *sessions)
{
    hub_policy *p = room_policy(h->rooms, case_id);
    const cJSON *s;

    if (p)
        hub_policy_set_status(p, "closed");
    cJSON_ArrayForEach(s, sessions)
        hub_case_session_ended(h, case_id, cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(s, "id")));
    close_open(h, case_id, NULL, HUB_CLOSE_ACCESS_CHANGED, "the case was closed: read-only");
}

void hub_case_restricted(hub *h, const char *case_id, const char *lead, const cJSON *ended)
{
    hub_policy *p = room_policy(h->rooms, case_id);
    const cJSON *s;

    if (p)
        hub_policy_set_status(p, "restricted");
    cJSON_ArrayForEach(s, ended)
        hub_case_session_ended(h, case_id, cJSON_GetStringValue(s));
    for (hub_conn *c = h->conns; c; c = c->next)
        if (room_peer_in(&c->peer, case_id)) {
            int lead_or_admin = (lead && strcmp(c->principal.id, lead) == 0) ||
                                c->principal.role == AUTH_ROLE_ADMIN;
            hub_conn_close(c, lead_or_admin ? HUB_CLOSE_ACCESS_CHANGED : HUB_CLOSE_ACCESS_ENDED,
                           "the case was restricted");
        }
}

void hub_case_unrestricted(hub *h, const char *case_id, const char *status)
{
    hub_policy *p = room_policy(h->rooms, case_id);

    if (p)
        hub_policy_set_status(p, status);
    close_open(h, case_id, NULL, HUB_CLOSE_ACCESS_CHANGED, "the case's restriction was lifted");
}

void hub_case_erased(hub *h, const cJSON *erasure)
{
    const char *case_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(erasure,
                                                                                "case_id"));
    hub_policy *p;
    const cJSON *e;
    store_job *job;

    if (!case_id)
        return;
    if ((p = room_policy(h->rooms, case_id)))
        hub_policy_set_status(p, "erased");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(erasure, "clients"))
        hub_case_client_removed(h, case_id, cJSON_GetStringValue(e));
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(erasure, "sessions"))
        for (hub_conn *c = h->conns; c; c = c->next)
            if (cJSON_GetStringValue(e) && strcmp(c->bound_session, e->valuestring) == 0)
                hub_conn_close(c, HUB_CLOSE_ACCESS_ENDED, "the case was erased");
    close_open(h, case_id, NULL, HUB_CLOSE_ACCESS_ENDED, "the case was erased");
    room_set_drop(h->rooms, case_id);
    job = store_call_new(store_api_checkpoint, STORE_WORKER, cJSON_CreateObject());
    if (job)
        hub_call(h, NULL, job, NULL);
}

void hub_case_lobby_changed(hub *h, const char *case_id)
{
    hub_meeting_changed(h, case_id);
}

void hub_case_client_removed(hub *h, const char *case_id, const char *client_id)
{
    char hashes[8][AUTH_TOKEN_HASH_LEN + 1];
    size_t pos = 0, n = 0;
    hub_login *l;

    if (!client_id)
        return;
    while ((l = room_map_next(&h->logins, &pos)))
        if (strcmp(l->who.id, client_id) == 0 && n < 8)
            snprintf(hashes[n++], sizeof hashes[0], "%s", l->hash);
    for (size_t i = 0; i < n; i++)
        hub_auth_remove(h, hashes[i]);
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->principal.id, client_id) == 0)
            hub_conn_close(c, HUB_CLOSE_ACCESS_ENDED, "removed from the session");
    hub_meeting_changed(h, case_id);
}
