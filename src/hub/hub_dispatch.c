/*
 * One complete client message: parse, then hand it to whoever answers it. Document
 * requests go to the rooms (which order their replies), presence to the relay, nf/nt
 * to the store's reader, everything else is answered here. A message that does not
 * parse is answered with an error echoing it; the connection stays open.
 *
 * Bulk requests (bf/bs/bu) are split into one room request per document and joined
 * here: the array form collects every snapshot into one reply and only then starts the
 * subscriptions, so no op of a document reaches the client before its snapshot. That
 * reply holds at most half the connection's output bound: a snapshot beyond it is an
 * error for its document (ERR_LIMIT_EXCEEDED; the client fetches it alone). While a
 * bulk request or an nf/nt is being answered the connection is not read (hub_conn_busy).
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_heartbeat.h"
#include "hub/hub_meeting.h"
#include "room/room_presence.h"

typedef struct bulk {
    hub *h;
    hub_conn *c;            /* counted reference */
    proto_msg msg;          /* the request, owned */
    int array;              /* ids (snapshots) rather than {id: version} (ops) */
    proto_buf reply;        /* array form: the data object so far */
    int first;
    size_t pending;         /* documents not answered yet, +1 while parts are issued */
    proto_error err;        /* object form: the first failure */
    int failed;
    struct live { char *doc; int64_t v; } *live;  /* array-form bs: go live after reply */
    size_t n_live;
} bulk;

static void reply_error(hub *h, hub_conn *c, cJSON *request, const proto_error *err)
{
    proto_buf b;

    proto_buf_init(&b, LWS_PRE);
    proto_emit_error(&b, request, err);
    room_peer_reply(h->rooms, &c->peer, &b);
}

static void error_code(hub *h, hub_conn *c, proto_msg *msg, const char *code,
                       const char *message)
{
    proto_error err = {code, ""};

    snprintf(err.message, sizeof err.message, "%s", message);
    reply_error(h, c, msg->root, &err);
}

static void handshake(hub *h, hub_conn *c, const proto_msg *msg)
{
    proto_buf b;

    /* ShareDB takes the client's previous id as its src, so a resent op is recognised
     * as a duplicate; duplicates match on (principal, src, seq), so the claim only
     * ever concerns this principal's own ops. */
    if (msg->hs_id) {
        char *src = strdup(msg->hs_id);
        if (src) {
            if (c->src != c->id)
                free(c->src);
            c->src = src;
            c->peer.src = src;
        }
    }
    proto_buf_init(&b, LWS_PRE);
    proto_emit_init(&b, 1, c->src);
    room_peer_reply(h->rooms, &c->peer, &b);
}

static void bulk_free(bulk *bk)
{
    for (size_t i = 0; i < bk->n_live; i++)
        free(bk->live[i].doc);
    free(bk->live);
    proto_buf_release(&bk->reply);
    proto_msg_free(&bk->msg);
    hub_conn_busy(bk->c, -1);
    hub_conn_unref(bk->c);
    free(bk);
}

static void bulk_finish(bulk *bk)
{
    hub *h = bk->h;
    hub_conn *c = bk->c;
    proto_buf b;

    if (!c->wsi) {
        bulk_free(bk);
        return;
    }
    if (bk->array) {
        proto_emit_bulk_close(&bk->reply);
        room_peer_reply(h->rooms, &c->peer, &bk->reply);
        for (size_t i = 0; i < bk->n_live; i++)
            room_go_live(h->rooms, &c->peer, bk->live[i].doc, bk->live[i].v);
    } else if (bk->failed) {
        reply_error(h, c, bk->msg.root, &bk->err);
    } else {
        proto_buf_init(&b, LWS_PRE);
        proto_emit_bulk_ack(&b, bk->msg.action, bk->msg.c, bk->msg.bulk);
        room_peer_reply(h->rooms, &c->peer, &b);
    }
    bulk_free(bk);
}

/* Whether a snapshot still fits the array form's reply: it may take at most half the
 * connection's output bound (like a catch-up), so the reply can be queued. */
static int bulk_fits(const bulk *bk, const char *doc, const char *data_json)
{
    return bk->reply.sb.len + strlen(doc) + strlen(data_json) + 64 <=
           room_set_config(bk->h->rooms)->outq_max / 2;
}

static void bulk_part_done(void *arg, const char *doc, int status, const proto_error *err,
                           int64_t v, int exists, const char *data_json)
{
    bulk *bk = arg;
    proto_error too_big = {PROTO_ERR_LIMIT, "The bulk reply would pass half of the "
                           "connection's output bound (--max-outq): fetch this document alone"};

    if (bk->array && status == 0 && data_json && !bulk_fits(bk, doc, data_json)) {
        status = -1;
        err = &too_big;
        if (bk->msg.action == PROTO_BS && bk->c->wsi)
            room_unsubscribe(bk->h->rooms, &bk->c->peer, doc);
    }
    if (bk->array) {
        if (status == 0) {
            proto_emit_bulk_item(&bk->reply, bk->first, doc, v, exists, data_json);
            if (bk->msg.action == PROTO_BS) {
                struct live *grown = realloc(bk->live, (bk->n_live + 1) * sizeof *grown);
                char *id = strdup(doc);
                if (grown)
                    bk->live = grown;
                if (grown && id) {
                    bk->live[bk->n_live].doc = id;
                    bk->live[bk->n_live].v = v;
                    bk->n_live++;
                } else {
                    free(id);
                    hub_conn_close(bk->c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                   "out of memory");
                }
            }
        } else {
            proto_emit_bulk_item_error(&bk->reply, bk->first, doc, err);
        }
        bk->first = 0;
    } else if (status != 0 && !bk->failed) {
        bk->failed = 1;
        bk->err = *err;
    }
    if (--bk->pending == 0)
        bulk_finish(bk);
}

static void do_bulk(hub *h, hub_conn *c, proto_msg *msg)
{
    const cJSON *item;
    room_part part;
    bulk *bk;

    if (strcmp(msg->c, room_set_config(h->rooms)->collection) != 0) {
        error_code(h, c, msg, PROTO_ERR_FORBIDDEN, "Unknown collection");
        return;
    }
    if (msg->action == PROTO_BU) {
        proto_buf b;
        cJSON_ArrayForEach(item, msg->bulk)
            room_unsubscribe(h->rooms, &c->peer, item->valuestring);
        proto_buf_init(&b, LWS_PRE);
        proto_emit_bulk_ack(&b, PROTO_BU, msg->c, msg->bulk);
        room_peer_reply(h->rooms, &c->peer, &b);
        return;
    }
    bk = calloc(1, sizeof *bk);
    if (!bk) {
        error_code(h, c, msg, PROTO_ERR_UNKNOWN, "out of memory");
        return;
    }
    bk->h = h;
    bk->c = c;
    c->refs++;
    hub_conn_busy(c, 1);
    bk->msg = *msg;
    memset(msg, 0, sizeof *msg);
    bk->array = cJSON_IsArray(bk->msg.bulk);
    bk->first = 1;
    bk->pending = 1;
    proto_buf_init(&bk->reply, LWS_PRE);
    if (bk->array)
        proto_emit_bulk_open(&bk->reply, bk->msg.action, bk->msg.c);
    part.done = bulk_part_done;
    part.arg = bk;
    cJSON_ArrayForEach(item, bk->msg.bulk) {
        proto_action a = bk->msg.action == PROTO_BS ? PROTO_S : PROTO_F;
        bk->pending++;
        if (bk->array)
            room_bulk_part(h->rooms, &c->peer, a, item->valuestring, 0, 0, &part);
        else
            room_bulk_part(h->rooms, &c->peer, a, item->string, !cJSON_IsNull(item),
                           cJSON_IsNull(item) ? 0 : (int64_t)item->valuedouble, &part);
    }
    if (--bk->pending == 0)
        bulk_finish(bk);
}

void hub_dispatch(hub *h, hub_conn *c, const char *text, size_t len)
{
    proto_msg msg;
    proto_error err;
    proto_buf b;

    hub_heartbeat_heard(c, 0, hub_now_ms());
    if (proto_parse(text, len, &h->limits, &msg, &err) != 0) {
        if (strcmp(err.code, PROTO_ERR_LIMIT) == 0)
            hub_metrics_limit(h, HUB_LIMIT_PROTOCOL);
        reply_error(h, c, msg.root, &err);
        proto_msg_free(&msg);
        return;
    }
    switch (msg.action) {
    case PROTO_HS:
        handshake(h, c, &msg);
        break;
    case PROTO_OP:
        hub_conn_spend(c, 1);
        room_request(h->rooms, &c->peer, &msg);
        return;
    case PROTO_F:
    case PROTO_S:
    case PROTO_U:
        room_request(h->rooms, &c->peer, &msg);
        return;
    case PROTO_BF:
    case PROTO_BS:
    case PROTO_BU:
        do_bulk(h, c, &msg);
        break;
    case PROTO_NF:
    case PROTO_NT:
        if (strcmp(msg.c, room_set_config(h->rooms)->collection) != 0) {
            error_code(h, c, &msg, PROTO_ERR_FORBIDDEN, "Unknown collection");
            break;
        }
        hub_store_snapshot(h, c, &msg);
        return;
    case PROTO_PP:
        hub_heartbeat_heard(c, 1, hub_now_ms());
        proto_buf_init(&b, LWS_PRE);
        proto_emit_pong(&b);
        room_peer_reply(h->rooms, &c->peer, &b);
        break;
    case PROTO_P:
    case PROTO_PS:
    case PROTO_PU:
    case PROTO_PR:
        /* A meeting channel is the server's (hub_meeting.c); any other is a case id:
         * its room admits and filters (room_env). */
        if (hub_meeting_is_channel(msg.ch)) {
            hub_meeting_request(h, c, &msg);
            break;
        }
        room_presence_request(h->rooms, &c->peer, &msg);
        return;
    case PROTO_QF:
    case PROTO_QS:
    case PROTO_QU:
        error_code(h, c, &msg, PROTO_ERR_NOT_IMPLEMENTED, "Queries are not supported");
        break;
    }
    proto_msg_free(&msg);
}
