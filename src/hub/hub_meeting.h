/*
 * The meeting channel of /ws (hub_meeting.c, protocol/sharedb-wire.md): presence channel
 * `meeting/<case id>`, whose one presence the server sets to the case's running session
 * and the number of clients waiting in its lobby, for the counsellors of its team.
 * Service thread only.
 */
#ifndef KONSIL_HUB_MEETING_H
#define KONSIL_HUB_MEETING_H

#include "hub/hub_internal.h"

/* Whether presence channel ch is a meeting channel (starts with "meeting/"). */
int hub_meeting_is_channel(const char *ch);
/* The case id meeting channel ch names, pointing into ch; NULL when it names none. */
const char *hub_meeting_case(const char *ch);
/* ps, pu, pr or p on a meeting channel (the caller keeps msg). */
void hub_meeting_request(hub *h, hub_conn *c, const proto_msg *msg);
/* Something the meeting state of case_id says changed (committed): its watchers get
 * the new state. */
void hub_meeting_changed(hub *h, const char *case_id);
/* user_id left case_id's team: its connections stop watching the case's meeting. */
void hub_meeting_drop(hub *h, const char *case_id, const char *user_id);
/* Frees what c watches (the connection is going). */
void hub_meeting_forget(hub_conn *c);

#endif
