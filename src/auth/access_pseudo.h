/*
 * Pseudonymisation: what a reader in pseudonymised mode (a supervisor without an
 * identified grant, a pseudonymised export) receives instead of the client's identity.
 * Applied after the access projection (access_project.h), to snapshots and to ops.
 *
 * - Identity paths (the template's "identity": strings such as person.legal_name):
 *   the value is always shown as the pseudonym, whatever the client typed, so a
 *   snapshot never changes there. An op component on such a path or below it (si/sd,
 *   text edits, a replacement with oi+od) is removed; an oi or od that creates or removes
 *   the key carries the pseudonym instead of the value. A value inserted above an
 *   identity path (oi of a whole `person`) has the identity values inside it replaced.
 *   Hence, as for the projection,
 *       apply(pseudo_snapshot(doc), pseudo_op(op)) == pseudo_snapshot(apply(doc, op)).
 * - Dictionary (known identity values: the client's display names, the identity fields'
 *   values and their words of 4 bytes or more): occurrences inside the items of
 *   append-only lists (the chat, consents) are replaced by the pseudonym. Those items
 *   are never edited after their insert, so replacing text inside them cannot shift the
 *   offsets of a later op. Free text elsewhere (concern.own_words, notes being edited)
 *   is not redacted: a name typed there by hand stays (protocol/access.md).
 *
 * Ownership: access_pseudo_new copies what it keeps; the caller frees it with
 * access_pseudo_free. The snapshot and op functions change their argument in place.
 */
#ifndef KONSIL_AUTH_ACCESS_PSEUDO_H
#define KONSIL_AUTH_ACCESS_PSEUDO_H

#include <cjson/cJSON.h>

#include "auth/access_names.h"  /* ACCESS_PSEUDONYM */
#include "auth/access_rules.h"

typedef struct access_pseudo access_pseudo;

/* identity: the template's identity paths (copied); rules: the session's rules, which
 * must outlive the result (they tell which lists are append-only). NULL: no memory. */
access_pseudo *access_pseudo_new(const cJSON *identity, const access_rules *rules);
void access_pseudo_free(access_pseudo *ps);

/* Adds value (and its words of 4 bytes or more) to the dictionary. 0 or -1 (memory). */
int access_pseudo_add_name(access_pseudo *ps, const char *value);
/* Adds the values at the identity paths of doc (the full document) to the dictionary. */
int access_pseudo_learn(access_pseudo *ps, const cJSON *doc);

/* In place: data (a projected snapshot, an object) and op (a projected json0 op). */
void access_pseudo_snapshot(const access_pseudo *ps, cJSON *data);
void access_pseudo_op(const access_pseudo *ps, cJSON *op);

#endif
