/*
 * The room set and each room's life (see room.h for the invariants, room_internal.h
 * for how the room files divide the work).
 *
 * A room is created by the first request for its document and starts loading at once;
 * requests that arrive meanwhile wait in `waiting` and run, in order, when the load
 * comes back (room_loaded). A room whose load failed answers its waiting requests with
 * an error and is replaced by the next request once idle. A room is idle when it has
 * no members, requests, reads or uncommitted ops; idle rooms are evicted by the sweep
 * (and at once when the set is full).
 *
 * Each room is counted against the principal whose request made it (its opener) while
 * the set holds it: one principal's requests can have at most max_rooms_principal rooms
 * made and held at once (asking for more first evicts its own idle ones), so no one
 * fills the set for everyone, not with documents of no case either (env.may_open
 * refuses those it can tell before any room is made).
 *
 * Invariants: a room is freed only at depth 0 (no entry point of it on the stack), so
 * callbacks into rooms during an iteration never free what is being iterated; the set
 * holds at most max_rooms rooms; an opener lists (and counts) exactly the rooms naming it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_internal.h"

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

size_t room_set_count(const room_set *s)
{
    return s->rooms.count;
}

size_t room_set_full_refusals(const room_set *s)
{
    return s->full_refusals;
}

int room_peer_reply(room_set *s, room_peer *p, proto_buf *b)
{
    return room_peer_push_buf(&s->cfg, &s->env, p, b);
}

void *room_policy(room_set *s, const char *id)
{
    room *r = room_map_get(&s->rooms, id);

    return r ? r->policy : NULL;
}

void room_set_error(proto_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Takes r off its opener's rooms; the opener goes with its last room. */
static void opener_release(room_set *s, room *r)
{
    room_opener *o = r->opener;

    if (!o)
        return;
    if (r->opener_prev)
        r->opener_prev->opener_next = r->opener_next;
    else
        o->first = r->opener_next;
    if (r->opener_next)
        r->opener_next->opener_prev = r->opener_prev;
    r->opener = NULL;
    if (--o->rooms > 0)
        return;
    room_map_del(&s->openers, o->principal);
    free(o->principal);
    free(o);
}

static void room_free(room *r)
{
    while (r->members) {
        room_member *m = r->members;
        r->members = m->next_in_room;
        room_member_unlink(m);
        room_member_drop_items(m);
        free(m);
    }
    for (size_t i = 0; i < r->tail_len; i++)
        room_op_unref(r->tail[(r->tail_head + i) % r->tail_cap]);
    free(r->tail);
    while (r->waiting) {
        room_req *req = r->waiting;
        r->waiting = req->next;
        req->m = NULL;
        room_req_free(req);
    }
    while (r->submits) {
        room_req *req = r->submits;
        r->submits = req->next;
        req->m = NULL;
        room_req_free(req);
    }
    doc_clear(&r->doc);
    room_snaps_clear(r);
    if (r->policy && r->set->env.policy_unref)
        r->set->env.policy_unref(r->policy);
    free(r->create_src);
    free(r->create_author);
    opener_release(r->set, r);
    free(r->id);
    free(r);
}

static int room_is_idle(const room *r)
{
    return !r->members && !r->waiting && !r->submits && !r->reads &&
           r->committed == r->doc.v;
}

/* Frees members nobody needs any more and notes when the room became idle. */
void room_tidy(room *r)
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
        room_member_unlink(m);
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

/* Evicts the idle rooms principal made (at most until it is under its limit); walks
 * only that principal's rooms. */
static void sweep_opener(room_set *s, room_opener *o)
{
    room *r = o->first, *next;

    for (; r && o->rooms >= s->cfg.max_rooms_principal; r = next) {
        next = r->opener_next;
        if (r->depth > 0 || !room_is_idle(r) || r->state == ROOM_LOADING)
            continue;
        if (o->rooms == 1) {    /* the last: evicting it frees o */
            evict(s, r);
            return;
        }
        evict(s, r);
    }
}

/* The opener entry of p's principal, made if needed; NULL when memory runs out. */
static room_opener *opener_of(room_set *s, const room_peer *p)
{
    room_opener *o = room_map_get(&s->openers, p->principal);

    if (o)
        return o;
    o = calloc(1, sizeof *o);
    if (!o || !(o->principal = strdup(p->principal)) ||
        room_map_put(&s->openers, o->principal, o) != 0) {
        if (o)
            free(o->principal);
        free(o);
        return NULL;
    }
    return o;
}

room *room_open(room_set *s, const char *id, room_peer *p, proto_error *err)
{
    room *r = room_map_get(&s->rooms, id);
    room_opener *o;

    if (r && r->state == ROOM_FAILED && room_is_idle(r)) {
        evict(s, r);
        r = NULL;
    }
    if (r)
        return r;
    if (s->env.may_open && s->env.may_open(s->env.ctx, p, id, err) != 0)
        return NULL;
    if (s->cfg.max_rooms_principal && (o = room_map_get(&s->openers, p->principal)) &&
        o->rooms >= s->cfg.max_rooms_principal) {
        sweep_opener(s, o);
        o = room_map_get(&s->openers, p->principal);
        if (o && o->rooms >= s->cfg.max_rooms_principal) {
            room_set_error(err, PROTO_ERR_LIMIT, "You have %zu documents open, the most one "
                           "principal may (--max-rooms-principal)", o->rooms);
            return NULL;
        }
    }
    if (s->rooms.count >= s->cfg.max_rooms)
        room_set_sweep(s, 0, -1);
    if (s->rooms.count >= s->cfg.max_rooms) {
        s->full_refusals++;
        room_set_error(err, PROTO_ERR_TOO_MANY_ROOMS,
                       "The server holds its maximum of %zu rooms", s->cfg.max_rooms);
        return NULL;
    }
    o = opener_of(s, p);
    r = o ? calloc(1, sizeof *r) : NULL;
    if (!r || !(r->id = strdup(id)) || room_map_put(&s->rooms, r->id, r) != 0) {
        if (r)
            free(r->id);
        free(r);
        if (o && !o->rooms) {
            room_map_del(&s->openers, o->principal);
            free(o->principal);
            free(o);
        }
        room_set_error(err, PROTO_ERR_UNKNOWN, "out of memory");
        return NULL;
    }
    r->set = s;
    r->opener = o;
    r->opener_next = o->first;
    if (o->first)
        o->first->opener_prev = r;
    o->first = r;
    o->rooms++;
    r->state = ROOM_LOADING;
    r->create_v = -1;
    r->idle_since = -1;
    doc_init(&r->doc);
    if (s->env.load(s->env.ctx, r) != 0) {
        evict(s, r);
        room_set_error(err, PROTO_ERR_UNKNOWN, "The document cannot be loaded");
        return NULL;
    }
    return r;
}

void room_enter(room *r)
{
    r->depth++;
}

void room_leave(room *r)
{
    r->depth--;
    room_tidy(r);
}

void room_loaded(room *r, room_load *load)
{
    int status = load->status;

    room_enter(r);
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
            room_op *op = room_op_from_row(&load->rows[i]);
            if (!op || room_tail_reserve(r) != 0) {
                room_op_unref(op);
                status = -1;
            } else {
                room_tail_push(r, op);
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
        room_tail_trim(r);
    }
    r->state = status == 0 ? ROOM_READY : ROOM_FAILED;
    while (r->waiting) {
        room_req *req = r->waiting;
        r->waiting = req->next;
        if (!r->waiting)
            r->waiting_last = NULL;
        if (r->state == ROOM_READY) {
            room_dispatch(r, req);
        } else {
            room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "The document cannot be loaded");
            room_req_free(req);
        }
    }
    room_leave(r);
}

void room_read_done(room *r, int purpose, void *tag, int status, room_row *rows, size_t n,
                    doc_state *doc)
{
    room_enter(r);
    r->reads--;
    if (purpose == ROOM_READ_CATCHUP)
        room_member_read_done(r, tag, status, rows, n, doc);
    else
        room_submit_read_done(r, tag, status, rows, n);
    room_leave(r);
}

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
    room_map_init(&s->openers);
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
    room_map_clear(&s->openers);
    room_presence_free(s->presence);
    free(s);
}

void room_set_drop(room_set *s, const char *id)
{
    room *r = room_map_get(&s->rooms, id);

    if (!r)
        return;
    r->dropped = 1;
    if (r->depth == 0 && room_is_idle(r) && r->state != ROOM_LOADING)
        evict(s, r);
}

void room_set_sweep(room_set *s, int64_t now, int64_t idle_ms)
{
    size_t pos = 0;
    room *r;

    while ((r = room_map_next(&s->rooms, &pos))) {
        int stale = idle_ms < 0 || r->dropped ||
                    (r->idle_since >= 0 && now - r->idle_since >= idle_ms);
        if (r->depth == 0 && room_is_idle(r) && r->state != ROOM_LOADING && stale)
            evict(s, r);
    }
}
