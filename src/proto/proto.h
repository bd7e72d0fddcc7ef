/*
 * The ShareDB wire protocol (major 1, minor 2) as Konsil speaks it: parsing and
 * validating one client message, and building every server message.
 * protocol/sharedb-wire.md describes the messages for client authors.
 *
 * Pure code: no sockets, no database, no state between calls, so it can be unit-tested
 * and fuzzed with arbitrary bytes. A parsed message borrows its strings and values
 * from the cJSON tree it owns, so it stays valid until proto_msg_free().
 *
 * Invariants kept here:
 *   - every message proto_parse() accepts is structurally valid: the fields its action
 *     needs are present with the right JSON types, versions and sequence numbers are
 *     integers in [0, 2^53), names are bounded strings, edit ops pass ot_check_op();
 *   - every refusal names a ShareDB error code, so the reply can echo the request with
 *     error:{code,message} as ShareDB does.
 */
#ifndef KONSIL_PROTO_H
#define KONSIL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "proto/proto_buf.h"

#define PROTO_MAJOR 1
#define PROTO_MINOR 2
/* JavaScript's Number.MAX_SAFE_INTEGER: versions and seqs stay below it. */
#define PROTO_MAX_SAFE 9007199254740991LL

/* ShareDB error codes Konsil sends. */
#define PROTO_ERR_BADLY_FORMED "ERR_MESSAGE_BADLY_FORMED"
#define PROTO_ERR_OT_BADLY_FORMED "ERR_OT_OP_BADLY_FORMED"
#define PROTO_ERR_SEQ_OVERFLOW "ERR_CONNECTION_SEQ_INTEGER_OVERFLOW"
#define PROTO_ERR_TYPE_UNKNOWN "ERR_DOC_TYPE_NOT_RECOGNIZED"
#define PROTO_ERR_NEWER "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT"
#define PROTO_ERR_ALREADY_CREATED "ERR_DOC_ALREADY_CREATED"
#define PROTO_ERR_DOES_NOT_EXIST "ERR_DOC_DOES_NOT_EXIST"
#define PROTO_ERR_WAS_DELETED "ERR_DOC_WAS_DELETED"
#define PROTO_ERR_REJECTED "ERR_OP_SUBMIT_REJECTED"
#define PROTO_ERR_FORBIDDEN "ERR_FORBIDDEN"
#define PROTO_ERR_NO_PRESENCE_TYPE "ERR_TYPE_DOES_NOT_SUPPORT_PRESENCE"
#define PROTO_ERR_NOT_IMPLEMENTED "ERR_DATABASE_METHOD_NOT_IMPLEMENTED"
#define PROTO_ERR_UNKNOWN "ERR_UNKNOWN_ERROR"
/* ShareDB's for an op it cannot bring up to the current version; Konsil's for an op
 * based on a version further behind than --max-op-lag. */
#define PROTO_ERR_TOO_OLD "ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND"
/* Konsil's own codes, for limits ShareDB does not have (protocol/limits.md). */
#define PROTO_ERR_TOO_MANY_ROOMS "ERR_TOO_MANY_ROOMS"
#define PROTO_ERR_LIMIT "ERR_LIMIT_EXCEEDED"

typedef enum proto_action {
    PROTO_HS, PROTO_F, PROTO_S, PROTO_U, PROTO_BF, PROTO_BS, PROTO_BU, PROTO_OP,
    PROTO_NF, PROTO_NT, PROTO_PP, PROTO_P, PROTO_PS, PROTO_PU, PROTO_PR,
    PROTO_QF, PROTO_QS, PROTO_QU
} proto_action;

typedef enum proto_op_kind { PROTO_EDIT = 0, PROTO_CREATE = 1, PROTO_DEL = 2 } proto_op_kind;

typedef struct proto_limits {
    size_t max_name;   /* longest c, d, src, ch, hs id and presence id, in bytes */
    size_t max_bulk;   /* most documents in one bf/bs/bu */
} proto_limits;

typedef struct proto_msg {
    cJSON *root;            /* owned: the request as received, echoed in error replies */
    proto_action action;
    const char *c, *d;      /* collection and document id; NULL when absent */
    int has_v;              /* v given and not null */
    int64_t v;
    /* hs */
    const char *hs_id;      /* the client's previous id, NULL for a first connection */
    /* op */
    proto_op_kind kind;
    const cJSON *op;        /* PROTO_EDIT: the component array */
    const cJSON *create_data; /* PROTO_CREATE: the initial data (NULL means null) */
    const char *src;        /* NULL when absent: the connection's id is used */
    int64_t seq;            /* op, ps, pu */
    /* nf, nt, qf, qs, qu: the request number, echoed in the reply */
    const cJSON *req_id;
    int has_ts;             /* nt: ts given and not null */
    int64_t ts;
    /* bf, bs, bu: an array of ids or an object {id: version or null} */
    const cJSON *bulk;
    /* p, ps, pu, pr */
    const char *ch;
    const char *presence_id;
    const cJSON *presence;  /* p: the value (NULL means null) */
    const cJSON *pv;        /* p: the presence version, relayed as given */
    int doc_presence;       /* p: the message carries t (typed doc presence) */
} proto_msg;

typedef struct proto_error {
    const char *code;       /* one of the PROTO_ERR_ strings */
    char message[160];
} proto_error;

/* Parses and validates one client message. Returns 0 with *msg filled (free it with
 * proto_msg_free()), or -1 with *err filled; on -1, msg->root still holds the parsed
 * request when it was a JSON object, so the error reply can echo it (free it too). */
int proto_parse(const char *text, size_t len, const proto_limits *lim, proto_msg *msg,
                proto_error *err);
void proto_msg_free(proto_msg *msg);

/* True for names a JavaScript client cannot use as object keys (ShareDB refuses them). */
int proto_name_is_dangerous(const char *name);

/*
 * Builders. Each appends one complete message to a fresh buffer; the caller checks
 * proto_buf_ok(). Strings are UTF-8 and escaped here; cJSON arguments are printed.
 */
/* The legacy greeting {a:"init",...} (handshake 0) or the hs reply (handshake 1). */
void proto_emit_init(proto_buf *b, int handshake, const char *id);
void proto_emit_error(proto_buf *b, cJSON *request, const proto_error *err);
/* An op as every other subscriber receives it; op_json is the compact JSON text of the
 * component array (edit) or of {type,data} (create); unused for del. */
void proto_emit_op(proto_buf *b, const char *c, const char *d, int64_t v, const char *src,
                   int64_t seq, proto_op_kind kind, const char *op_json);
void proto_emit_ack(proto_buf *b, const char *c, const char *d, const char *src, int64_t seq,
                    int64_t v);
/* {a, c, d, data:{v, data}} for a json0 document, {..., data:{v, type:null}} when it does
 * not exist; data_json is the document as compact JSON text. */
void proto_emit_snapshot_reply(proto_buf *b, proto_action a, const char *c, const char *d,
                               int64_t v, int exists, const char *data_json);
/* {a, c, d}: the reply to f/s with v and to u. */
void proto_emit_doc_reply(proto_buf *b, proto_action a, const char *c, const char *d);
/* nf/nt: {a, id, v, type, data}. */
void proto_emit_snapshot_fetch(proto_buf *b, proto_action a, const cJSON *req_id, int64_t v,
                               int exists, const char *data_json);
/* Bulk replies. The array form of bf/bs answers {a, c, data:{id: snapshot or {error}}}:
 * open, one item per document (first = 1 for the first), close. The object form, and
 * bu, answer {a, c, b} with b echoed. */
void proto_emit_bulk_open(proto_buf *b, proto_action a, const char *c);
void proto_emit_bulk_item(proto_buf *b, int first, const char *id, int64_t v, int exists,
                          const char *data_json);
void proto_emit_bulk_item_error(proto_buf *b, int first, const char *id,
                                const proto_error *err);
void proto_emit_bulk_close(proto_buf *b);
void proto_emit_bulk_ack(proto_buf *b, proto_action a, const char *c, const cJSON *bulk);
void proto_emit_pong(proto_buf *b);
/* {a:'p', ch, src, id, p, pv, u:{id}}: u is the sender's principal, stamped by the
 * server (the stock client ignores it; Konsil's own clients show it). */
void proto_emit_presence(proto_buf *b, const char *ch, const char *src, const char *id,
                         const cJSON *value, const cJSON *pv, const char *principal);
void proto_emit_presence_sub(proto_buf *b, proto_action a, const char *ch, int64_t seq);
/* {a:'pr', ch}; ch NULL gives the bare {a:'pr'} ShareDB replies to a pr request. */
void proto_emit_presence_request(proto_buf *b, const char *ch);

const char *proto_action_name(proto_action a);

#endif
