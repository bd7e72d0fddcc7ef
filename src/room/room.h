/*
 * Rooms: the live state of each open document and everything that happens to it.
 * A room holds the document at its latest applied version, the recent ops (the tail),
 * and its members (connections that subscribe to it or wait for a reply from it).
 * It runs the submit algorithm, fans committed ops out, and orders every reply.
 *
 * Pure code: the room never does I/O. It asks its environment (room_env, provided by
 * the hub) to load documents, read history and commit ops, and the hub reports the
 * results back with room_loaded(), room_read_done() and room_committed().
 *
 * Invariants:
 *   1. Versions: an op is applied at exactly doc.v and stored with that version;
 *      `committed` <= doc.v, and ops [committed, doc.v) are waiting for the writer.
 *   2. Acked means durable: nothing derived from an uncommitted op reaches anyone.
 *      Ops are fanned out, acks sent, and snapshots released only once `committed`
 *      has passed them; a reply that reflects version X waits until X is committed.
 *   3. No op is dropped: a member receives every op from the version it subscribed
 *      at, in order, from the tail or (when it is too far behind) from the store. A
 *      connection whose queue outgrows the limit on live traffic is closed instead.
 *   4. Per (connection, room), replies leave in the order of the requests, after the
 *      ops they depend on; the submitter's own op is never echoed to its connection.
 *      Other principals receive an op's src as "<author>/<src>": clients match acks on
 *      src and seq, and a src claimed by someone else must never match theirs.
 *   5. A refused op changes nothing: the room's state moves only when an op applies.
 *
 * Access: when the environment has an `admit` hook, every request is admitted by it
 * first (membership, who may submit) and gets a *view*: peers with the same view may
 * read the same parts of the document, so snapshots and ops are projected once per
 * view (project hook) and shared; an op a view reads whole is not projected at all.
 * Submitted edits pass check_write after they are transformed to the current version,
 * before they are applied; a refused op changes nothing. Each applied edit carries the
 * env's frame (op_begin before it applies, op_end after): some projections can only be
 * made from the document before the op, which the env makes then; one the frame lacks
 * (a view that came later) is made from the store, which rebuilds the document. The env
 * may follow an op with the server's own op (stamped fields), applied and committed
 * with it and sent to everyone, its submitter included. Without the hooks every peer
 * sees and writes everything (view 0).
 *
 * The implementation is split by concept (room_internal.h lists the files); presence
 * (room_presence.c) is a relay the room calls and that never calls back.
 *
 * Ownership: the room set owns its rooms; rooms own their tail ops and members; a
 * member lives while its room lists it and anything (request, op, read) refers to it.
 * A peer (one connection) is owned by the hub; room_peer_detach() must run before the
 * hub frees it.
 */
#ifndef KONSIL_ROOM_H
#define KONSIL_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "doc/doc.h"
#include "proto/proto.h"
#include "room/room_map.h"
#include "room/room_msg.h"
#include "room/room_outq.h"

typedef struct room room;
typedef struct room_set room_set;
typedef struct room_member room_member;
typedef struct room_item room_item;
typedef struct room_req room_req;
typedef struct room_pres_sub room_pres_sub;
typedef struct room_pres_entry room_pres_entry;

/* One connection as rooms and presence see it; embedded in the hub's connection. */
typedef struct room_peer {
    room_outq outq;
    const char *principal;      /* borrowed from the connection */
    const char *src;            /* the connection's id (hs), borrowed */
    room_member *members;       /* this peer's memberships, linked by next_in_peer */
    room_pres_sub *pres_subs;   /* presence channels it subscribed to */
    room_pres_entry *pres;      /* its presences, for p:null when it leaves */
    size_t n_pres_subs, n_pres;
    int dead;                   /* closing: nothing more is queued */
    int paused;                 /* a catch-up waits for the queue to drain */
} room_peer;

void room_peer_init(room_peer *p, const char *principal, const char *src);

/* An op as the room keeps it. Refcounted because history reads and the writer's
 * pending list may outlive its place in the tail. */
typedef struct room_op {
    unsigned refs;
    int64_t v;
    int kind;                   /* proto_op_kind */
    char *src;
    int64_t seq;
    char *author;
    int64_t ts;
    cJSON *payload;             /* edit: components; create: {type,data}; del: NULL.
                                   Parsed from text when first needed for ops loaded
                                   from the store */
    char *text;                 /* payload as JSON (NULL for del) */
    room_msg *msg;              /* the op message as the author's principal gets it, built
                                   when first needed (never with access hooks) */
    room_msg *foreign;          /* the same for other principals, built when first needed:
                                   src qualified by the author, so no client can take
                                   another principal's op for its own */
    struct room_op_view *views; /* with access hooks: the message per (own, view) */
    void *frame;                /* with access hooks: what projecting it needs (op_begin) */
    void (*frame_unref)(void *frame);
    room_member *by;            /* while uncommitted: the submitter, for the ack */
    int64_t based_on;           /* the version the submitter based it on */
    size_t bytes;
} room_op;

/* A committed op as read back from the store (borrowed fields). */
typedef struct room_row {
    int64_t v;
    int kind;
    const char *src;
    int64_t seq;
    int64_t ts;
    const char *author;
    cJSON *payload;             /* borrowed; the room may take it (set to NULL then) */
    const char *text;
} room_row;

typedef struct room_config {
    const char *collection;     /* the one collection served ("cases") */
    size_t tail_ops;            /* committed ops kept per room for transforms/catch-up */
    size_t tail_bytes;
    int64_t milestone_every;    /* store the document with an op at least this many
                                   versions after the last stored one, once the op text
                                   since then is at least a quarter of that one's size */
    size_t outq_max;            /* bytes; live traffic over it closes the connection */
    size_t read_chunk;          /* ops per history read */
    size_t headroom;            /* bytes reserved before each message (LWS_PRE) */
    size_t max_rooms;
    size_t max_presence_channels;   /* per connection */
    size_t max_presences;           /* per connection */
    size_t max_rooms_principal;     /* rooms one principal's requests may have created and
                                       keep in the set (0: no limit) */
    int64_t max_op_lag;             /* an op based on a version further behind than this
                                       is refused (0: no limit) */
} room_config;

enum room_read_purpose { ROOM_READ_CATCHUP, ROOM_READ_SUBMIT };

/* A document's size limits for one author (doc_size.h), and for a refusal of its growth
 * budget: the budget, its window and when the author may add again. */
typedef struct room_limits {
    doc_limits doc;
    size_t budget;
    int64_t window_ms, retry_ms;
} room_limits;

/* What rooms need from the outside world. The hub implements it on the store and
 * libwebsockets; unit tests implement it in memory. */
typedef struct room_env {
    void *ctx;
    /* Load the document; answer with room_loaded(). */
    int (*load)(void *ctx, room *r);
    /* Read committed ops [from, to), at most max, and with_doc: the document at `from`
     * too; answer with room_read_done(). */
    int (*read_ops)(void *ctx, room *r, int64_t from, int64_t to, size_t max, int with_doc,
                    int purpose, void *tag);
    /* Make op durable, and with it follow when not NULL (the server's op applied right
     * after it: both in one transaction), with the document text as a milestone when
     * milestone != NULL (after both; the callee then owns it); answer with
     * room_committed(), once per op, in submit order. The ops are applied already, so
     * this cannot refuse: when it cannot go on it answers with a failure, and the hub
     * stops. */
    void (*commit)(void *ctx, room *r, room_op *op, room_op *follow, char *milestone);
    void (*wake)(void *ctx, room_peer *p);      /* p has queued output */
    void (*kill)(void *ctx, room_peer *p);      /* p fell too far behind: close it */
    int64_t (*now_ms)(void *ctx);

    /* Access hooks (all NULL: no access control). `policy` is what the room's load
     * returned (room_load.policy), NULL for a document that belongs to no session.
     * admit: whether p may make this request (action, and for ops their kind and
     * components as submitted); 0 with *view set, or -1 with *err filled. */
    int (*admit)(void *ctx, void *policy, room_peer *p, proto_action action, int kind,
                 const cJSON *op, unsigned *view, proto_error *err);
    /* Whether view may apply the edit op (transformed to doc's version) to doc. */
    int (*check_write)(void *ctx, void *policy, unsigned view, const cJSON *op,
                       const cJSON *doc, proto_error *err);
    /* An edit that passed check_write is about to apply to doc: what projecting it will
     * need, the env's own (its *frame*: the state the op is read under, and what can only
     * be made from the document before it), kept with the op and released with
     * frame_unref. NULL when memory runs out: the op is refused. */
    void *(*op_begin)(void *ctx, void *policy, const cJSON *op, const cJSON *doc);
    /* The op applied (doc is the document after it, at ts, by author whose view is
     * `view`): the env completes the frame. *follow may receive the server's own op to
     * apply right after it, in the same commit (a new tree; its author is
     * ROOM_SERVER_AUTHOR, whose ops get no follower). 0, or -1 when memory ran out (the
     * frame then makes projections fail, which closes the connections that need them). */
    int (*op_end)(void *ctx, void *policy, void *frame, const cJSON *op, const cJSON *doc,
                  const char *author, unsigned view, int64_t ts, cJSON **follow);
    void (*frame_unref)(void *frame);
    /* The part of payload a view may read, as JSON text (malloc'ed): kind ROOM_SNAPSHOT
     * for the document's data at the room's version, else an op payload (edit
     * components, create {type, data}) with its frame (NULL for ops the room did not
     * apply itself) and doc, the document before it when the caller has it (ops read
     * from the store), else NULL. NULL with *needs_doc set when the projection needs the
     * document before the op and has neither; NULL otherwise when memory runs out. */
    char *(*project)(void *ctx, void *policy, unsigned view, int kind, const cJSON *payload,
                     void *frame, const cJSON *doc, int *needs_doc);
    /* Whether project() would return payload unchanged for view, so the room can relay
     * the op's own text instead of projecting and printing it again. Optional. */
    int (*projects_whole)(void *ctx, void *policy, unsigned view, int kind,
                          const cJSON *payload, void *frame);
    /* Presence on a room's channel: the value view receives of what the sender set (a
     * new tree; JSON null for a sender leaving), and the sender's identity `u` as view
     * is told it (JSON text, malloc'ed). NULL when memory runs out. */
    cJSON *(*presence_value)(void *ctx, void *policy, unsigned view, const cJSON *value);
    char *(*presence_identity)(void *ctx, void *policy, unsigned view, const room_peer *sender);
    void *(*policy_ref)(void *policy);
    void (*policy_unref)(void *policy);

    /* Limits (all optional; room_limits.c). may_open: whether p may have document doc
     * loaded at all, asked before a room is made for it (0, or -1 with *err filled).
     * limits: the size limits of the document for an op by `author`, its budget of
     * growth included (room_limits).
     * grew: author's op added bytes to the document. spend: charge p's op budget `ops`
     * more ops (an op transformed across many versions costs more than one). */
    int (*may_open)(void *ctx, room_peer *p, const char *doc, proto_error *err);
    void (*limits)(void *ctx, void *policy, const char *author, room_limits *out);
    void (*grew)(void *ctx, void *policy, const char *author, size_t bytes);
    void (*spend)(void *ctx, room_peer *p, double ops);
} room_env;


/* The `kind` of project() for document snapshots. */
#define ROOM_SNAPSHOT (-1)
/* The author (and src) of the server's own ops (op_end's follow). */
#define ROOM_SERVER_AUTHOR "konsil"

/* How a bulk request (bf/bs) hears about one of its documents. status 0: the snapshot
 * (v, exists, data_json; data_json NULL when the request streamed ops instead);
 * otherwise err says why. */
typedef struct room_part {
    void (*done)(void *arg, const char *doc, int status, const proto_error *err, int64_t v,
                 int exists, const char *data_json);
    void *arg;
} room_part;

room_set *room_set_new(const room_config *cfg, const room_env *env);
void room_set_free(room_set *s);
/* Rooms with nothing to do for idle_ms are evicted. */
void room_set_sweep(room_set *s, int64_t now, int64_t idle_ms);
/* Document id is gone (its case was erased): its room, if loaded, is evicted now when it
 * is idle, else at the first sweep that finds it idle. The hub refuses its members first. */
void room_set_drop(room_set *s, const char *id);
/* Ops applied and not yet committed, over all rooms. */
size_t room_set_uncommitted(const room_set *s);
/* Documents held in memory, and how often one more was refused (max_rooms). */
size_t room_set_count(const room_set *s);
size_t room_set_full_refusals(const room_set *s);

/* f, s, u and op. The request is moved into the room (freed by it); the reply, or
 * an error echoing the request, is queued on p when its turn comes. */
void room_request(room_set *s, room_peer *p, proto_msg *req);
/* One document of a bulk request: action PROTO_F or PROTO_S, version or none; the
 * outcome goes to part instead of a reply. A bulk subscribe by ids does not go live
 * here: the hub calls room_go_live() once the combined reply is queued. */
void room_bulk_part(room_set *s, room_peer *p, proto_action action, const char *doc,
                    int has_v, int64_t v, const room_part *part);
void room_go_live(room_set *s, room_peer *p, const char *doc, int64_t from);
void room_unsubscribe(room_set *s, room_peer *p, const char *doc);

/* Presence (p, ps, pu, pr) on the channel msg->ch, which is a room's id: admitted and
 * ordered by that room like its other requests. The request is moved in. */
void room_presence_request(room_set *s, room_peer *p, proto_msg *msg);
/* The access policy of a loaded room, or NULL. Borrowed. */
void *room_policy(room_set *s, const char *id);

/* The peer leaves every room (before the hub frees it). */
void room_peer_detach(room_set *s, room_peer *p);
/* Whether the peer is a member of document doc's room: it subscribed to, fetched,
 * submitted to or sent presence on it (and has not left). */
int room_peer_in(const room_peer *p, const char *doc);
/* The peer's queue drained: resume its catch-ups. */
void room_peer_drained(room_set *s, room_peer *p);

/* Answers from the environment. */
const char *room_id(const room *r);
/* What loading a document found. */
typedef struct room_load {
    int status;                 /* 0, or the document cannot be loaded */
    doc_state *doc;             /* its latest state; moved into the room */
    room_row *rows;             /* the ops since the milestone it was rebuilt from */
    size_t n;
    int64_t last_ts;            /* the time of its latest op (0: none) */
    int64_t create_v;           /* its latest create op, < 0 when never created */
    const char *create_src, *create_author;
    int64_t create_seq;
    void *policy;               /* the access policy; the room takes this reference */
} room_load;

void room_loaded(room *r, room_load *load);
/* rows: the ops read; doc: the document at the first one's version when read_ops was
 * asked for it (the room may change it: it moves it along the rows), else NULL. */
void room_read_done(room *r, int purpose, void *tag, int status, room_row *rows, size_t n,
                    doc_state *doc);
/* The oldest uncommitted op of r is durable (status 0) or cannot be (status != 0:
 * the hub stops, nothing more is acked). */
void room_committed(room *r, int status);

/* Queue a reply that is not ordered with any room (hs, pp, nf, nt, bulk replies,
 * refusals). Returns 0 or -1 (no memory: p is closed). */
int room_peer_reply(room_set *s, room_peer *p, proto_buf *b);
const room_config *room_set_config(const room_set *s);

#endif
