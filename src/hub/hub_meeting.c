/*
 * A case's meeting at a glance, pushed to its counsellors on /ws (protocol/sharedb-wire.md,
 * "The meeting channel"): the presence channel `meeting/<case id>` carries one presence,
 * id "meeting", set by the server, whose value is {session, waiting} — the running
 * session of the case (or null) and how many clients wait in its lobby. A page that
 * subscribes to the channel with the stock client's presence API hears at once when
 * someone starts waiting, is let in or turned away, or the meeting starts or ends,
 * without asking the REST API again and again. It names nobody: who waits is read from
 * GET /api/sessions/{id}/lobby, as the reader may read it.
 *
 * Invariants:
 *   - only counsellors of the case's team subscribe (the store checks, per subscribe);
 *     a connection whose principal leaves the team stops hearing (hub_meeting_drop);
 *   - every change of what the value says goes through hub_meeting_changed() after the
 *     store committed it, and every watcher then gets the value read after that commit;
 *     a subscribe that raced with a change reads again;
 *   - pv only grows, across connections and reconnects (it is the hub's clock in ms,
 *     made strictly increasing), so the stock client never drops a newer value;
 *   - a connection watches at most --max-presence-channels meetings.
 */
#include "hub/hub_meeting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_api.h"
#include "store/store_api.h"

#define PREFIX "meeting/"
#define PREFIX_LEN (sizeof PREFIX - 1)

int hub_meeting_is_channel(const char *ch)
{
    return ch && strncmp(ch, PREFIX, PREFIX_LEN) == 0;
}

const char *hub_meeting_case(const char *ch)
{
    const char *id = ch && strncmp(ch, PREFIX, PREFIX_LEN) == 0 ? ch + PREFIX_LEN : NULL;

    return id && hub_api_id(id, strlen(id)) ? id : NULL;
}

static int watches(const hub_conn *c, const char *case_id)
{
    for (size_t i = 0; i < c->n_meetings; i++)
        if (strcmp(c->meetings[i], case_id) == 0)
            return 1;
    return 0;
}

static void unwatch(hub_conn *c, const char *case_id)
{
    for (size_t i = 0; i < c->n_meetings; i++)
        if (strcmp(c->meetings[i], case_id) == 0) {
            free(c->meetings[i]);
            c->meetings[i] = c->meetings[--c->n_meetings];
            return;
        }
}

/* 0, or -1 when memory runs out. */
static int watch(hub_conn *c, const char *case_id)
{
    char **grown, *id;

    if (watches(c, case_id))
        return 0;
    grown = realloc(c->meetings, (c->n_meetings + 1) * sizeof *grown);
    if (!grown)
        return -1;
    c->meetings = grown;
    if (!(id = strdup(case_id)))
        return -1;
    c->meetings[c->n_meetings++] = id;
    return 0;
}

void hub_meeting_forget(hub_conn *c)
{
    for (size_t i = 0; i < c->n_meetings; i++)
        free(c->meetings[i]);
    free(c->meetings);
    c->meetings = NULL;
    c->n_meetings = 0;
}

static hub_conn *conn_by_id(hub *h, const char *id)
{
    for (hub_conn *c = h->conns; c; c = c->next)
        if (c->wsi && strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

/* {a:'p', ch, src:'konsil', id:'meeting', p: state, pv, u:{id:'konsil'}} to c. */
static void send_state(hub *h, hub_conn *c, const char *case_id, const cJSON *state)
{
    char ch[PREFIX_LEN + AUTH_ID_MAX];
    int64_t now = hub_now_ms();
    cJSON *pv;
    proto_buf b;

    h->meeting_pv = now > h->meeting_pv ? now : h->meeting_pv + 1;
    pv = cJSON_CreateNumber((double)h->meeting_pv);
    if (!pv)
        return;
    snprintf(ch, sizeof ch, PREFIX "%s", case_id);
    proto_buf_init(&b, LWS_PRE);
    proto_emit_presence(&b, ch, "konsil", "meeting", state, pv, "konsil");
    cJSON_Delete(pv);
    room_peer_reply(h->rooms, &c->peer, &b);
}

static void reply_sub(hub *h, hub_conn *c, proto_action a, const char *ch, int64_t seq,
                      const char *code, const char *message)
{
    proto_buf b;

    proto_buf_init(&b, LWS_PRE);
    if (!code) {
        proto_emit_presence_sub(&b, a, ch, seq);
    } else {
        cJSON *request = cJSON_CreateObject();
        proto_error err = {code, ""};
        snprintf(err.message, sizeof err.message, "%s", message);
        cJSON_AddStringToObject(request, "a", proto_action_name(a));
        cJSON_AddStringToObject(request, "ch", ch);
        cJSON_AddNumberToObject(request, "seq", (double)seq);
        proto_emit_error(&b, request, &err);
        cJSON_Delete(request);
    }
    room_peer_reply(h->rooms, &c->peer, &b);
}

static void state_read(hub *h, hub_req *req, store_job *job);

static int64_t in_number(const store_job *job, const char *key)
{
    return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job->in, key));
}

/* Reads the meeting state of case_id on the reader; `conn` names the one connection
 * that subscribes (then actor and seq are its), or NULL for every watcher. */
static void read_state(hub *h, const char *case_id, const hub_conn *conn, int64_t seq)
{
    cJSON *in = cJSON_CreateObject();
    store_job *job;

    if (!in)
        return;
    cJSON_AddStringToObject(in, "id", case_id);
    cJSON_AddNumberToObject(in, "epoch", (double)h->meeting_epoch);
    if (conn) {
        cJSON *actor = cJSON_AddObjectToObject(in, "actor");
        cJSON_AddStringToObject(actor, "id", conn->principal.id);
        cJSON_AddStringToObject(actor, "role", auth_role_name(conn->principal.role));
        if (conn->bound_session[0])
            cJSON_AddStringToObject(actor, "session", conn->bound_session);
        cJSON_AddStringToObject(in, "conn", conn->id);
        cJSON_AddNumberToObject(in, "seq", (double)seq);
    }
    job = store_call_new(store_api_meeting_state, STORE_READER, in);
    if (job)
        hub_call(h, NULL, job, state_read);
}

static void state_read(hub *h, hub_req *req, store_job *job)
{
    const char *case_id = hub_api_str(job->in, "id"), *conn = hub_api_str(job->in, "conn");
    char ch[PREFIX_LEN + AUTH_ID_MAX];
    hub_conn *c;

    (void)req;
    snprintf(ch, sizeof ch, PREFIX "%s", case_id);
    if (!conn) {
        if (!hub_call_ok(job))
            return;
        for (c = h->conns; c; c = c->next)
            if (c->wsi && watches(c, case_id))
                send_state(h, c, case_id, job->out);
        return;
    }
    if (!(c = conn_by_id(h, conn)))
        return;
    if (!hub_call_ok(job)) {
        reply_sub(h, c, PROTO_PS, ch, in_number(job, "seq"),
                  job->err == STORE_ERR_INTERNAL || job->status != STORE_OK ?
                  PROTO_ERR_UNKNOWN : PROTO_ERR_FORBIDDEN,
                  job->err_message[0] ? job->err_message : "the meeting cannot be read");
        return;
    }
    if (watch(c, case_id) != 0) {
        reply_sub(h, c, PROTO_PS, ch, in_number(job, "seq"), PROTO_ERR_UNKNOWN,
                  "out of memory");
        return;
    }
    reply_sub(h, c, PROTO_PS, ch, in_number(job, "seq"), NULL, NULL);
    send_state(h, c, case_id, job->out);
    /* A change committed while this read was queued may have been read before it:
     * every watcher reads again. */
    if ((unsigned)in_number(job, "epoch") != h->meeting_epoch)
        read_state(h, case_id, NULL, 0);
}

void hub_meeting_request(hub *h, hub_conn *c, const proto_msg *msg)
{
    const char *case_id = hub_meeting_case(msg->ch);
    proto_buf b;

    if (!case_id) {
        reply_sub(h, c, msg->action, msg->ch, msg->seq, PROTO_ERR_FORBIDDEN,
                  "a meeting channel is meeting/<case id>");
        return;
    }
    switch (msg->action) {
    case PROTO_PS:
        if (c->principal.role != AUTH_ROLE_COUNSELLOR) {
            reply_sub(h, c, PROTO_PS, msg->ch, msg->seq, PROTO_ERR_FORBIDDEN,
                      "only counsellors of the team follow its lobby");
        } else if (!watches(c, case_id) && c->n_meetings >= h->cfg.max_presence_channels) {
            reply_sub(h, c, PROTO_PS, msg->ch, msg->seq, PROTO_ERR_LIMIT,
                      "Too many presence channels on one connection");
        } else {
            read_state(h, case_id, c, msg->seq);
        }
        break;
    case PROTO_PU:
        unwatch(c, case_id);
        reply_sub(h, c, PROTO_PU, msg->ch, msg->seq, NULL, NULL);
        break;
    case PROTO_PR:
        if (watches(c, case_id))
            read_state(h, case_id, NULL, 0);
        proto_buf_init(&b, LWS_PRE);
        proto_emit_presence_request(&b, NULL);
        room_peer_reply(h->rooms, &c->peer, &b);
        break;
    default: {
        proto_error err = {PROTO_ERR_FORBIDDEN, "the meeting channel is set by the server"};
        proto_buf_init(&b, LWS_PRE);
        proto_emit_error(&b, msg->root, &err);
        room_peer_reply(h->rooms, &c->peer, &b);
        break;
    }
    }
}

void hub_meeting_changed(hub *h, const char *case_id)
{
    if (!case_id || !case_id[0])
        return;
    h->meeting_epoch++;
    for (hub_conn *c = h->conns; c; c = c->next)
        if (c->wsi && watches(c, case_id)) {
            read_state(h, case_id, NULL, 0);
            return;
        }
}

void hub_meeting_drop(hub *h, const char *case_id, const char *user_id)
{
    for (hub_conn *c = h->conns; c; c = c->next)
        if (strcmp(c->principal.id, user_id) == 0)
            unwatch(c, case_id);
}
