/*
 * Rooms (see room.h for the invariants). How ordering is kept:
 *
 * Each member (one connection in one room) has a FIFO of items. An item may stream
 * committed ops [cursor, until) to the connection (from the tail, or from the store
 * when the tail no longer holds them), then releases its message once `committed`
 * reaches release_at, and may then make the member live. Live members get every
 * committed op directly, in version order, as the writer reports commits. Because
 * items release in commit order too, a reply never overtakes the ops it depends on.
 *
 * Submits run one at a time per room: the head submit is transformed against the ops
 * applied since its base version (reading older ones from the store if needed; the
 * room waits meanwhile), checked for duplicates on (principal, src, seq), applied,
 * and handed to the writer. Its ack is queued when the writer reports the commit.
 *
 * Re-entrancy: a bulk request's callback may call back into rooms while a room is
 * iterating its members, so members are only freed by tidy() once a room's outermost
 * entry point finishes (depth == 0).
 */
#include "room/room.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_peer.h"
#include "room/room_presence.h"
#include "util/json_print.h"

#define FOLLOW INT64_MAX

enum { LOADING, READY, FAILED };
enum { STEP_DONE, STEP_BLOCKED };
enum { AGAINST_OK, AGAINST_DUP, AGAINST_ERR };

/* One projected op message: for the author's principal (own) or others, per view. */
struct room_op_view {
    struct room_op_view *next;
    int own;
    unsigned view;
    room_msg *msg;
};

/* A snapshot text projected for one view, at the room's snap_v. */
typedef struct room_snap {
    unsigned view;
    char *text;
} room_snap;

struct room_item {
    room_item *next;
    int64_t cursor;         /* next op version to stream */
    int64_t until;          /* stream up to here (exclusive), FOLLOW: up to `committed` */
    int64_t release_at;     /* then release once committed >= release_at */
    room_msg *msg;          /* the reply to queue, or NULL */
    int go_live;
    room_part part;         /* bulk: report here instead of msg */
    char *snap;             /* bulk: the snapshot text for part */
    int64_t snap_v;
    int snap_exists;
    int reading;            /* a store read for this item is in flight */
};

struct room_member {
    room *room;
    room_peer *peer;        /* NULL once the connection left */
    unsigned refs;          /* 1 for the room's list, +1 per request, op and read */
    int subscribed, live;
    int64_t next_v;         /* live: next op version it gets */
    unsigned view;          /* what it may read (room_env.admit) */
    room_item *head, *tail;
    int pumping, repump;
    room_member *next_in_room, *next_in_peer;
};

struct room_req {
    room_req *next;
    room_member *m;         /* counted reference */
    proto_action action;
    proto_msg msg;          /* owned; root NULL for bulk parts */
    char *doc;              /* bulk parts: the document id */
    int has_v;
    int64_t v;
    room_part part;
    /* op */
    int kind;
    cJSON *op;              /* edit: the components, transformed as the room moves on;
                               create: {type, data} */
    char *src, *author;
    int64_t seq;
    int64_t based_on;
    unsigned view;          /* the submitter's, from admit */
};

struct room {
    room_set *set;
    char *id;
    int state;
    doc_state doc;
    int64_t committed;
    int64_t last_ts;
    room_snap *snaps;       /* doc as JSON text at snap_v per view, cached for joiners */
    size_t n_snaps;
    int64_t snap_v;
    void *policy;           /* access policy from the load (a counted reference) */
    int64_t create_v;       /* the latest create op, for resent creates */
    char *create_src, *create_author;
    int64_t create_seq;
    int64_t ms_v;           /* version of the latest milestone (as loaded or handed on) */
    size_t ms_bytes;        /* its text length, 0 when not known */
    size_t bytes_since_ms;  /* op text since it */
    room_op **tail;         /* ring of ops [tail_v0, doc.v) */
    size_t tail_cap, tail_head, tail_len, tail_bytes;
    int64_t tail_v0;
    room_member *members;
    room_req *waiting, *waiting_last;   /* requests that arrived while loading */
    room_req *submits, *submits_last;
    int blocked;            /* the head submit waits for a store read */
    size_t reads;
    int depth;
    int64_t idle_since;     /* -1 while busy */
};

struct room_set {
    room_config cfg;
    room_env env;
    room_map rooms;
    room_presence *presence;
    size_t uncommitted;
};

/* What a bulk request hears about a document whose connection left. */
static const proto_error gone = {PROTO_ERR_UNKNOWN, "The connection closed"};

static void pump(room_member *m);

/* ---- small helpers ---------------------------------------------------------- */

const char *room_id(const room *r)
{
    return r->id;
}

const room_config *room_set_config(const room_set *s)
{
    return &s->cfg;
}

size_t room_set_uncommitted(const room_set *s)
{
    return s->uncommitted;
}

static void set_error(proto_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void kill_peer(room_set *s, room_peer *p)
{
    room_peer_kill(&s->env, p);
}

static int peer_send(room_set *s, room_peer *p, room_msg *m, int live)
{
    return room_peer_push(&s->cfg, &s->env, p, m, live);
}

int room_peer_reply(room_set *s, room_peer *p, proto_buf *b)
{
    return room_peer_push_buf(&s->cfg, &s->env, p, b);
}

static room_msg *build_op_msg(room_set *s, const char *doc, int64_t v, const char *src,
                              int64_t seq, int kind, const char *text)
{
    proto_buf b;

    proto_buf_init(&b, s->cfg.headroom);
    proto_emit_op(&b, s->cfg.collection, doc, v, src, seq, (proto_op_kind)kind, text);
    return room_msg_from_buf(&b);
}

/* The src a connection of principal `to` sees for an op by `author` (see room.h, 4). */
static char *src_for(const char *author, const char *src, const char *to)
{
    char *out;

    if (strcmp(author, to) == 0)
        return strdup(src);
    if (asprintf(&out, "%s/%s", author, src) < 0)
        return NULL;
    return out;
}

/* json_print leaves the slack of its doubling buffer; a text the room keeps (an op in
 * the tail, a cached snapshot) is trimmed to fit. */
static char *text_fit(char *text)
{
    char *fit = text ? realloc(text, strlen(text) + 1) : NULL;

    return fit ? fit : text;
}

/* The op's payload as a tree. An op loaded from the store keeps only its text until a
 * transform or a projection needs the tree: a freshly loaded room would otherwise hold
 * the ops since its milestone twice (a session's create op is its whole template).
 * NULL for a delete, or when memory runs out. */
static const cJSON *op_payload(room_op *op)
{
    if (!op->payload && op->text)
        op->payload = cJSON_Parse(op->text);
    return op->payload;
}

/* The op's payload as `view` may read it, as text (NULL: no memory). */
static char *projected_text(room_set *s, room *r, unsigned view, int kind, const cJSON *payload,
                            const char *text)
{
    cJSON *proj;
    char *out;

    if (!s->env.project || kind == PROTO_DEL ||
        (s->env.projects_whole &&
         s->env.projects_whole(s->env.ctx, r->policy, view, kind, payload)))
        return text ? strdup(text) : NULL;
    proj = s->env.project(s->env.ctx, r->policy, view, kind, payload);
    if (!proj)
        return NULL;
    out = json_print(proj);
    cJSON_Delete(proj);
    return out;
}

/* A message just built for op counts towards the tail's bytes while op is in the tail. */
static void op_count_msg(room *r, room_op *op, const room_msg *msg)
{
    if (msg && op->v >= r->tail_v0) {
        op->bytes += msg->len;
        r->tail_bytes += msg->len;
    }
}

/* With access hooks: the op message per (own, view), built once and shared. */
static room_msg *op_msg_view(room_set *s, room *r, room_op *op, const room_member *m)
{
    int own = strcmp(op->author, m->peer->principal) == 0;
    struct room_op_view *ov;
    char *src, *text;

    for (ov = op->views; ov; ov = ov->next)
        if (ov->own == own && ov->view == m->view)
            return ov->msg;
    ov = calloc(1, sizeof *ov);
    src = src_for(op->author, op->src, m->peer->principal);
    text = op->kind == PROTO_DEL || op_payload(op) ?
           projected_text(s, r, m->view, op->kind, op->payload, op->text) : NULL;
    if (ov && src && (text || op->kind == PROTO_DEL))
        ov->msg = build_op_msg(s, r->id, op->v, src, op->seq, op->kind, text);
    free(src);
    free(text);
    if (!ov || !ov->msg) {
        free(ov);
        return NULL;
    }
    ov->own = own;
    ov->view = m->view;
    ov->next = op->views;
    op->views = ov;
    op_count_msg(r, op, ov->msg);
    return ov->msg;
}

/* The op message for member m's principal, built when first needed, once per op and
 * principal kind. */
static room_msg *op_msg_for(room_set *s, room *r, room_op *op, const room_member *m)
{
    char *src;

    if (s->env.project)
        return op_msg_view(s, r, op, m);
    if (strcmp(op->author, m->peer->principal) == 0) {
        if (!op->msg) {
            op->msg = build_op_msg(s, r->id, op->v, op->src, op->seq, op->kind, op->text);
            op_count_msg(r, op, op->msg);
        }
        return op->msg;
    }
    if (op->foreign)
        return op->foreign;
    src = src_for(op->author, op->src, m->peer->principal);
    if (src)
        op->foreign = build_op_msg(s, r->id, op->v, src, op->seq, op->kind, op->text);
    free(src);
    op_count_msg(r, op, op->foreign);
    return op->foreign;
}

/* Queues op on m's connection; no memory closes the connection. */
static void send_op(room_set *s, room *r, room_op *op, room_member *m, int live)
{
    room_msg *msg = op_msg_for(s, r, op, m);

    if (msg)
        peer_send(s, m->peer, msg, live);
    else
        kill_peer(s, m->peer);
}

static void op_unref(room_op *op)
{
    if (!op || --op->refs > 0)
        return;
    free(op->src);
    free(op->author);
    cJSON_Delete(op->payload);
    free(op->text);
    room_msg_unref(op->msg);
    room_msg_unref(op->foreign);
    while (op->views) {
        struct room_op_view *ov = op->views;
        op->views = ov->next;
        room_msg_unref(ov->msg);
        free(ov);
    }
    free(op);
}

/* ---- the tail ------------------------------------------------------------- */

static room_op *tail_at(const room *r, int64_t v)
{
    return r->tail[(r->tail_head + (size_t)(v - r->tail_v0)) % r->tail_cap];
}

/* Makes room for one more op, so that recording an applied op cannot fail. */
static int tail_reserve(room *r)
{
    size_t cap;
    room_op **ring;

    if (r->tail_len < r->tail_cap)
        return 0;
    cap = r->tail_cap ? r->tail_cap * 2 : 16;
    ring = malloc(cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < r->tail_len; i++)
        ring[i] = r->tail[(r->tail_head + i) % r->tail_cap];
    free(r->tail);
    r->tail = ring;
    r->tail_cap = cap;
    r->tail_head = 0;
    return 0;
}

static void tail_push(room *r, room_op *op)
{
    r->tail[(r->tail_head + r->tail_len) % r->tail_cap] = op;
    r->tail_len++;
    r->tail_bytes += op->bytes;
}

/* Drops committed ops beyond the tail limits; uncommitted ops always stay. */
static void tail_trim(room *r)
{
    const room_config *cfg = &r->set->cfg;

    while (r->tail_len && r->tail_v0 < r->committed &&
           (r->tail_len > cfg->tail_ops || r->tail_bytes > cfg->tail_bytes)) {
        room_op *op = r->tail[r->tail_head];
        r->tail_head = (r->tail_head + 1) % r->tail_cap;
        r->tail_len--;
        r->tail_v0++;
        r->tail_bytes -= op->bytes;
        op_unref(op);
    }
}

/* ---- members and items ------------------------------------------------------ */

static room_member *member_find(room *r, room_peer *p)
{
    for (room_member *m = p->members; m; m = m->next_in_peer)
        if (m->room == r)
            return m;
    return NULL;
}

static room_member *member_get(room *r, room_peer *p)
{
    room_member *m = member_find(r, p);

    if (m)
        return m;
    m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->room = r;
    m->peer = p;
    m->refs = 1;
    m->next_in_room = r->members;
    r->members = m;
    m->next_in_peer = p->members;
    p->members = m;
    return m;
}

static void item_free(room_item *it)
{
    room_msg_unref(it->msg);
    free(it->snap);
    free(it);
}

/* Drops m's pending items; a bulk request waiting on one hears that it failed, so
 * it can finish (and free itself) without this document. */
static void member_drop_items(room_member *m)
{
    while (m->head) {
        room_item *it = m->head;
        m->head = it->next;
        if (it->part.done)
            it->part.done(it->part.arg, m->room->id, -1, &gone, 0, 0, NULL);
        item_free(it);
    }
    m->tail = NULL;
}

static void member_unref(room_member *m)
{
    m->refs--;
}

static void unlink_from_peer(room_member *m)
{
    room_member **pp;

    if (!m->peer)
        return;
    for (pp = &m->peer->members; *pp; pp = &(*pp)->next_in_peer)
        if (*pp == m) {
            *pp = m->next_in_peer;
            break;
        }
    m->peer = NULL;
}

/* Queues an item on m (taking msg) and runs the queue. */
static void member_push(room_member *m, int64_t cursor, int64_t until, int64_t release_at,
                        room_msg *msg, int go_live, const room_part *part, char *snap,
                        int64_t snap_v, int snap_exists)
{
    room_item *it;

    if (!m->peer) {
        room_msg_unref(msg);
        free(snap);
        if (part)
            part->done(part->arg, m->room->id, -1, &gone, 0, 0, NULL);
        return;
    }
    it = calloc(1, sizeof *it);
    if (!it) {
        room_msg_unref(msg);
        free(snap);
        kill_peer(m->room->set, m->peer);
        if (part)
            part->done(part->arg, m->room->id, -1, &gone, 0, 0, NULL);
        return;
    }
    it->cursor = cursor;
    it->until = until;
    it->release_at = release_at;
    it->msg = msg;
    it->go_live = go_live;
    if (part)
        it->part = *part;
    it->snap = snap;
    it->snap_v = snap_v;
    it->snap_exists = snap_exists;
    if (m->tail)
        m->tail->next = it;
    else
        m->head = it;
    m->tail = it;
    pump(m);
}

static void member_send_reply(room_member *m, proto_buf *b)
{
    room_msg *msg = room_msg_from_buf(b);

    if (!msg) {
        if (m->peer)
            kill_peer(m->room->set, m->peer);
        return;
    }
    member_push(m, 0, 0, 0, msg, 0, NULL, NULL, 0, 0);
}

static void stream_row(room_member *m, const room_row *row)
{
    room_set *s = m->room->set;
    char *src = src_for(row->author, row->src, m->peer->principal);
    char *text = projected_text(s, m->room, m->view, row->kind, row->payload, row->text);
    room_msg *msg = src && (text || row->kind == PROTO_DEL) ?
                    build_op_msg(s, m->room->id, row->v, src, row->seq, row->kind, text) : NULL;

    free(src);
    free(text);
    if (!msg) {
        kill_peer(s, m->peer);
        return;
    }
    peer_send(s, m->peer, msg, 0);
    room_msg_unref(msg);
}

/* Runs m's items as far as the room's state allows (see the file comment). */
static void pump(room_member *m)
{
    room *r = m->room;
    room_set *s = r->set;

    if (m->pumping) {
        m->repump = 1;
        return;
    }
    m->pumping = 1;
    do {
        m->repump = 0;
        while (m->head) {
            room_item *it = m->head;
            int64_t end;

            if (!m->peer || m->peer->dead) {
                member_drop_items(m);
                break;
            }
            end = it->until == FOLLOW ? r->committed :
                  (it->until < r->committed ? it->until : r->committed);
            while (it->cursor < end && !it->reading) {
                if (m->peer->dead)
                    goto out;
                if (m->peer->outq.bytes >= s->cfg.outq_max / 2) {
                    m->peer->paused = 1;
                    goto out;
                }
                if (it->cursor >= r->tail_v0) {
                    send_op(s, r, tail_at(r, it->cursor), m, 0);
                    it->cursor++;
                    continue;
                }
                {
                    int64_t to = end < r->tail_v0 ? end : r->tail_v0;
                    it->reading = 1;
                    m->refs++;
                    r->reads++;
                    if (s->env.read_ops(s->env.ctx, r, it->cursor, to, s->cfg.read_chunk,
                                        ROOM_READ_CATCHUP, m) != 0) {
                        it->reading = 0;
                        m->refs--;
                        r->reads--;
                        kill_peer(s, m->peer);
                    }
                }
            }
            if (it->reading)
                goto out;
            if (it->cursor < (it->until == FOLLOW ? r->committed : it->until) ||
                r->committed < it->release_at)
                goto out;
            m->head = it->next;
            if (!m->head)
                m->tail = NULL;
            if (it->msg)
                peer_send(s, m->peer, it->msg, 0);
            if (it->go_live) {
                m->live = 1;
                m->next_v = it->cursor;
            }
            if (it->part.done)
                it->part.done(it->part.arg, r->id, 0, NULL, it->snap_v, it->snap_exists,
                              it->snap);
            item_free(it);
        }
    } while (m->repump);
out:
    m->pumping = 0;
}

/* ---- requests ------------------------------------------------------------- */

static void req_free(room_req *req)
{
    if (req->m)
        member_unref(req->m);
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
static void req_error(room_req *req, const proto_error *err)
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
    member_send_reply(m, &b);
}

static void req_fail(room_req *req, const char *code, const char *fmt, const char *detail)
{
    proto_error err;

    set_error(&err, code, fmt, detail);
    req_error(req, &err);
}

static void snaps_clear(room *r)
{
    for (size_t i = 0; i < r->n_snaps; i++)
        free(r->snaps[i].text);
    free(r->snaps);
    r->snaps = NULL;
    r->n_snaps = 0;
}

/* The document as `view` may read it, as JSON text, cached per view until it moves. */
static const char *snapshot_text(room *r, unsigned view)
{
    room_set *s = r->set;
    room_snap *grown;
    char *text;

    if (r->snap_v != r->doc.v)
        snaps_clear(r);
    r->snap_v = r->doc.v;
    for (size_t i = 0; i < r->n_snaps; i++)
        if (r->snaps[i].view == view)
            return r->snaps[i].text;
    if (s->env.project && r->doc.exists) {
        cJSON *proj = s->env.project(s->env.ctx, r->policy, view, ROOM_SNAPSHOT, r->doc.data);
        text = proj ? json_print(proj) : NULL;
        cJSON_Delete(proj);
    } else {
        text = doc_text(&r->doc);
    }
    text = text_fit(text);
    grown = text ? realloc(r->snaps, (r->n_snaps + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        return NULL;
    }
    r->snaps = grown;
    r->snaps[r->n_snaps].view = view;
    r->snaps[r->n_snaps].text = text;
    return r->snaps[r->n_snaps++].text;
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
        const char *text = snapshot_text(r, m->view);
        char *snap = NULL;
        if (!text || (part && !(snap = strdup(text)))) {
            req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            return;
        }
        if (!part) {
            proto_emit_snapshot_reply(&b, req->action, r->set->cfg.collection, r->id,
                                      r->doc.v, r->doc.exists, text);
            if (!(msg = room_msg_from_buf(&b))) {
                req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
                return;
            }
        }
        member_push(m, r->doc.v, r->doc.v, r->doc.v, msg, subscribe && !part, part, snap,
                    r->doc.v, r->doc.exists);
        return;
    }
    if (!part) {
        proto_emit_doc_reply(&b, req->action, r->set->cfg.collection, r->id);
        if (!(msg = room_msg_from_buf(&b))) {
            req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            return;
        }
    }
    member_push(m, req->v, FOLLOW, 0, msg, subscribe, part, NULL, 0, 0);
}

static void do_unsubscribe(room *r, room_req *req)
{
    proto_buf b;

    req->m->subscribed = 0;
    req->m->live = 0;
    proto_buf_init(&b, r->set->cfg.headroom);
    proto_emit_doc_reply(&b, PROTO_U, r->set->cfg.collection, r->id);
    member_send_reply(req->m, &b);
}

/* Queues the ack for the op the member submitted at version v (fresh or resent).
 * A member that is not live has not seen the ops between its base and v: they are
 * streamed first, as ShareDB sends the submitter the ops it is missing. */
static void queue_ack(room_member *m, const char *src, int64_t seq, int64_t based_on,
                      int64_t v)
{
    room *r = m->room;
    room_msg *msg;
    proto_buf b;

    if (!m->peer)
        return;
    proto_buf_init(&b, r->set->cfg.headroom);
    proto_emit_ack(&b, r->set->cfg.collection, r->id, src, seq, v);
    msg = room_msg_from_buf(&b);
    if (!msg) {
        kill_peer(r->set, m->peer);
        return;
    }
    if (m->live || based_on < 0 || based_on >= v)
        member_push(m, 0, 0, v + 1, msg, 0, NULL, NULL, 0, 0);
    else
        member_push(m, based_on, v, v + 1, msg, 0, NULL, NULL, 0, 0);
}

static int same_submitter(const room_req *req, const char *author, const char *src,
                          int64_t seq)
{
    return seq == req->seq && strcmp(src, req->src) == 0 && strcmp(author, req->author) == 0;
}

/* Moves req past one op committed before it (ShareDB's ot.transform, left side). */
static int against(room_req *req, int kind, const char *src, int64_t seq,
                   const char *author, const cJSON *payload)
{
    proto_error err;
    ot_error oerr = {""};
    cJSON *t;

    if (same_submitter(req, author, src, seq))
        return AGAINST_DUP;
    switch (kind) {
    case PROTO_DEL:
        if (req->kind == PROTO_DEL)
            return AGAINST_OK;
        set_error(&err, PROTO_ERR_WAS_DELETED, "Document was deleted");
        break;
    case PROTO_CREATE:
        set_error(&err, PROTO_ERR_ALREADY_CREATED, "Document was created remotely");
        break;
    default:
        if (req->kind == PROTO_DEL)
            return AGAINST_OK;
        if (req->kind == PROTO_CREATE) {
            set_error(&err, PROTO_ERR_ALREADY_CREATED, "Document was created remotely");
            break;
        }
        if (!payload) {
            set_error(&err, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            break;
        }
        t = ot_transform(req->op, payload, OT_LEFT, &oerr);
        if (!t) {
            set_error(&err, PROTO_ERR_REJECTED, "%s", oerr.message);
            break;
        }
        cJSON_Delete(req->op);
        req->op = t;
        return AGAINST_OK;
    }
    req_error(req, &err);
    return AGAINST_ERR;
}

/* Whether to store the document with the op just applied (see room_config). Storing
 * a document of D bytes costs about D; replaying ops costs about their text, so a
 * milestone waits for a quarter of the last one's size in op text: storing stays within
 * four times the op text written, and a rebuild replays at most a quarter of the
 * document's size in ops (and fewer than milestone_every ops for small documents). */
static int milestone_due(const room *r)
{
    return r->doc.v - r->ms_v >= r->set->cfg.milestone_every &&
           r->bytes_since_ms >= r->ms_bytes / 4;
}

/* What an op of a wire kind does to the document. */
static doc_op_kind doc_kind(proto_op_kind kind)
{
    switch (kind) {
    case PROTO_CREATE: return DOC_OP_CREATE;
    case PROTO_DEL: return DOC_OP_DEL;
    default: return DOC_OP_EDIT;
    }
}

static void apply_submit(room *r, room_req *req)
{
    room_set *s = r->set;
    room_op *op = calloc(1, sizeof *op);
    char *milestone = NULL;
    ot_error oerr = {""};
    int rc;

    if (!op)
        goto nomem;
    op->refs = 1;
    op->v = r->doc.v;
    op->kind = req->kind;
    op->seq = req->seq;
    op->src = strdup(req->src);
    op->author = strdup(req->author);
    if (req->kind != PROTO_DEL && !(op->text = text_fit(json_print(req->op))))
        goto nomem;
    if (!op->src || !op->author || tail_reserve(r) != 0)
        goto nomem;
    if (s->env.check_write && req->kind == PROTO_EDIT) {
        proto_error err;
        if (s->env.check_write(s->env.ctx, r->policy, req->view, req->op, r->doc.data,
                               &err) != 0) {
            op_unref(op);
            req_error(req, &err);
            return;
        }
    }
    rc = doc_apply(&r->doc, doc_kind(req->kind), req->op, &oerr);
    if (rc != DOC_OK) {
        op_unref(op);
        if (rc == DOC_EXISTS)
            req_fail(req, PROTO_ERR_ALREADY_CREATED, "%s",
                     "Invalid op submitted. Document already created");
        else if (rc == DOC_MISSING)
            req_fail(req, PROTO_ERR_DOES_NOT_EXIST, "%s", "Document does not exist");
        else if (rc == DOC_OT)
            req_fail(req, PROTO_ERR_REJECTED, "%s", oerr.message);
        else
            req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
        return;
    }
    op->payload = req->op;
    req->op = NULL;
    op->ts = s->env.now_ms(s->env.ctx);
    if (op->ts < r->last_ts)
        op->ts = r->last_ts;    /* per-document commit times never go back (nt relies on it) */
    r->last_ts = op->ts;
    op->by = req->m;
    req->m = NULL;
    op->based_on = req->based_on;
    op->bytes = sizeof *op + (op->text ? strlen(op->text) : 0);
    if (op->kind == PROTO_CREATE) {
        free(r->create_src);
        free(r->create_author);
        r->create_v = op->v;
        r->create_src = strdup(op->src);
        r->create_author = strdup(op->author);
        r->create_seq = op->seq;
    }
    tail_push(r, op);
    r->bytes_since_ms += op->text ? strlen(op->text) : 0;
    if (milestone_due(r)) {
        milestone = doc_text(&r->doc);
        if (milestone) {
            r->ms_v = r->doc.v;
            r->ms_bytes = strlen(milestone);
            r->bytes_since_ms = 0;
        }
    }
    s->uncommitted++;
    s->env.commit(s->env.ctx, r, op, milestone);
    return;
nomem:
    op_unref(op);
    req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
}

static int submit_step(room *r, room_req *req)
{
    room_set *s = r->set;

    if (req->kind == PROTO_CREATE && !req->has_v && r->doc.exists) {
        /* A create resent without a version: acknowledged only if it is the one that
         * created the document (ShareDB's snapshot.m._create check). */
        if (r->create_v >= 0 && same_submitter(req, r->create_author, r->create_src,
                                               r->create_seq))
            queue_ack(req->m, req->src, req->seq, -1, r->create_v);
        else
            req_fail(req, PROTO_ERR_ALREADY_CREATED, "%s",
                     "Invalid op submitted. Document already created");
        return STEP_DONE;
    }
    if (!req->has_v) {
        req->has_v = 1;
        req->v = r->doc.v;
        req->based_on = -1;
    }
    if (req->v > r->doc.v) {
        req_fail(req, PROTO_ERR_NEWER, "%s",
                 "Invalid op submitted. Op version newer than current snapshot");
        return STEP_DONE;
    }
    while (req->v < r->doc.v) {
        room_op *op;
        if (req->v < r->tail_v0) {
            r->blocked = 1;
            r->reads++;
            if (s->env.read_ops(s->env.ctx, r, req->v, r->tail_v0, s->cfg.read_chunk,
                                ROOM_READ_SUBMIT, req) != 0) {
                r->blocked = 0;
                r->reads--;
                req_fail(req, PROTO_ERR_UNKNOWN, "%s", "history is not readable");
                return STEP_DONE;
            }
            return STEP_BLOCKED;
        }
        op = tail_at(r, req->v);
        switch (against(req, op->kind, op->src, op->seq, op->author, op_payload(op))) {
        case AGAINST_DUP:
            queue_ack(req->m, req->src, req->seq, req->based_on, op->v);
            return STEP_DONE;
        case AGAINST_ERR:
            return STEP_DONE;
        }
        req->v++;
    }
    apply_submit(r, req);
    return STEP_DONE;
}

static void process_submits(room *r)
{
    while (r->state == READY && !r->blocked && r->submits) {
        room_req *req = r->submits;
        if (submit_step(r, req) == STEP_BLOCKED)
            return;
        r->submits = req->next;
        if (!r->submits)
            r->submits_last = NULL;
        req_free(req);
    }
}

static void queue_submit(room *r, room_req *req)
{
    req->next = NULL;
    if (r->submits_last)
        r->submits_last->next = req;
    else
        r->submits = req;
    r->submits_last = req;
    process_submits(r);
}

static void dispatch(room *r, room_req *req)
{
    room_set *s = r->set;

    if (s->env.admit) {
        proto_error err;
        if (s->env.admit(s->env.ctx, r->policy, req->m->peer, req->action, req->kind,
                         req->action == PROTO_OP ? req->op : NULL, &req->view, &err) != 0) {
            req_error(req, &err);
            req_free(req);
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
        queue_submit(r, req);
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
    req_free(req);
}

/* ---- rooms ----------------------------------------------------------------- */

static void room_free(room *r)
{
    while (r->members) {
        room_member *m = r->members;
        r->members = m->next_in_room;
        unlink_from_peer(m);
        member_drop_items(m);
        free(m);
    }
    for (size_t i = 0; i < r->tail_len; i++)
        op_unref(r->tail[(r->tail_head + i) % r->tail_cap]);
    free(r->tail);
    while (r->waiting) {
        room_req *req = r->waiting;
        r->waiting = req->next;
        req->m = NULL;
        req_free(req);
    }
    while (r->submits) {
        room_req *req = r->submits;
        r->submits = req->next;
        req->m = NULL;
        req_free(req);
    }
    doc_clear(&r->doc);
    snaps_clear(r);
    if (r->policy && r->set->env.policy_unref)
        r->set->env.policy_unref(r->policy);
    free(r->create_src);
    free(r->create_author);
    free(r->id);
    free(r);
}

static int room_is_idle(const room *r)
{
    return !r->members && !r->waiting && !r->submits && !r->reads &&
           r->committed == r->doc.v;
}

/* Frees members nobody needs any more and notes when the room became idle. */
static void tidy(room *r)
{
    room_member **pp = &r->members;

    if (r->depth > 0)
        return;
    while (*pp) {
        room_member *m = *pp;
        int unused = m->refs == 1 && !m->head && (!m->peer || (!m->subscribed && !m->live));
        if (!unused) {
            pp = &m->next_in_room;
            continue;
        }
        *pp = m->next_in_room;
        unlink_from_peer(m);
        free(m);
    }
    if (!room_is_idle(r))
        r->idle_since = -1;
    else if (r->idle_since < 0)
        r->idle_since = r->set->env.now_ms(r->set->env.ctx);
}

static void evict(room_set *s, room *r)
{
    room_map_del(&s->rooms, r->id);
    room_free(r);
}

static room *room_get(room_set *s, const char *id, proto_error *err)
{
    room *r = room_map_get(&s->rooms, id);

    if (r && r->state == FAILED && room_is_idle(r)) {
        evict(s, r);
        r = NULL;
    }
    if (r)
        return r;
    if (s->rooms.count >= s->cfg.max_rooms)
        room_set_sweep(s, 0, -1);
    if (s->rooms.count >= s->cfg.max_rooms) {
        set_error(err, PROTO_ERR_TOO_MANY_ROOMS, "The server holds its maximum of %zu rooms",
                  s->cfg.max_rooms);
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (!r || !(r->id = strdup(id)) || room_map_put(&s->rooms, r->id, r) != 0) {
        if (r)
            free(r->id);
        free(r);
        set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
        return NULL;
    }
    r->set = s;
    r->state = LOADING;
    r->create_v = -1;
    r->idle_since = -1;
    doc_init(&r->doc);
    if (s->env.load(s->env.ctx, r) != 0) {
        evict(s, r);
        set_error(err, PROTO_ERR_UNKNOWN, "The document cannot be loaded");
        return NULL;
    }
    return r;
}

static void enter(room *r)
{
    r->depth++;
}

static void leave(room *r)
{
    r->depth--;
    tidy(r);
}

/* Files req with its room: queued while the room loads, run at once otherwise. */
static void submit_req(room *r, room_req *req)
{
    enter(r);
    if (r->state == LOADING) {
        req->next = NULL;
        if (r->waiting_last)
            r->waiting_last->next = req;
        else
            r->waiting = req;
        r->waiting_last = req;
    } else {
        dispatch(r, req);
    }
    leave(r);
}

static room_req *req_new(room *r, room_peer *p, proto_error *err)
{
    room_req *req = calloc(1, sizeof *req);

    if (!req || !(req->m = member_get(r, p))) {
        free(req);
        set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
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
        set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
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
        set_error(&err, PROTO_ERR_FORBIDDEN, "Unknown collection");
        goto fail;
    }
    r = room_get(s, msg->d, &err);
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
        req_free(req);
        goto fail_tidy;
    }
    submit_req(r, req);
    return;
fail_tidy:
    tidy(r);
fail:
    reply_unordered_error(s, p, msg, &err);
    proto_msg_free(msg);
}

void room_presence_request(room_set *s, room_peer *p, proto_msg *msg)
{
    proto_error err;
    room_req *req;
    room *r = room_get(s, msg->ch, &err);

    if (!r)
        goto fail;
    req = req_new(r, p, &err);
    if (!req) {
        tidy(r);
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

void *room_policy(room_set *s, const char *id)
{
    room *r = room_map_get(&s->rooms, id);

    return r ? r->policy : NULL;
}

void room_bulk_part(room_set *s, room_peer *p, proto_action action, const char *doc,
                    int has_v, int64_t v, const room_part *part)
{
    proto_error err;
    room_req *req;
    room *r = room_get(s, doc, &err);

    if (!r) {
        part->done(part->arg, doc, -1, &err, 0, 0, NULL);
        return;
    }
    req = req_new(r, p, &err);
    if (req && !(req->doc = strdup(doc))) {
        req_free(req);
        req = NULL;
        set_error(&err, PROTO_ERR_UNKNOWN, "out of memory");
    }
    if (!req) {
        tidy(r);
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
    enter(r);
    m = member_get(r, p);
    if (m) {
        m->subscribed = 1;
        member_push(m, from, FOLLOW, 0, NULL, 1, NULL, NULL, 0, 0);
    } else {
        kill_peer(s, p);
    }
    leave(r);
}

void room_unsubscribe(room_set *s, room_peer *p, const char *doc)
{
    room *r = room_map_get(&s->rooms, doc);
    room_member *m;

    if (!r || !(m = member_find(r, p)))
        return;
    m->subscribed = 0;
    m->live = 0;
    tidy(r);
}

void room_peer_detach(room_set *s, room_peer *p)
{
    room_member *m;

    room_presence_leave(s->presence, p);
    while ((m = p->members)) {
        room *r = m->room;
        p->members = m->next_in_peer;
        m->peer = NULL;
        m->subscribed = m->live = 0;
        member_drop_items(m);
        tidy(r);
    }
    room_outq_clear(&p->outq);
}

void room_peer_drained(room_set *s, room_peer *p)
{
    (void)s;
    if (!p->paused)
        return;
    p->paused = 0;
    for (room_member *m = p->members; m; m = m->next_in_peer)
        if (m->head) {
            room *r = m->room;
            enter(r);
            pump(m);
            leave(r);
            if (p->paused)
                break;
        }
}

static room_op *op_from_row(room_row *row)
{
    room_op *op = calloc(1, sizeof *op);

    if (!op)
        return NULL;
    op->refs = 1;
    op->v = row->v;
    op->kind = row->kind;
    op->seq = row->seq;
    op->ts = row->ts;
    op->src = strdup(row->src);
    op->author = strdup(row->author);
    op->text = row->text ? strdup(row->text) : NULL;
    op->based_on = -1;
    if (!op->src || !op->author || (row->text && !op->text)) {
        op_unref(op);
        return NULL;
    }
    op->bytes = sizeof *op + (op->text ? strlen(op->text) : 0);
    return op;
}

void room_loaded(room *r, room_load *load)
{
    int status = load->status;

    enter(r);
    r->policy = load->policy;
    load->policy = NULL;
    if (status == 0) {
        r->doc = *load->doc;
        doc_init(load->doc);
        r->committed = r->doc.v;
        r->last_ts = load->last_ts;
        r->tail_v0 = load->n ? load->rows[0].v : r->doc.v;
        /* The document was rebuilt from the milestone the rows follow; its size is not
         * known, so the next milestone is due after milestone_every versions. */
        r->ms_v = r->tail_v0;
        r->ms_bytes = 0;
        r->bytes_since_ms = 0;
        for (size_t i = 0; i < load->n; i++)
            r->bytes_since_ms += load->rows[i].text ? strlen(load->rows[i].text) : 0;
        for (size_t i = 0; i < load->n && status == 0; i++) {
            room_op *op = op_from_row(&load->rows[i]);
            if (!op || tail_reserve(r) != 0) {
                op_unref(op);
                status = -1;
            } else {
                tail_push(r, op);
            }
        }
        if (status == 0 && r->tail_v0 + (int64_t)r->tail_len != r->doc.v)
            status = -1;
        r->create_v = load->create_v;
        if (load->create_v >= 0) {
            r->create_src = strdup(load->create_src);
            r->create_author = strdup(load->create_author);
            r->create_seq = load->create_seq;
            if (!r->create_src || !r->create_author)
                status = -1;
        }
        tail_trim(r);
    }
    r->state = status == 0 ? READY : FAILED;
    while (r->waiting) {
        room_req *req = r->waiting;
        r->waiting = req->next;
        if (!r->waiting)
            r->waiting_last = NULL;
        if (r->state == READY) {
            dispatch(r, req);
        } else {
            req_fail(req, PROTO_ERR_UNKNOWN, "%s", "The document cannot be loaded");
            req_free(req);
        }
    }
    leave(r);
}

void room_read_done(room *r, int purpose, void *tag, int status, room_row *rows, size_t n)
{
    room_set *s = r->set;

    enter(r);
    r->reads--;
    if (purpose == ROOM_READ_CATCHUP) {
        room_member *m = tag;
        room_item *it = m->head;
        member_unref(m);
        if (it && it->reading && m->peer) {
            it->reading = 0;
            if (status != 0) {
                kill_peer(s, m->peer);
            } else {
                for (size_t i = 0; i < n && !m->peer->dead; i++)
                    if (rows[i].v == it->cursor) {
                        stream_row(m, &rows[i]);
                        it->cursor++;
                    }
                if (n == 0)
                    kill_peer(s, m->peer);   /* the log lacks ops it must have */
            }
            pump(m);
        }
        leave(r);
        return;
    }
    {
        room_req *req = tag;
        int done = 0;
        r->blocked = 0;
        if (status != 0 || n == 0) {
            req_fail(req, PROTO_ERR_UNKNOWN, "%s", "history is not readable");
            done = 1;
        }
        for (size_t i = 0; i < n && !done; i++) {
            if (rows[i].v != req->v)
                continue;
            switch (against(req, rows[i].kind, rows[i].src, rows[i].seq, rows[i].author,
                            rows[i].payload)) {
            case AGAINST_DUP:
                queue_ack(req->m, req->src, req->seq, req->based_on, rows[i].v);
                done = 1;
                break;
            case AGAINST_ERR:
                done = 1;
                break;
            default:
                req->v++;
            }
        }
        if (done) {
            r->submits = req->next;
            if (!r->submits)
                r->submits_last = NULL;
            req_free(req);
        }
        process_submits(r);
    }
    leave(r);
}

void room_committed(room *r, int status)
{
    room_set *s = r->set;
    room_member *m, *next;
    room_op *op;

    if (status != 0 || r->committed >= r->doc.v)
        return;
    enter(r);
    op = tail_at(r, r->committed);
    r->committed++;
    s->uncommitted--;
    for (m = r->members; m; m = m->next_in_room)
        if (m->peer && m->live && op->v >= m->next_v) {
            if (m != op->by)
                send_op(s, r, op, m, 1);
            m->next_v = op->v + 1;
        }
    if (op->by) {
        m = op->by;
        op->by = NULL;
        queue_ack(m, op->src, op->seq, op->based_on, op->v);
        member_unref(m);
    }
    for (m = r->members; m; m = next) {
        next = m->next_in_room;
        if (m->head)
            pump(m);
    }
    tail_trim(r);
    leave(r);
}

/* ---- the set ----------------------------------------------------------------- */

room_set *room_set_new(const room_config *cfg, const room_env *env)
{
    room_set *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (s->cfg.milestone_every < 1)
        s->cfg.milestone_every = 1;
    if (s->cfg.read_chunk < 1)
        s->cfg.read_chunk = 1;
    s->env = *env;
    room_map_init(&s->rooms);
    s->presence = room_presence_new(&s->cfg, &s->env);
    if (!s->presence) {
        free(s);
        return NULL;
    }
    return s;
}

void room_set_free(room_set *s)
{
    size_t pos = 0;
    room *r;

    if (!s)
        return;
    while ((r = room_map_next(&s->rooms, &pos)))
        room_free(r);
    room_map_clear(&s->rooms);
    room_presence_free(s->presence);
    free(s);
}

void room_set_sweep(room_set *s, int64_t now, int64_t idle_ms)
{
    size_t pos = 0;
    room *r;

    while ((r = room_map_next(&s->rooms, &pos))) {
        int stale = idle_ms < 0 || (r->idle_since >= 0 && now - r->idle_since >= idle_ms);
        if (r->depth == 0 && room_is_idle(r) && r->state != LOADING && stale)
            evict(s, r);
    }
}
