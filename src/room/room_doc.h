/*
 * A document's state at one version, and how one committed op changes it: the ShareDB
 * snapshot semantics (create, edit, delete) on top of the json0 engine. Shared by the
 * live rooms and the store's history reads, so both rebuild documents identically.
 *
 * Invariant: `v` counts the ops applied (a document at version v is the result of ops
 * 0 .. v-1); `data` is non-NULL exactly when `exists`. Pure code, no I/O.
 *
 * Ownership: the document owns `data`; room_doc_clear() frees it.
 */
#ifndef KONSIL_ROOM_DOC_H
#define KONSIL_ROOM_DOC_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"

typedef struct room_doc {
    int64_t v;
    int exists;
    cJSON *data;
} room_doc;

/* Why room_doc_apply() refused; it changes nothing when it refuses. */
enum {
    ROOM_DOC_OK = 0,
    ROOM_DOC_EXISTS = -1,   /* create on a document that exists */
    ROOM_DOC_MISSING = -2,  /* edit or delete on a document that does not exist */
    ROOM_DOC_OT = -3,       /* the engine refused the edit (message in *err) */
    ROOM_DOC_NOMEM = -4
};

void room_doc_init(room_doc *d);
void room_doc_clear(room_doc *d);

/* Applies one op and increments v. kind is a proto_op_kind; payload is the component
 * array (edit), the {type, data} object (create) or NULL (delete). */
int room_doc_apply(room_doc *d, int kind, const cJSON *payload, ot_error *err);

/* The document as compact JSON text ("null" when it does not exist); malloc'ed, the
 * caller frees it. NULL when memory runs out. */
char *room_doc_text(const room_doc *d);

#endif
