/*
 * A document's value at one version, and how one committed op changes it: the ShareDB
 * snapshot semantics (create, edit, delete) on top of the json0 engine. Shared by the
 * live rooms and the store's reads, so both rebuild documents identically; it knows
 * nothing of the wire (proto/) or the database (store/), which each name op kinds in
 * their own terms and map them to doc_op_kind.
 *
 * Invariants: `v` counts the ops applied (a document at version v is the result of ops
 * 0 .. v-1); `data` is non-NULL exactly when `exists`; `size` is the length of data's
 * compact JSON text (0 when it does not exist), kept as ops apply (doc_size.h) rather
 * than measured again. Pure code, no I/O.
 *
 * Ownership: the document owns `data`; doc_clear() frees it.
 */
#ifndef KONSIL_DOC_H
#define KONSIL_DOC_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "doc/doc_size.h"
#include "ot/json0.h"

/* The type every document has: json0, by the URI ShareDB stores in a create op. */
#define DOC_TYPE_URI "http://sharejs.org/types/JSONv0"

/* What an op does to a document. */
typedef enum doc_op_kind { DOC_OP_EDIT, DOC_OP_CREATE, DOC_OP_DEL } doc_op_kind;

typedef struct doc_state {
    int64_t v;
    int exists;
    cJSON *data;
    size_t size;
} doc_state;

/* Why doc_apply() refused; it changes nothing when it refuses. */
enum {
    DOC_OK = 0,
    DOC_EXISTS = -1,    /* create on a document that exists */
    DOC_MISSING = -2,   /* edit or delete on a document that does not exist */
    DOC_OT = -3,        /* the engine refused the edit (message in *err) */
    DOC_NOMEM = -4,
    DOC_LIMIT = -5      /* a size limit refused it (doc_apply_limited, *why says which) */
};

void doc_init(doc_state *d);
void doc_clear(doc_state *d);

/* Applies one op and increments v. payload is the component array (edit), the
 * {type, data} object (create) or NULL (delete). */
int doc_apply(doc_state *d, doc_op_kind kind, const cJSON *payload, ot_error *err);

/* The same within size limits (doc_size.h; NULL: none): DOC_LIMIT with *why filled when
 * the op would pass one, and then nothing changed. */
int doc_apply_limited(doc_state *d, doc_op_kind kind, const cJSON *payload,
                      const doc_limits *limits, doc_refusal *why, ot_error *err);

/* Takes data (a tree the document now owns) as the document at version v, measuring its
 * size once. */
void doc_adopt(doc_state *d, int64_t v, cJSON *data);

/* The payload of a create op, {type: DOC_TYPE_URI, data}, with a copy of data (NULL:
 * null). A new tree; NULL when memory runs out. */
cJSON *doc_create_payload(const cJSON *data);

/* The document as compact JSON text ("null" when it does not exist); malloc'ed, the
 * caller frees it. NULL when memory runs out. */
char *doc_text(const doc_state *d);

#endif
