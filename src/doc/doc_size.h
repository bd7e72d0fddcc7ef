/*
 * How big a document is, and the size limits an op must keep (protocol/limits.md,
 * "Case sheets"). Pure: no I/O.
 *
 * A document's size is the length of its compact JSON text (util/json_print.h), kept by
 * doc_state as ops apply: each applied component changes it by what it inserts or
 * removes (doc_size_watch), so nothing is printed or walked beyond the values an op
 * carries. The limits:
 *   - sheet:  the document's size; an op that would grow it past this is refused (one
 *             that shrinks a document already beyond it is not);
 *   - item:   one value an op inserts (a list item, li, or an object's value, oi), as
 *             JSON text;
 *   - string: one string, in bytes of UTF-8: every string an op inserts, and every string
 *             it lengthens (si) must stay within it;
 *   - grow:   when has_grow is set, how many bytes this op may add to the document (its
 *             author's budget, which the caller keeps): a growth beyond it is refused.
 * 0 means no limit (for sheet, item and string). A refusal names the limit and the sizes
 * involved.
 */
#ifndef KONSIL_DOC_SIZE_H
#define KONSIL_DOC_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"

typedef struct doc_limits {
    size_t sheet, item, string;
    int has_grow;
    size_t grow;
} doc_limits;

typedef enum doc_limit_kind {
    DOC_LIMIT_SHEET = 1,
    DOC_LIMIT_ITEM,
    DOC_LIMIT_STRING,
    DOC_LIMIT_GROW
} doc_limit_kind;

/* Why an op was refused: the limit passed, the value it has, and what the op would have
 * made of it (the document's size, an item's or a string's size, the growth); component
 * counts from 0 (-1: the whole op). */
typedef struct doc_refusal {
    doc_limit_kind kind;
    size_t limit, size;
    int component;
} doc_refusal;

/* The size of a value: the length of its compact JSON text. */
size_t doc_size_of(const cJSON *v);

/* The state of one op's watch: set size (the document's before the op) and limits (NULL:
 * none) and zero the rest, then pass doc_size_watch and it to ot_apply_watched(). After
 * the op applied, size is the document's new size; after a refusal, *why says which
 * limit (why.kind 0: the engine refused, not a limit). */
typedef struct doc_size_watch_state {
    size_t size;
    const doc_limits *limits;
    doc_refusal why;
    int64_t delta;
    int index;
} doc_size_watch_state;

int doc_size_watch(void *arg, const ot_applied *applied, ot_error *err);

#endif
