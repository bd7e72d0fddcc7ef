/*
 * What each member receives, and committed ops going out. An op message depends on
 * who receives it: its src is qualified by the author for other principals (room.h,
 * invariant 4), and with access hooks its payload is projected for the receiver's
 * view. Each form is built the first time a member needs it and shared by every
 * member that needs the same one (refcounted room_msg), so an op costs one message per
 * (own, view) however many members receive it; an op a view reads whole is relayed as
 * its own text, never projected and printed again. Snapshots are cached per view the
 * same way until the document moves, and so are the f and s replies carrying them:
 * however many connections ask for a document, its snapshot is in memory once per view.
 *
 * room_committed() is where an op goes out: to each live member (never echoed to its
 * submitter's member), then the submitter's ack, then every member's queue runs on. A
 * live member whose view needs a projection the op's frame lacks (its view came after
 * the op applied) stops being live and catches up from the store from that op on.
 *
 * Invariants: nothing derived from an uncommitted op leaves here (room.h, invariant
 * 2); the messages built for an op count towards the tail's bytes while it is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_internal.h"
#include "util/json_print.h"

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

/* The op's payload as `view` may read it, as text; NULL with *needs_doc when the
 * projection needs the document before the op and neither frame nor doc has it, NULL
 * otherwise when memory runs out. */
static char *projected_text(room_set *s, room *r, unsigned view, int kind,
                            const cJSON *payload, const char *text, void *frame,
                            const cJSON *doc, int *needs_doc)
{
    *needs_doc = 0;
    if (!s->env.project || kind == PROTO_DEL ||
        (s->env.projects_whole &&
         s->env.projects_whole(s->env.ctx, r->policy, view, kind, payload, frame)))
        return text ? strdup(text) : NULL;
    return s->env.project(s->env.ctx, r->policy, view, kind, payload, frame, doc, needs_doc);
}

/* A message just built for op counts towards the tail's bytes while op is in the tail. */
static void op_count_msg(room *r, room_op *op, const room_msg *msg)
{
    if (msg && op->v >= r->tail_v0) {
        op->bytes += msg->len;
        r->tail_bytes += msg->len;
    }
}

/* With access hooks: the op message per (own, view), built once and shared; NULL with
 * *needs_doc (see projected_text), or NULL (memory). */
static room_msg *op_msg_view(room_set *s, room *r, room_op *op, const room_member *m,
                             int *needs_doc)
{
    int own = strcmp(op->author, m->peer->principal) == 0;
    struct room_op_view *ov;
    char *src, *text;

    *needs_doc = 0;
    for (ov = op->views; ov; ov = ov->next)
        if (ov->own == own && ov->view == m->view)
            return ov->msg;
    text = op->kind == PROTO_DEL || room_op_payload(op) ?
           projected_text(s, r, m->view, op->kind, op->payload, op->text, op->frame, NULL,
                          needs_doc) : NULL;
    if (*needs_doc)
        return NULL;
    ov = calloc(1, sizeof *ov);
    src = src_for(op->author, op->src, m->peer->principal);
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
static room_msg *op_msg_for(room_set *s, room *r, room_op *op, const room_member *m,
                            int *needs_doc)
{
    char *src;

    *needs_doc = 0;
    if (s->env.project)
        return op_msg_view(s, r, op, m, needs_doc);
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
int room_send_op(room_set *s, room *r, room_op *op, room_member *m)
{
    int needs_doc;
    room_msg *msg = op_msg_for(s, r, op, m, &needs_doc);

    if (msg)
        room_send(s, m->peer, msg);
    else if (needs_doc)
        return ROOM_NEEDS_DOC;
    else
        room_kill(s, m->peer);
    return 0;
}

/* Queues a stored op (catch-up from the store) on m's connection. */
void room_stream_row(room_member *m, const room_row *row, void *frame, const cJSON *doc)
{
    room_set *s = m->room->set;
    int needs_doc;
    char *src = src_for(row->author, row->src, m->peer->principal);
    char *text = projected_text(s, m->room, m->view, row->kind, row->payload, row->text,
                                frame, doc, &needs_doc);
    room_msg *msg = src && (text || row->kind == PROTO_DEL) ?
                    build_op_msg(s, m->room->id, row->v, src, row->seq, row->kind, text) : NULL;

    free(src);
    free(text);
    if (!msg) {
        room_kill(s, m->peer);
        return;
    }
    room_send(s, m->peer, msg);
    room_msg_unref(msg);
}

void room_snaps_clear(room *r)
{
    for (size_t i = 0; i < r->n_snaps; i++) {
        free(r->snaps[i].text);
        room_msg_unref(r->snaps[i].reply_f);
        room_msg_unref(r->snaps[i].reply_s);
    }
    free(r->snaps);
    r->snaps = NULL;
    r->n_snaps = 0;
}

/* The document as `view` may read it, as JSON text, cached per view until it moves. */
const char *room_snapshot_text(room *r, unsigned view)
{
    room_set *s = r->set;
    room_snap *grown;
    char *text;

    if (r->snap_v != r->doc.v)
        room_snaps_clear(r);
    r->snap_v = r->doc.v;
    for (size_t i = 0; i < r->n_snaps; i++)
        if (r->snaps[i].view == view)
            return r->snaps[i].text;
    if (s->env.project && r->doc.exists) {
        int needs_doc;
        text = s->env.project(s->env.ctx, r->policy, view, ROOM_SNAPSHOT, r->doc.data, NULL,
                              NULL, &needs_doc);
    } else {
        text = doc_text(&r->doc);
    }
    text = room_text_fit(text);
    grown = text ? realloc(r->snaps, (r->n_snaps + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        return NULL;
    }
    r->snaps = grown;
    memset(&r->snaps[r->n_snaps], 0, sizeof r->snaps[r->n_snaps]);
    r->snaps[r->n_snaps].view = view;
    r->snaps[r->n_snaps].text = text;
    return r->snaps[r->n_snaps++].text;
}

room_msg *room_snapshot_reply(room *r, unsigned view, proto_action action)
{
    const char *text = room_snapshot_text(r, view);
    room_snap *snap = NULL;
    room_msg **slot;
    proto_buf b;

    if (!text)
        return NULL;
    for (size_t i = 0; i < r->n_snaps && !snap; i++)
        if (r->snaps[i].view == view)
            snap = &r->snaps[i];
    slot = action == PROTO_S ? &snap->reply_s : &snap->reply_f;
    if (!*slot) {
        proto_buf_init(&b, r->set->cfg.headroom);
        proto_emit_snapshot_reply(&b, action, r->set->cfg.collection, r->id, r->doc.v,
                                  r->doc.exists, text);
        *slot = room_msg_from_buf(&b);
    }
    return *slot ? room_msg_ref(*slot) : NULL;
}

/* The oldest uncommitted op is durable: it goes out (see the file comment). */
void room_committed(room *r, int status)
{
    room_set *s = r->set;
    room_member *m, *next;
    room_op *op;

    if (status != 0 || r->committed >= r->doc.v)
        return;
    room_enter(r);
    op = room_tail_at(r, r->committed);
    r->committed++;
    s->uncommitted--;
    for (m = r->members; m; m = m->next_in_room)
        if (m->peer && m->live && op->v >= m->next_v) {
            if (m != op->by && room_send_op(s, r, op, m) == ROOM_NEEDS_DOC) {
                room_member_refetch(m, op->v);
                continue;
            }
            m->next_v = op->v + 1;
        }
    if (op->by) {
        m = op->by;
        op->by = NULL;
        room_submit_ack(m, op->src, op->seq, op->based_on, op->v);
        room_member_unref(m);
    }
    for (m = r->members; m; m = next) {
        next = m->next_in_room;
        if (m->head)
            room_pump(m);
    }
    room_tail_trim(r);
    room_leave(r);
}
