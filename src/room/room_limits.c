/*
 * The limits a submitted op meets in its room (protocol/limits.md, "Case sheets" and
 * "Per connection"), kept apart from the submit algorithm that calls them:
 *
 *   - lag: an op based on a version more than max_op_lag behind the document is refused
 *     before any transform (ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND: the client fetches and
 *     submits again); one within it has its transforms charged to its connection's op
 *     budget (env.spend), so old ops cost a connection what their work costs the server;
 *   - size: the op applies within the document's limits and its author's growth budget
 *     (env.limits, doc_apply_limited); beyond them ERR_OP_SUBMIT_REJECTED names the limit,
 *     and the growth of an op that applied is charged to its author (env.grew).
 *
 * Invariant: a refused op changes nothing (doc_apply_limited undoes it whole).
 */
#include <stdio.h>

#include "room/room_internal.h"

/* An op transformed across this many versions costs one more op of the budget: a
 * version crossed costs about 2.5 us, an op applied at the head about 200 us of server
 * time (bench/lag-bench.js). */
#define ROOM_LAG_VERSIONS_PER_OP 100

int room_limits_lag(room *r, room_req *req)
{
    room_set *s = r->set;
    int64_t lag = r->doc.v - req->v;

    if (req->v != req->based_on)
        return 0;       /* checked when it first came up; this is its transform going on */
    if (s->cfg.max_op_lag > 0 && lag > s->cfg.max_op_lag) {
        proto_error err;
        room_set_error(&err, PROTO_ERR_TOO_OLD, "the op is %lld versions behind the document, "
                       "more than %lld (--max-op-lag): fetch the document and submit again",
                       (long long)lag, (long long)s->cfg.max_op_lag);
        room_req_error(req, &err);
        return -1;
    }
    if (lag >= ROOM_LAG_VERSIONS_PER_OP && s->env.spend && req->m->peer)
        s->env.spend(s->env.ctx, req->m->peer, (double)lag / ROOM_LAG_VERSIONS_PER_OP);
    return 0;
}

static void limit_error(proto_error *err, const room_limits *lim, const doc_refusal *why)
{
    switch (why->kind) {
    case DOC_LIMIT_SHEET:
        room_set_error(err, PROTO_ERR_REJECTED, "sheet size limit: the op would make the case "
                       "sheet %zu bytes, more than %zu (sheet_bytes, --max-sheet)",
                       why->size, why->limit);
        break;
    case DOC_LIMIT_ITEM:
        room_set_error(err, PROTO_ERR_REJECTED, "item size limit: component %d inserts %zu "
                       "bytes, more than %zu (item_bytes, --max-item)", why->component,
                       why->size, why->limit);
        break;
    case DOC_LIMIT_STRING:
        room_set_error(err, PROTO_ERR_REJECTED, "string size limit: component %d makes a string "
                       "of %zu bytes, more than %zu (string_bytes, --max-string)",
                       why->component, why->size, why->limit);
        break;
    case DOC_LIMIT_GROW:
        room_set_error(err, PROTO_ERR_REJECTED, "append budget: the op adds %zu bytes, %zu "
                       "left of %zu per %lld s (append_bytes, --append-budget); again in %lld s",
                       why->size, why->limit, lim->budget, (long long)(lim->window_ms / 1000),
                       (long long)((lim->retry_ms + 999) / 1000));
        break;
    }
}

int room_limits_apply(room *r, room_req *req, doc_op_kind kind, ot_error *oerr,
                      proto_error *err)
{
    room_set *s = r->set;
    room_limits lim;
    doc_refusal why;
    size_t before = r->doc.size;
    int rc;

    if (!s->env.limits)
        return doc_apply(&r->doc, kind, req->op, oerr);
    s->env.limits(s->env.ctx, r->policy, req->author, &lim);
    rc = doc_apply_limited(&r->doc, kind, req->op, &lim.doc, &why, oerr);
    if (rc == DOC_LIMIT)
        limit_error(err, &lim, &why);
    else if (rc == DOC_OK && r->doc.size > before && s->env.grew)
        s->env.grew(s->env.ctx, r->policy, req->author, r->doc.size - before);
    return rc;
}
