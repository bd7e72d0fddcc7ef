/*
 * Members and the order of their replies (see room_internal.h for the items). A
 * member is one connection in one room: whether it subscribed, whether it is live
 * (gets committed ops as they commit) and the FIFO of items that orders everything
 * else it is sent. room_pump() runs the FIFO as far as the room's state allows:
 * streaming committed ops from the tail, reading older ones from the store (catch-up),
 * releasing each reply once the version it reflects is committed.
 *
 * Invariants: a member receives every op from the version its items start at, in
 * order, exactly once; a connection whose queue reaches half the limit pauses its
 * catch-ups (room_peer_drained() resumes them) rather than growing; at most one store
 * read per item is in flight, and the member is kept (refs) until it comes back.
 */
#include "room/room_internal.h"

#include <stdlib.h>
#include <string.h>

/* What a bulk request hears about a document whose connection left. */
static const proto_error gone = {PROTO_ERR_UNKNOWN, "The connection closed"};

room_member *room_member_find(room *r, room_peer *p)
{
    for (room_member *m = p->members; m; m = m->next_in_peer)
        if (m->room == r)
            return m;
    return NULL;
}

room_member *room_member_get(room *r, room_peer *p)
{
    room_member *m = room_member_find(r, p);

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
void room_member_drop_items(room_member *m)
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

void room_member_unlink(room_member *m)
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

/* Queues an item on m (taking msg and snap) and runs the queue. */
void room_member_push(room_member *m, int64_t cursor, int64_t until, int64_t release_at,
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
        room_kill(m->room->set, m->peer);
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
    room_pump(m);
}

void room_member_reply(room_member *m, proto_buf *b)
{
    room_msg *msg = room_msg_from_buf(b);

    if (!msg) {
        if (m->peer)
            room_kill(m->room->set, m->peer);
        return;
    }
    room_member_push(m, 0, 0, 0, msg, 0, NULL, NULL, 0, 0);
}

/* Runs m's items as far as the room's state allows (see room_internal.h). */
void room_pump(room_member *m)
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
                room_member_drop_items(m);
                break;
            }
            end = it->until == ROOM_FOLLOW ? r->committed :
                  (it->until < r->committed ? it->until : r->committed);
            while (it->cursor < end && !it->reading) {
                if (m->peer->dead)
                    goto out;
                if (m->peer->outq.bytes >= s->cfg.outq_max / 2) {
                    m->peer->paused = 1;
                    goto out;
                }
                if (it->cursor >= r->tail_v0 && !it->from_store) {
                    if (room_send_op(s, r, room_tail_at(r, it->cursor), m) == ROOM_NEEDS_DOC)
                        it->from_store = 1;
                    else
                        it->cursor++;
                    continue;
                }
                {
                    int64_t to = it->from_store || end < r->tail_v0 ? end : r->tail_v0;
                    it->reading = 1;
                    m->refs++;
                    r->reads++;
                    if (s->env.read_ops(s->env.ctx, r, it->cursor, to, s->cfg.read_chunk,
                                        s->env.project != NULL, ROOM_READ_CATCHUP, m) != 0) {
                        it->reading = 0;
                        m->refs--;
                        r->reads--;
                        room_kill(s, m->peer);
                    }
                }
            }
            if (it->reading)
                goto out;
            if (it->cursor < (it->until == ROOM_FOLLOW ? r->committed : it->until) ||
                r->committed < it->release_at)
                goto out;
            m->head = it->next;
            if (!m->head)
                m->tail = NULL;
            if (it->msg)
                room_send(s, m->peer, it->msg);
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

/* The frame of the op at version v when the tail holds it, else NULL. */
static void *frame_at(const room *r, int64_t v)
{
    return v >= r->tail_v0 && v < r->tail_v0 + (int64_t)r->tail_len ?
           room_tail_at(r, v)->frame : NULL;
}

void room_member_read_done(room *r, room_member *m, int status, room_row *rows, size_t n,
                           doc_state *doc)
{
    room_set *s = r->set;
    room_item *it = m->head;
    ot_error oerr = {""};

    room_member_unref(m);
    if (!it || !it->reading || !m->peer)
        return;
    it->reading = 0;
    it->from_store = 0;
    if (status != 0) {
        room_kill(s, m->peer);
    } else {
        /* A chunk may hold far more than the connection should queue at once: it stops
         * at half the bound like every catch-up, and the rest is read again later. */
        for (size_t i = 0; i < n && !m->peer->dead; i++) {
            const cJSON *before = doc && doc->v == rows[i].v && doc->exists ? doc->data : NULL;

            if (m->peer->outq.bytes >= s->cfg.outq_max / 2) {
                m->peer->paused = 1;
                break;
            }
            if (rows[i].v == it->cursor) {
                room_stream_row(m, &rows[i], frame_at(r, rows[i].v), before);
                it->cursor++;
            }
            if (doc && doc->v == rows[i].v &&
                doc_apply(doc, room_doc_kind(rows[i].kind), rows[i].payload, &oerr) != DOC_OK)
                doc = NULL;     /* projections that need it fail from here: closed */
        }
        if (n == 0)
            room_kill(s, m->peer);   /* the log lacks ops it must have */
    }
    room_pump(m);
}

void room_member_refetch(room_member *m, int64_t v)
{
    room_item *it;

    if (m->head && m->head->reading) {
        room_kill(m->room->set, m->peer);   /* cannot go before it: reconnect */
        return;
    }
    if (!(it = calloc(1, sizeof *it))) {
        room_kill(m->room->set, m->peer);
        return;
    }
    m->live = 0;
    it->cursor = v;
    it->until = ROOM_FOLLOW;
    it->go_live = 1;
    it->from_store = 1;
    it->next = m->head;
    m->head = it;
    if (!m->tail)
        m->tail = it;
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
        room_member_drop_items(m);
        room_tidy(r);
    }
    room_outq_clear(&p->outq);
}

int room_peer_in(const room_peer *p, const char *doc)
{
    for (const room_member *m = p->members; m; m = m->next_in_peer)
        if (strcmp(room_id(m->room), doc) == 0)
            return 1;
    return 0;
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
            room_enter(r);
            room_pump(m);
            room_leave(r);
            if (p->paused)
                break;
        }
}
