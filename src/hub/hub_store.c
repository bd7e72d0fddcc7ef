/*
 * The rooms' environment on top of the store, and the completions coming back.
 * Every store job carries what it answers: the room for loads and commits, a small
 * read record for history reads, the request and a counted connection reference for
 * nf/nt. Completions arrive in the order the threads finished them; commits of one
 * room finish in submit order because the writer takes its queue in order.
 *
 * Loads and nf/nt reads also bring the session the document belongs to: a load turns
 * it into the room's access policy, nf/nt check membership and project the snapshot.
 *
 * A failed commit stops the hub: the op is applied in memory but not on disk, so
 * nothing after it may be acked (invariant 2) and the process exits with status 1.
 *
 * Commits go to the writer quietly and a zero-delay timer wakes it: lws runs due timers
 * before it next polls, so every op read in one pass over the sockets reaches the writer
 * in one batch (one transaction, one fsync) and the writer is woken once, rather than
 * woken by the first op of the pass, on the service thread's core, to commit it alone.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_access.h"
#include "hub/hub_view.h"
#include "util/klog.h"

typedef struct read_ctx {
    room *r;
    int purpose;
    void *tag;
} read_ctx;

typedef struct snapshot_ctx {
    hub_conn *c;            /* counted reference */
    proto_msg msg;          /* the request, owned */
} snapshot_ctx;

static hub_conn *conn_of(room_peer *p)
{
    return (hub_conn *)((char *)p - offsetof(hub_conn, peer));
}

/* The store's name for what an op does, and back: the wire's kinds are not the log's. */
static store_op_kind store_kind(int kind)
{
    switch (kind) {
    case PROTO_CREATE: return STORE_OP_CREATE;
    case PROTO_DEL: return STORE_OP_DEL;
    default: return STORE_OP_EDIT;
    }
}

static proto_op_kind proto_kind(store_op_kind kind)
{
    switch (kind) {
    case STORE_OP_CREATE: return PROTO_CREATE;
    case STORE_OP_DEL: return PROTO_DEL;
    default: return PROTO_EDIT;
    }
}

static void fatal(hub *h, const char *why)
{
    if (!h->failed) {
        klog_line l;
        klog_begin(&l, KLOG_ERROR, "store", "the store failed: stopping");
        klog_str(&l, "error", why);
        klog_end(&l);
    }
    h->failed = 1;
    atomic_store(&h->stop_requested, 1);
}

static int env_load(void *ctx, room *r)
{
    hub *h = ctx;
    store_job *job = store_job_new(STORE_LOAD, room_id(r));

    if (!job)
        return -1;
    job->owner = r;
    job->cases_only = 1;
    store_submit(h->store, job);
    return 0;
}

static int env_read_ops(void *ctx, room *r, int64_t from, int64_t to, size_t max,
                        int with_doc, int purpose, void *tag)
{
    hub *h = ctx;
    store_job *job = store_job_new(STORE_READ_OPS, room_id(r));
    read_ctx *rc = malloc(sizeof *rc);

    if (!job || !rc) {
        store_job_free(job);
        free(rc);
        return -1;
    }
    rc->r = r;
    rc->purpose = purpose;
    rc->tag = tag;
    job->owner = rc;
    job->from = from;
    job->to = to;
    job->max_ops = max;
    job->with_doc = with_doc;
    store_submit(h->store, job);
    return 0;
}

static void kick_writer(lws_sorted_usec_list_t *sul)
{
    hub *h = lws_container_of(sul, hub, commit_kick);

    h->commit_kick_armed = 0;
    store_kick(h->store);
}

/* The store's row of a room's op. 0 or -1 (memory). */
static int store_row(store_op *to, const room_op *op)
{
    to->v = op->v;
    to->kind = store_kind(op->kind);
    to->seq = op->seq;
    to->ts = op->ts;
    to->src = strdup(op->src);
    to->author = strdup(op->author);
    to->op_text = op->text ? strdup(op->text) : NULL;
    return to->src && to->author && (!op->text || to->op_text) ? 0 : -1;
}

static void env_commit(void *ctx, room *r, room_op *op, room_op *follow, char *milestone)
{
    hub *h = ctx;
    store_job *job = store_job_new(STORE_COMMIT, room_id(r));

    if (job) {
        job->owner = r;
        job->milestone = milestone;
        milestone = NULL;
        job->has_follow = follow != NULL;
        if (store_row(&job->op, op) == 0 && (!follow || store_row(&job->follow, follow) == 0)) {
            store_submit_quiet(h->store, job);
            if (!h->commit_kick_armed) {
                h->commit_kick_armed = 1;
                lws_sul_schedule(h->ctx, 0, &h->commit_kick, kick_writer, 0);
            }
            return;
        }
    }
    free(milestone);
    store_job_free(job);
    fatal(h, "out of memory handing an op to the writer");
}

static void env_wake(void *ctx, room_peer *p)
{
    hub_conn_wake(ctx, conn_of(p));
}

static void env_kill(void *ctx, room_peer *p)
{
    hub_metrics_limit(ctx, HUB_LIMIT_MAX_OUTQ);
    hub_conn_close(conn_of(p), HUB_CLOSE_TRY_AGAIN_LATER, "outbound queue limit: reconnect to catch up");
}

static int64_t env_now(void *ctx)
{
    (void)ctx;
    return hub_now_ms();
}

void hub_store_env(hub *h, room_env *env)
{
    env->ctx = h;
    env->load = env_load;
    env->read_ops = env_read_ops;
    env->commit = env_commit;
    env->wake = env_wake;
    env->kill = env_kill;
    env->now_ms = env_now;
}

void hub_store_snapshot(hub *h, hub_conn *c, proto_msg *msg)
{
    store_job *job = store_job_new(STORE_SNAPSHOT, msg->d);
    snapshot_ctx *sc = calloc(1, sizeof *sc);

    if (!job || !sc) {
        proto_error err = {PROTO_ERR_UNKNOWN, "out of memory"};
        proto_buf b;
        store_job_free(job);
        free(sc);
        proto_buf_init(&b, LWS_PRE);
        proto_emit_error(&b, msg->root, &err);
        room_peer_reply(h->rooms, &c->peer, &b);
        proto_msg_free(msg);
        return;
    }
    job->cases_only = 1;
    if (msg->action == PROTO_NT) {
        job->by_ts = msg->has_ts;
        job->ts = msg->ts;
    } else {
        job->has_v = msg->has_v;
        job->v = msg->v;
    }
    sc->c = c;
    c->refs++;
    hub_conn_busy(c, 1);
    sc->msg = *msg;
    memset(msg, 0, sizeof *msg);
    job->owner = sc;
    store_submit(h->store, job);
}

/* Lends the rows' parsed ops to the room, which may keep them. */
static room_row *rows_of(store_job *job)
{
    room_row *rows = calloc(job->n_ops ? job->n_ops : 1, sizeof *rows);

    if (!rows)
        return NULL;
    for (size_t i = 0; i < job->n_ops; i++) {
        store_op *op = &job->ops[i];
        rows[i].v = op->v;
        rows[i].kind = proto_kind(op->kind);
        rows[i].src = op->src;
        rows[i].seq = op->seq;
        rows[i].ts = op->ts;
        rows[i].author = op->author;
        rows[i].text = op->op_text;
        rows[i].payload = op->op;
        op->op = NULL;
    }
    return rows;
}

static void rows_free(room_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        cJSON_Delete(rows[i].payload);
    free(rows);
}

/* The snapshot text as the connection's principal may read it, under the frame of the
 * time of the read (a snapshot at a version: protocol/access.md); NULL when it does not
 * belong to the case (*forbidden) or memory runs out. */
static char *projected_snapshot(hub_conn *c, store_job *job, int *forbidden)
{
    hub_policy *p = hub_policy_new(job->out, NULL);
    unsigned view;
    char *text = NULL;

    *forbidden = !p || hub_policy_view(p, job->doc, &c->principal, c->bound_session,
                                       &view) != 0;
    if (!*forbidden && job->status == STORE_OK)
        text = job->state.exists ? hub_view_snapshot_fixed(hub_policy_template(p), view,
                                                           job->out, job->state.data) :
               strdup("null");
    hub_policy_unref(p);
    return text;
}

static void finish_snapshot(hub *h, store_job *job)
{
    snapshot_ctx *sc = job->owner;
    hub_conn *c = sc->c;
    proto_buf b;
    int forbidden;
    char *text;

    if (c->wsi) {
        text = projected_snapshot(c, job, &forbidden);
        proto_buf_init(&b, LWS_PRE);
        if (forbidden) {
            proto_error err = {PROTO_ERR_FORBIDDEN, "You do not take part in this session"};
            proto_emit_error(&b, sc->msg.root, &err);
        } else if (job->status == STORE_OK && text) {
            hub_conn_note_read(c, job->doc);
            proto_emit_snapshot_fetch(&b, sc->msg.action, sc->msg.req_id, job->state.v,
                                      job->state.exists, text);
        } else if (job->status == STORE_OK) {
            proto_error err = {PROTO_ERR_UNKNOWN, "out of memory"};
            proto_emit_error(&b, sc->msg.root, &err);
        } else {
            proto_error err = {job->status == STORE_NEWER ? PROTO_ERR_NEWER :
                               PROTO_ERR_UNKNOWN, ""};
            snprintf(err.message, sizeof err.message, "%s", job->error);
            proto_emit_error(&b, sc->msg.root, &err);
        }
        free(text);
        room_peer_reply(h->rooms, &c->peer, &b);
    }
    proto_msg_free(&sc->msg);
    hub_conn_busy(c, -1);
    hub_conn_unref(c);
    free(sc);
}

static void finish(hub *h, store_job *job)
{
    room_row *rows;

    switch (job->kind) {
    case STORE_COMMIT:
        if (job->status != STORE_OK)
            fatal(h, job->error);
        room_committed(job->owner, job->status);
        if (job->has_follow)
            room_committed(job->owner, job->status);
        break;
    case STORE_LOAD: {
        room_load load = {job->status == STORE_OK ? 0 : -1, &job->state, NULL, 0, job->ts,
                          job->create_v, job->create_src, job->create_author,
                          job->create_seq,
                          hub_policy_new(job->out, job->state.exists ? job->state.data : NULL)};
        rows = rows_of(job);
        if (!rows)
            load.status = -1;
        if (load.status != 0) {
            klog_line l;
            klog_begin(&l, KLOG_ERROR, "store", "cannot load a document");
            klog_str(&l, "doc", job->doc);
            klog_str(&l, "error", job->status == STORE_OK ? "out of memory" : job->error);
            klog_end(&l);
        }
        load.rows = rows;
        load.n = rows ? job->n_ops : 0;
        room_loaded(job->owner, &load);
        hub_policy_unref(load.policy);
        rows_free(rows, job->n_ops);
        break;
    }
    case STORE_READ_OPS: {
        read_ctx *rc = job->owner;
        rows = rows_of(job);
        room_read_done(rc->r, rc->purpose, rc->tag,
                       job->status == STORE_OK && rows ? 0 : -1, rows, rows ? job->n_ops : 0,
                       job->with_doc && job->status == STORE_OK ? &job->state : NULL);
        rows_free(rows, job->n_ops);
        free(rc);
        break;
    }
    case STORE_SNAPSHOT:
        finish_snapshot(h, job);
        break;
    case STORE_CALL:
        hub_call_finish(h, job);
        break;
    }
    store_job_free(job);
}

void hub_store_drain(hub *h)
{
    store_job *list = store_take_done(h->store);

    while (list) {
        store_job *next = list->next;
        finish(h, list);
        list = next;
    }
}
