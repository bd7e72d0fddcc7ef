/*
 * json0: the JSON operational-transform type, over cJSON trees.
 *
 * Behaves exactly like the npm library ot-json0@1.1.0 (what the sharedb browser client
 * runs) on every valid input, so documents in browsers and in the hub never fork.
 * Where that library is sloppy this engine refuses with a message instead:
 *   - list indices must be integers >= 0, object keys must be strings;
 *   - paths must lead through existing containers and stay in range;
 *   - string offsets count UTF-16 code units and must not split a surrogate pair;
 *   - delete payloads (sd, ld, od) must equal what the document holds, and oi on an
 *     existing key must carry the od it replaces, so stored history stays invertible.
 *     Payloads are compared only by ot_apply: transform, compose, invert and normalize
 *     check the shape of ops, never whether a payload matches anything (two ops valid on
 *     one document are always transformed, as json0.js transforms them).
 *
 * An op is a cJSON array of components; see protocol/json0.md for the component forms.
 * None of these functions does I/O or keeps state between calls.
 *
 * Ownership: every function returning cJSON * returns a new tree the caller frees with
 * cJSON_Delete(); input ops are never modified or retained. Errors return NULL (or -1)
 * and fill *err with a human-readable message; nothing else changes on error. The first
 * message written wins (it is the most specific), so callers start from a zeroed
 * ot_error: `ot_error err = {{0}};`.
 */
#ifndef KONSIL_OT_JSON0_H
#define KONSIL_OT_JSON0_H

#include <cjson/cJSON.h>

#define OT_ERROR_MAX 200

typedef struct ot_error {
    char message[OT_ERROR_MAX];
} ot_error;

typedef enum ot_side { OT_LEFT, OT_RIGHT } ot_side;

/* Checks an op's shape without a document: an array of well-formed components.
 * Returns 0 or -1 with *err filled. */
int ot_check_op(const cJSON *op, ot_error *err);

/* Applies op to *doc in place (the root may be replaced, so *doc may change).
 * All or nothing: on error *doc is exactly as it was. *doc stays owned by the caller.
 * The document's strings are expected to be well-formed UTF-8, as every document built
 * from checked ops is; text offsets into other bytes are computed safely but not exactly. */
int ot_apply(cJSON **doc, const cJSON *op, ot_error *err);

/* Where one component of an op acted, as ot_apply_watched() shows it right after the
 * component applied (component NULL: the whole op has applied). Borrowed pointers into
 * the document, valid for the call:
 *   li, ld, lm, oi, od  `container`: the list or object changed (NULL when the root was
 *                       replaced);
 *   si, sd, text0       `value`: the string, as it is now;
 *   na                  `value`: the number, as it is now; `number_before` what it was. */
typedef struct ot_applied {
    const cJSON *component;
    const cJSON *container;
    const cJSON *value;
    double number_before;
} ot_applied;

/* Returns 0 to go on, or -1 with *err filled to refuse the op. */
typedef int (*ot_watch_fn)(void *arg, const ot_applied *applied, ot_error *err);

/* ot_apply(), calling watch (when not NULL) after each component has applied and once
 * more after the last; a refusal undoes the whole op, as a refused component does. */
int ot_apply_watched(cJSON **doc, const cJSON *op, ot_watch_fn watch, void *arg, ot_error *err);

/* Transforms op so that it applies after other; side breaks ties (the op submitted
 * later to the server is "left"). Returns a new op. Refuses ops of the wrong shape, and
 * what json0.js refuses too (an edit that cannot reach into a delete payload, text deletes
 * that disagree); never a delete payload that differs from the other op's view of it. */
cJSON *ot_transform(const cJSON *op, const cJSON *other, ot_side side, ot_error *err);

/* An op equivalent to op1 followed by op2. Returns a new op. */
cJSON *ot_compose(const cJSON *op1, const cJSON *op2, ot_error *err);

/* The op that undoes op (requires valid delete payloads). Returns a new op. */
cJSON *ot_invert(const cJSON *op, ot_error *err);

/* Merges adjacent components the way json0's normalize does. Returns a new op. */
cJSON *ot_normalize(const cJSON *op, ot_error *err);

#endif
