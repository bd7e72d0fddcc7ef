/*
 * The submit algorithm (ShareDB's SubmitRequest, one op at a time per room). The head
 * of a room's submit queue is transformed against every op applied since the version
 * it was based on — from the tail, or read from the store when the tail no longer
 * holds them (the queue waits meanwhile) — and is acknowledged instead of applied when
 * one of those ops is its own (a resend: same principal, src and seq). Then the write
 * check (access hooks) sees it at the current version, the document applies it (the
 * env's frame made before and completed after: room.h), the env's follower op (the
 * server's stamping op) applies right after it, and both go to the tail and to the
 * writer in one commit; the ack follows the commit (room_fanout.c).
 * Its lag (before the transforms) and its size (as it applies) meet the limits of
 * room_limits.c.
 *
 * Invariants: ops apply at exactly doc.v, in queue order; a refused op changes
 * nothing (the tail is reserved and the text printed before the document moves);
 * per-document commit times never go back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_internal.h"
#include "util/json_print.h"

enum { STEP_DONE, STEP_BLOCKED };
enum { AGAINST_OK, AGAINST_DUP, AGAINST_ERR };

/* Queues the ack for the op the member submitted at version v (fresh or resent).
 * A member that is not live has not seen the ops between its base and v: they are
 * streamed first, as ShareDB sends the submitter the ops it is missing. */
void room_submit_ack(room_member *m, const char *src, int64_t seq, int64_t based_on,
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
        room_kill(r->set, m->peer);
        return;
    }
    if (m->live || based_on < 0 || based_on >= v)
        room_member_push(m, 0, 0, v + 1, msg, 0, NULL, NULL, 0, 0);
    else
        room_member_push(m, based_on, v, v + 1, msg, 0, NULL, NULL, 0, 0);
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
        room_set_error(&err, PROTO_ERR_WAS_DELETED, "Document was deleted");
        break;
    case PROTO_CREATE:
        room_set_error(&err, PROTO_ERR_ALREADY_CREATED, "Document was created remotely");
        break;
    default:
        if (req->kind == PROTO_DEL)
            return AGAINST_OK;
        if (req->kind == PROTO_CREATE) {
            room_set_error(&err, PROTO_ERR_ALREADY_CREATED, "Document was created remotely");
            break;
        }
        if (!payload) {
            room_set_error(&err, PROTO_ERR_UNKNOWN, "%s", "out of memory");
            break;
        }
        t = ot_transform(req->op, payload, OT_LEFT, &oerr);
        if (!t) {
            room_set_error(&err, PROTO_ERR_REJECTED, "%s", oerr.message);
            break;
        }
        cJSON_Delete(req->op);
        req->op = t;
        return AGAINST_OK;
    }
    room_req_error(req, &err);
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

/* Records op (applied to the document already) in the tail and its commit time. */
static void record(room *r, room_op *op)
{
    room_set *s = r->set;

    op->ts = s->env.now_ms(s->env.ctx);
    if (op->ts < r->last_ts)
        op->ts = r->last_ts;    /* per-document commit times never go back (nt relies on it) */
    r->last_ts = op->ts;
    op->bytes = sizeof *op + (op->text ? strlen(op->text) : 0);
    room_tail_push(r, op);
    r->bytes_since_ms += op->text ? strlen(op->text) : 0;
    s->uncommitted++;
}

/* The env's op_end for op, just applied; its follower (the server's op), applied right
 * after it, or NULL. A follower that cannot be made or applied is left out (its fields
 * stay unset) and said on stderr: op is applied already and cannot be taken back. */
static room_op *follow_op(room *r, room_op *op, unsigned view)
{
    room_set *s = r->set;
    room_op *f = NULL;
    cJSON *follow = NULL;
    ot_error oerr = {""};

    if (s->env.op_end(s->env.ctx, r->policy, op->frame, op->payload, r->doc.data, op->author,
                      view, op->ts, &follow) != 0 || !follow)
        goto out;
    if (!(f = calloc(1, sizeof *f)) || room_tail_reserve(r) != 0)
        goto fail;
    f->refs = 1;
    f->v = r->doc.v;
    f->kind = PROTO_EDIT;
    f->seq = f->v;
    f->based_on = -1;
    f->src = strdup(ROOM_SERVER_AUTHOR);
    f->author = strdup(ROOM_SERVER_AUTHOR);
    f->text = room_text_fit(json_print(follow));
    if (!f->src || !f->author || !f->text)
        goto fail;
    f->frame = s->env.op_begin(s->env.ctx, r->policy, follow, r->doc.data);
    f->frame_unref = s->env.frame_unref;
    if (!f->frame || doc_apply(&r->doc, DOC_OP_EDIT, follow, &oerr) != DOC_OK)
        goto fail;
    f->payload = follow;
    follow = NULL;
    record(r, f);
    if (s->env.op_end(s->env.ctx, r->policy, f->frame, f->payload, r->doc.data, f->author,
                      view, f->ts, &follow) != 0)
        fprintf(stderr, "konsil serve: %s: out of memory reading the server's op\n", r->id);
    cJSON_Delete(follow);
    return f;
fail:
    fprintf(stderr, "konsil serve: %s v%lld: the server's op after it could not be applied%s%s\n",
            r->id, (long long)op->v, oerr.message[0] ? ": " : "", oerr.message);
    room_op_unref(f);
    f = NULL;
out:
    cJSON_Delete(follow);
    return f;
}

static void apply_submit(room *r, room_req *req)
{
    room_set *s = r->set;
    room_op *op = calloc(1, sizeof *op), *follow = NULL;
    char *milestone = NULL;
    ot_error oerr = {""};
    proto_error perr;
    int rc;

    if (!op)
        goto nomem;
    op->refs = 1;
    op->v = r->doc.v;
    op->kind = req->kind;
    op->seq = req->seq;
    op->src = strdup(req->src);
    op->author = strdup(req->author);
    if (req->kind != PROTO_DEL && !(op->text = room_text_fit(json_print(req->op))))
        goto nomem;
    if (!op->src || !op->author || room_tail_reserve(r) != 0)
        goto nomem;
    if (s->env.check_write && req->kind == PROTO_EDIT) {
        proto_error err;
        if (s->env.check_write(s->env.ctx, r->policy, req->view, req->op, r->doc.data,
                               &err) != 0) {
            room_op_unref(op);
            room_req_error(req, &err);
            return;
        }
    }
    if (s->env.op_begin && req->kind == PROTO_EDIT) {
        op->frame = s->env.op_begin(s->env.ctx, r->policy, req->op, r->doc.data);
        op->frame_unref = s->env.frame_unref;
        if (!op->frame)
            goto nomem;
    }
    rc = room_limits_apply(r, req, room_doc_kind(req->kind), &oerr, &perr);
    if (rc != DOC_OK) {
        room_op_unref(op);
        if (rc == DOC_LIMIT)
            room_req_error(req, &perr);
        else if (rc == DOC_EXISTS)
            room_req_fail(req, PROTO_ERR_ALREADY_CREATED, "%s",
                          "Invalid op submitted. Document already created");
        else if (rc == DOC_MISSING)
            room_req_fail(req, PROTO_ERR_DOES_NOT_EXIST, "%s", "Document does not exist");
        else if (rc == DOC_OT)
            room_req_fail(req, PROTO_ERR_REJECTED, "%s", oerr.message);
        else
            room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
        return;
    }
    op->payload = req->op;
    req->op = NULL;
    op->by = req->m;
    req->m = NULL;
    op->based_on = req->based_on;
    if (op->kind == PROTO_CREATE) {
        free(r->create_src);
        free(r->create_author);
        r->create_v = op->v;
        r->create_src = strdup(op->src);
        r->create_author = strdup(op->author);
        r->create_seq = op->seq;
    }
    record(r, op);
    if (op->frame)
        follow = follow_op(r, op, req->view);
    if (milestone_due(r)) {
        milestone = doc_text(&r->doc);
        if (milestone) {
            r->ms_v = r->doc.v;
            r->ms_bytes = strlen(milestone);
            r->bytes_since_ms = 0;
        }
    }
    s->env.commit(s->env.ctx, r, op, follow, milestone);
    return;
nomem:
    room_op_unref(op);
    room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "out of memory");
}

static int submit_step(room *r, room_req *req)
{
    room_set *s = r->set;

    if (req->kind == PROTO_CREATE && !req->has_v && r->doc.exists) {
        /* A create resent without a version: acknowledged only if it is the one that
         * created the document (ShareDB's snapshot.m._create check). */
        if (r->create_v >= 0 && same_submitter(req, r->create_author, r->create_src,
                                               r->create_seq))
            room_submit_ack(req->m, req->src, req->seq, -1, r->create_v);
        else
            room_req_fail(req, PROTO_ERR_ALREADY_CREATED, "%s",
                          "Invalid op submitted. Document already created");
        return STEP_DONE;
    }
    if (!req->has_v) {
        req->has_v = 1;
        req->v = r->doc.v;
        req->based_on = -1;
    }
    if (req->v > r->doc.v) {
        room_req_fail(req, PROTO_ERR_NEWER, "%s",
                      "Invalid op submitted. Op version newer than current snapshot");
        return STEP_DONE;
    }
    if (room_limits_lag(r, req) != 0)
        return STEP_DONE;
    while (req->v < r->doc.v) {
        room_op *op;
        if (req->v < r->tail_v0) {
            r->blocked = 1;
            r->reads++;
            if (s->env.read_ops(s->env.ctx, r, req->v, r->tail_v0, s->cfg.read_chunk, 0,
                                ROOM_READ_SUBMIT, req) != 0) {
                r->blocked = 0;
                r->reads--;
                room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "history is not readable");
                return STEP_DONE;
            }
            return STEP_BLOCKED;
        }
        op = room_tail_at(r, req->v);
        switch (against(req, op->kind, op->src, op->seq, op->author, room_op_payload(op))) {
        case AGAINST_DUP:
            room_submit_ack(req->m, req->src, req->seq, req->based_on, op->v);
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
    while (r->state == ROOM_READY && !r->blocked && r->submits) {
        room_req *req = r->submits;
        if (submit_step(r, req) == STEP_BLOCKED)
            return;
        r->submits = req->next;
        if (!r->submits)
            r->submits_last = NULL;
        room_req_free(req);
    }
}

void room_submit_queue(room *r, room_req *req)
{
    req->next = NULL;
    if (r->submits_last)
        r->submits_last->next = req;
    else
        r->submits = req;
    r->submits_last = req;
    process_submits(r);
}

void room_submit_read_done(room *r, room_req *req, int status, room_row *rows, size_t n)
{
    int done = 0;

    r->blocked = 0;
    if (status != 0 || n == 0) {
        room_req_fail(req, PROTO_ERR_UNKNOWN, "%s", "history is not readable");
        done = 1;
    }
    for (size_t i = 0; i < n && !done; i++) {
        if (rows[i].v != req->v)
            continue;
        switch (against(req, rows[i].kind, rows[i].src, rows[i].seq, rows[i].author,
                        rows[i].payload)) {
        case AGAINST_DUP:
            room_submit_ack(req->m, req->src, req->seq, req->based_on, rows[i].v);
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
        room_req_free(req);
    }
    process_submits(r);
}
