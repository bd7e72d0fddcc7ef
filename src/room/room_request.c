/*
 * Requests from connections: f, s, u and op (room_request), presence (handed to the
 * presence relay in their turn), and the documents of bulk requests (room_bulk_part,
 * room_go_live). Each request becomes a room_req of its member, is filed with its room
 * (waiting while the room loads), admitted by the environment's hook, and run: fetches
 * and subscribes queue their reply as an item of the member, ops go to the submit
 * queue, presence goes to room_presence.c with the room's policy and the view.
 *
 * Invariants: every request gets exactly one answer (its reply, an error echoing it,
 * or for a bulk part one call of part.done); errors of admitted requests leave in
 * order with the member's other replies; a request the room cannot take (unknown
 * collection, too many rooms, no memory) is answered at once, unordered.
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_internal.h"

void room_req_free(room_req *req)
{
    if (req->m)
        room_member_unref(req->m);
    proto_msg_free(&req->msg);
    free(req->doc);
    cJSON_Delete(req->op);
    free(req->src);
    free(req->author);
    free(req);
}

static const char *req_doc(const room_req *req)
{
    return req->doc ? req->doc : req->msg.d;
}

/* Answers req with an error, in order with the member's other replies. */
void room_req_error(room_req *req, const proto_error *err)
{
    room_member *m = req->m;
    proto_buf b;

    if (req->part.done) {
        req->part.done(req->part.arg, req_doc(req), -1, err, 0, 0, NULL);
        return;
    }
    if (!m->peer)
        return;
    proto_buf_init(&b, m->room->set->cfg.headroom);
    proto_emit_error(&b, req->msg.root, err);
    room_member_reply(m, &b);
}

void room_req_fail(room_req *req, const char *code, const char *fmt, const char *detail)
{
    proto_error err;

    room_set_error(&err, code, fmt, detail);
    room_req_error(req, &err);
}

static void do_fetch(room *r, room_req *req)
{
    room_member *m = req->m;
    int subscribe = req->action == PROTO_S;
    const room_part *part = req->part.done ? &req->part : NULL;
    room_msg *msg = NULL;
    proto_buf b;

    if (subscribe) {
        m->subscribed = 1;
        m->live = 0;
    }
    proto_buf_init(&b, r->set->cfg.headroom);
    if (!req->has_v) {
        const char *text = part ? room_snapshot_text(r, m->view) : NULL;
        char *snap = NULL;
        /* One reply message per view, shared by every connection asking (room_fanout.c). */
        if (part ? !text || !(snap = strdup(text)) :
                   !(msg = room_snapshot_reply(r, m->view, req->action))) {
            room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            return;
        }
        room_member_push(m, r->doc.v, r->doc.v, r->doc.v, msg, subscribe && !part, part,
                         snap, r->doc.v, r->doc.exists);
        return;
    }
    if (!part) {
        proto_emit_doc_reply(&b, req->action, r->set->cfg.collection, r->id);
        if (!(msg = room_msg_from_buf(&b))) {
            room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            return;
        }
    }
    room_member_push(m, req->v, ROOM_FOLLOW, 0, msg, subscribe, part, NULL, 0, 0);
}

static void do_unsubscribe(room *r, room_req *req)
{
    proto_buf b;

    req->m->subscribed = 0;
    req->m->live = 0;
    proto_buf_init(&b, r->set->cfg.headroom);
    proto_emit_doc_reply(&b, PROTO_U, r->set->cfg.collection, r->id);
    room_member_reply(req->m, &b);
}

void room_dispatch(room *r, room_req *req)
{
    room_set *s = r->set;

    if (s->env.admit) {
        proto_error err;
        if (s->env.admit(s->env.ctx, r->policy, req->m->peer, req->action, req->kind,
                         req->action == PROTO_OP ? req->op : NULL, &req->view, &err) != 0) {
            room_req_error(req, &err);
            room_req_free(req);
            return;
        }
        /* One principal has one view per room: the member streams with it. */
        req->m->view = req->view;
    }
    switch (req->action) {
    case PROTO_F:
    case PROTO_S:
        do_fetch(r, req);
        break;
    case PROTO_U:
        do_unsubscribe(r, req);
        break;
    case PROTO_OP:
        room_submit_queue(r, req);
        return;     /* the submit queue owns it now */
    case PROTO_P:
    case PROTO_PS:
    case PROTO_PU:
    case PROTO_PR:
        if (req->m->peer)
            room_presence_handle(s->presence, req->m->peer, &req->msg, r->policy,
                                 req->view);
        break;
    default:
        break;
    }
    room_req_free(req);
}

/* Files req with its room: queued while the room loads, run at once otherwise. */
static void submit_req(room *r, room_req *req)
{
    room_enter(r);
    if (r->state == ROOM_LOADING) {
        req->next = NULL;
        if (r->waiting_last)
            r->waiting_last->next = req;
        else
            r->waiting = req;
        r->waiting_last = req;
    } else {
        room_dispatch(r, req);
    }
    room_leave(r);
}

static room_req *req_new(room *r, room_peer *p, proto_error *err)
{
    room_req *req = calloc(1, sizeof *req);

    if (!req || !(req->m = room_member_get(r, p))) {
        free(req);
        room_set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
        return NULL;
    }
    req->m->refs++;
    return req;
}

/* Turns an op request into the submit's working state. */
static int req_init_op(room_req *req, room_peer *p, proto_error *err)
{
    const proto_msg *msg = &req->msg;

    req->kind = msg->kind;
    req->seq = msg->seq;
    req->has_v = msg->has_v;
    req->v = msg->v;
    req->based_on = msg->has_v ? msg->v : -1;
    req->src = strdup(msg->src ? msg->src : p->src);
    req->author = strdup(p->principal);
    if (msg->kind == PROTO_EDIT) {
        req->op = cJSON_Duplicate(msg->op, 1);
    } else if (msg->kind == PROTO_CREATE) {
        /* Stored and relayed with the full type URI, as ShareDB normalises it. */
        req->op = doc_create_payload(msg->create_data);
    }
    if (!req->src || !req->author || (msg->kind != PROTO_DEL && !req->op)) {
        room_set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
        return -1;
    }
    return 0;
}

static void reply_unordered_error(room_set *s, room_peer *p, proto_msg *msg,
                                  const proto_error *err)
{
    proto_buf b;

    proto_buf_init(&b, s->cfg.headroom);
    proto_emit_error(&b, msg->root, err);
    room_peer_reply(s, p, &b);
}

void room_request(room_set *s, room_peer *p, proto_msg *msg)
{
    proto_error err;
    room_req *req = NULL;
    room *r;

    if (strcmp(msg->c, s->cfg.collection) != 0) {
        room_set_error(&err, PROTO_ERR_FORBIDDEN, "Unknown collection");
        goto fail;
    }
    r = room_open(s, msg->d, p, &err);
    if (!r)
        goto fail;
    req = req_new(r, p, &err);
    if (!req)
        goto fail_tidy;
    req->action = msg->action;
    req->msg = *msg;
    memset(msg, 0, sizeof *msg);
    req->has_v = req->msg.has_v;
    req->v = req->msg.v;
    if (req->action == PROTO_OP && req_init_op(req, p, &err) != 0) {
        *msg = req->msg;
        memset(&req->msg, 0, sizeof req->msg);
        room_req_free(req);
        goto fail_tidy;
    }
    submit_req(r, req);
    return;
fail_tidy:
    room_tidy(r);
fail:
    reply_unordered_error(s, p, msg, &err);
    proto_msg_free(msg);
}

void room_presence_request(room_set *s, room_peer *p, proto_msg *msg)
{
    proto_error err;
    room_req *req;
    room *r = room_open(s, msg->ch, p, &err);

    if (!r)
        goto fail;
    req = req_new(r, p, &err);
    if (!req) {
        room_tidy(r);
        goto fail;
    }
    req->action = msg->action;
    req->msg = *msg;
    memset(msg, 0, sizeof *msg);
    submit_req(r, req);
    return;
fail:
    reply_unordered_error(s, p, msg, &err);
    proto_msg_free(msg);
}

void room_bulk_part(room_set *s, room_peer *p, proto_action action, const char *doc,
                    int has_v, int64_t v, const room_part *part)
{
    proto_error err;
    room_req *req;
    room *r = room_open(s, doc, p, &err);

    if (!r) {
        part->done(part->arg, doc, -1, &err, 0, 0, NULL);
        return;
    }
    req = req_new(r, p, &err);
    if (req && !(req->doc = strdup(doc))) {
        room_req_free(req);
        req = NULL;
        room_set_error(&err, PROTO_ERR_UNKNOWN, "out of memory");
    }
    if (!req) {
        room_tidy(r);
        part->done(part->arg, doc, -1, &err, 0, 0, NULL);
        return;
    }
    req->action = action;
    req->has_v = has_v;
    req->v = v;
    req->part = *part;
    submit_req(r, req);
}

void room_go_live(room_set *s, room_peer *p, const char *doc, int64_t from)
{
    room *r = room_map_get(&s->rooms, doc);
    room_member *m;

    if (!r)
        return;
    room_enter(r);
    m = room_member_get(r, p);
    if (m) {
        m->subscribed = 1;
        room_member_push(m, from, ROOM_FOLLOW, 0, NULL, 1, NULL, NULL, 0, 0);
    } else {
        room_kill(s, p);
    }
    room_leave(r);
}

void room_unsubscribe(room_set *s, room_peer *p, const char *doc)
{
    room *r = room_map_get(&s->rooms, doc);
    room_member *m;

    if (!r || !(m = room_member_find(r, p)))
        return;
    m->subscribed = 0;
    m->live = 0;
    room_tidy(r);
}
