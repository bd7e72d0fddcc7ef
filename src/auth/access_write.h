/*
 * Which ops a principal may submit. access_check_write runs on the op as it will be
 * applied: after the hub has transformed it up to the current version (a client may
 * submit at an old version), against the current document, before the op is applied or
 * stored. A refused op is refused whole — every component must pass — and its message
 * goes back with ERR_OP_SUBMIT_REJECTED.
 *
 * A component (with path p, from the op array, counted from 0) is refused when:
 *   1. p is [] — only the template creates or replaces the whole document;
 *   2. some rule lies strictly below p — the component would change parts with other
 *      rules at once (od of a whole section holding a client_summary, say); not even a
 *      principal allowed to write every one of those parts may do it;
 *   3. the rule governing p does not let the principal write (supervisors and admins
 *      never write);
 *   4. p is a rule's own path and the component is oi/od: the keys named by rules are
 *      the template's structure, so they can be replaced (oi with od) by the rule's
 *      writers but not removed, and the new value must have the old one's JSON type;
 *   5. p is governed by an append-only rule and the component is not a bare li directly
 *      in that list at index == its current length (plus the items earlier components
 *      of the same op appended). No ld, lm, li+ld, nothing deeper.
 * List moves, inserts and deletes inside a list are governed by the rule of the list's
 * key path (list indices are never boundaries).
 *
 * Two appends raced against each other: json0 keeps the later submitter's item first
 * (it transforms as the left side), so after transformation its li is no longer at the
 * end and it is refused; that client rolls back and sends its item again.
 */
#ifndef KONSIL_AUTH_ACCESS_WRITE_H
#define KONSIL_AUTH_ACCESS_WRITE_H

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/auth_error.h"
#include "auth/principal.h"

/* Returns 0 when who may apply op to doc (the current document, which is only read),
 * or -1 with a message for the submitter in *err. A malformed op is refused too;
 * whether it applies cleanly is ot_apply's to say. */
int access_check_write(const access_rules *rules, const auth_principal *who, const cJSON *op,
                       const cJSON *doc, auth_error *err);

#endif
