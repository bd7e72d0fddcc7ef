/*
 * What the room files share; nothing outside src/room includes this (the hub uses
 * room.h). The room is split by concept, each file with its own opening comment:
 *
 *   room.c          the room set; each room's life: created by its first request,
 *                   loaded, idle, evicted; re-entrancy (enter/leave/tidy)
 *   room_request.c  requests from connections: admission, f/s/u, bulk parts, presence
 *                   requests handed to presence in their turn, errors in order
 *   room_member.c   members and their item queues: the order of replies, catch-up
 *                   from the tail or the store, a peer leaving or draining
 *   room_submit.c   the submit algorithm: transform, duplicates, write check, apply,
 *                   hand to the writer, ack
 *   room_fanout.c   what each member receives: op messages and snapshots per view,
 *                   built once and shared; committed ops to live members
 *   room_op.c       ops as the room keeps them, and the tail of recent ops
 *   room_limits.c   the limits a submitted op meets: lag, sizes, growth budgets
 *
 * Below them, and knowing nothing of them: room_peer.c (a connection's output: queue,
 * wake, close when it overflows) and room_presence.c (the presence relay). The room
 * calls presence through room_presence.h; presence sends through room_peer.h and never
 * calls back into the room. room_map, room_msg and room_outq are leaf utilities.
 *
 * How ordering is kept: each member (one connection in one room) has a FIFO of items.
 * An item may stream committed ops [cursor, until) to the connection (from the tail,
 * or from the store when the tail no longer holds them), then releases its message
 * once `committed` reaches release_at, and may then make the member live. Live
 * members get every committed op directly, in version order, as the writer reports
 * commits. Because items release in commit order too, a reply never overtakes the ops
 * it depends on.
 *
 * Submits run one at a time per room: the head submit is transformed against the ops
 * applied since its base version (reading older ones from the store if needed; the
 * room waits meanwhile), checked for duplicates on (principal, src, seq), applied,
 * and handed to the writer. Its ack is queued when the writer reports the commit.
 *
 * Re-entrancy: a bulk request's callback may call back into rooms while a room is
 * iterating its members, so members are only freed by room_tidy() once a room's
 * outermost entry point finishes (depth == 0): every entry point that can reach a
 * callback runs between room_enter() and room_leave().
 */
#ifndef KONSIL_ROOM_INTERNAL_H
#define KONSIL_ROOM_INTERNAL_H

#include "room/room.h"
#include "room/room_peer.h"
#include "room/room_presence.h"

/* An item's `until` that follows `committed` (streams everything committed). */
#define ROOM_FOLLOW INT64_MAX

/* A room's state. */
enum { ROOM_LOADING, ROOM_READY, ROOM_FAILED };

/* One projected op message: for the author's principal (own) or others, per view. */
struct room_op_view {
    struct room_op_view *next;
    int own;
    unsigned view;
    room_msg *msg;
};

/* A snapshot text projected for one view, at the room's snap_v, and the f and s replies
 * carrying it, built when first needed and shared by every connection that asks. */
typedef struct room_snap {
    unsigned view;
    char *text;
    room_msg *reply_f, *reply_s;
} room_snap;

struct room_item {
    room_item *next;
    int64_t cursor;         /* next op version to stream */
    int64_t until;          /* stream up to here (exclusive), ROOM_FOLLOW: up to `committed` */
    int64_t release_at;     /* then release once committed >= release_at */
    room_msg *msg;          /* the reply to queue, or NULL */
    int go_live;
    room_part part;         /* bulk: report here instead of msg */
    char *snap;             /* bulk: the snapshot text for part */
    int64_t snap_v;
    int snap_exists;
    int reading;            /* a store read for this item is in flight */
    int from_store;         /* the next ops come from the store with the document */
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
    int dropped;            /* its document is gone (the case erased): evicted as soon as
                               it is idle, whatever --room-idle-secs says */
    struct room_opener *opener; /* the principal whose request made the room */
    room *opener_prev, *opener_next;    /* that principal's rooms */
};

/* A principal whose requests made rooms: the rooms the set holds of them. */
typedef struct room_opener {
    char *principal;
    size_t rooms;
    room *first;
} room_opener;

struct room_set {
    room_config cfg;
    room_env env;
    room_map rooms;
    room_map openers;       /* room_opener by principal, while it has rooms */
    room_presence *presence;
    size_t uncommitted;
    size_t full_refusals;   /* documents refused for max_rooms */
};

/* Queues m on p (over the output bound closes p); see room_peer_push(). */
static inline int room_send(room_set *s, room_peer *p, room_msg *m)
{
    return room_peer_push(&s->cfg, &s->env, p, m);
}

static inline void room_kill(room_set *s, room_peer *p)
{
    room_peer_kill(&s->env, p);
}

/* ---- room.c: the set and each room's life ------------------------------------- */

/* Fills err with code and a printf-style message. */
void room_set_error(proto_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The room of document id, created (and its load started) for p's request if needed;
 * NULL with err filled when p may not have it loaded (env.may_open), p's principal has
 * max_rooms_principal rooms of its making in use, the set is full, or the load cannot
 * start. */
room *room_open(room_set *s, const char *id, room_peer *p, proto_error *err);
/* Entry points run between enter and leave; leaving the outermost frees members
 * nobody needs any more and notes when the room became idle. */
void room_enter(room *r);
void room_leave(room *r);
void room_tidy(room *r);

/* ---- room_op.c: ops and the tail ---------------------------------------------- */

void room_op_unref(room_op *op);
/* A committed op from a store row (texts copied, the tree parsed when needed). */
room_op *room_op_from_row(const room_row *row);
/* The op's payload as a tree, parsed from its text when first needed; NULL for a
 * delete, or when memory runs out. */
const cJSON *room_op_payload(room_op *op);
/* Gives back the slack of json_print's doubling buffer to a text the room keeps. */
char *room_text_fit(char *text);

/* What an op of the room's (wire) kind does to the document. */
static inline doc_op_kind room_doc_kind(int kind)
{
    return kind == PROTO_CREATE ? DOC_OP_CREATE : kind == PROTO_DEL ? DOC_OP_DEL : DOC_OP_EDIT;
}

static inline room_op *room_tail_at(const room *r, int64_t v)
{
    return r->tail[(r->tail_head + (size_t)(v - r->tail_v0)) % r->tail_cap];
}
/* Makes room for one more op, so that recording an applied op cannot fail. 0 or -1. */
int room_tail_reserve(room *r);
void room_tail_push(room *r, room_op *op);
/* Drops committed ops beyond the tail limits; uncommitted ops always stay. */
void room_tail_trim(room *r);

/* ---- room_fanout.c: what members receive ------------------------------------- */

/* Queues op on m's connection; no memory closes the connection. 0, or ROOM_NEEDS_DOC
 * (nothing queued) when m's view needs a projection of op its frame lacks: it is made
 * from the store (room_stream_row with the document). */
#define ROOM_NEEDS_DOC 1
int room_send_op(room_set *s, room *r, room_op *op, room_member *m);
/* Queues a stored op (catch-up from the store) on m's connection: frame is the op's when
 * the tail still holds it, doc the document before it (or NULL). */
void room_stream_row(room_member *m, const room_row *row, void *frame, const cJSON *doc);
/* The document as `view` may read it, as JSON text, cached per view until it moves.
 * Borrowed; NULL when memory runs out. */
const char *room_snapshot_text(room *r, unsigned view);
/* The reply to f or s (action) without a version: the document as view may read it, one
 * message shared by every member that asks until the document moves. A new reference;
 * NULL when memory runs out. */
room_msg *room_snapshot_reply(room *r, unsigned view, proto_action action);
void room_snaps_clear(room *r);

/* ---- room_member.c: members and the order of their replies -------------------- */

room_member *room_member_find(room *r, room_peer *p);
/* The member of p in r, created if needed; NULL when memory runs out. */
room_member *room_member_get(room *r, room_peer *p);
static inline void room_member_unref(room_member *m)
{
    m->refs--;
}
/* Drops m's pending items; a bulk request waiting on one hears that it failed. */
void room_member_drop_items(room_member *m);
/* Takes m off its peer's list (the peer left or the member is freed). */
void room_member_unlink(room_member *m);
/* Queues an item on m (taking msg and snap) and runs the queue. */
void room_member_push(room_member *m, int64_t cursor, int64_t until, int64_t release_at,
                      room_msg *msg, int go_live, const room_part *part, char *snap,
                      int64_t snap_v, int snap_exists);
/* Queues a reply (in order with m's other replies). */
void room_member_reply(room_member *m, proto_buf *b);
/* Runs m's items as far as the room's state allows. */
void room_pump(room_member *m);
/* A catch-up read for m came back (doc: the document at the first row, or NULL). */
void room_member_read_done(room *r, room_member *m, int status, room_row *rows, size_t n,
                           doc_state *doc);
/* Live m cannot be sent op v as it is (room_send_op said ROOM_NEEDS_DOC): it stops
 * being live and catches up from v through the store, before its other items. */
void room_member_refetch(room_member *m, int64_t v);

/* ---- room_request.c: requests ------------------------------------------------- */

void room_req_free(room_req *req);
/* Answers req with an error, in order with the member's other replies. */
void room_req_error(room_req *req, const proto_error *err);
void room_req_fail(room_req *req, const char *code, const char *fmt, const char *detail);
/* Admits req and runs it (the room is ready). Takes req. */
void room_dispatch(room *r, room_req *req);

/* ---- room_limits.c: the limits a submitted op meets ---------------------------- */

/* Whether req (the head submit) is within --max-op-lag of the document; refused and
 * answered (-1) when not, its transform work charged to its connection otherwise (0). */
int room_limits_lag(room *r, room_req *req);
/* Applies req's op (kind) to the document within its size limits: a DOC_ code (doc.h);
 * DOC_LIMIT with *err filled, DOC_OT with *oerr. */
int room_limits_apply(room *r, room_req *req, doc_op_kind kind, ot_error *oerr,
                      proto_error *err);

/* ---- room_submit.c: the submit algorithm -------------------------------------- */

/* Queues an admitted op request (taken) and runs the submits as far as they go. */
void room_submit_queue(room *r, room_req *req);
/* A read of older ops for the head submit came back. */
void room_submit_read_done(room *r, room_req *req, int status, room_row *rows, size_t n);
/* Queues the ack for the op m submitted at version v (fresh or resent). */
void room_submit_ack(room_member *m, const char *src, int64_t seq, int64_t based_on,
                     int64_t v);

#endif
