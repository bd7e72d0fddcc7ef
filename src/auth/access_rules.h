/*
 * Access rules: which principals may read and write which part of a case sheet.
 *
 * A rule names a path of object keys from the document root (list indices are never
 * access boundaries, so a rule path never passes through a list) and two sets of
 * selectors, read and write. A path in the document is governed by the rule with the
 * longest path that is a prefix of it; a rule for the root ([]) always exists in a
 * finished rule set, so every path has exactly one governing rule. The selectors:
 *
 *   client            the session's client
 *   counsellor        every counsellor of the session (the lead included)
 *   counsellor:<s>    counsellors whose specialty is s (debt, social_law, migration,
 *                     housing, family, addiction)
 *   lead              the session's lead counsellor
 *   supervisor        supervisors of the session (never in a write set)
 *
 * A principal's rights under a rule are the union over the selectors it matches; a
 * principal matching none gets nothing (default deny; admins match none). Every
 * principal a write set names must also be named by the read set: whoever changes a
 * part of the sheet sees it.
 *
 * A read selector may carry a condition on the case's consent state (access_consents.h):
 * it grants reading only while that consent stands, e.g. "counsellor" reads a section's
 * client summary while share/<the reader's specialty> stands. Conditioned selectors are
 * kept apart from the plain read set (rule->conds), so code that knows only the plain
 * set (access_can_read and the modules built on it) never grants what a condition
 * guards: it fails closed. Write sets take no conditions, and a writer must be a plain
 * reader. A principal "may read" a rule when a selector matches it whatever the consent
 * state (the containers on the way to such a rule stay in its view, so the structure it
 * sees never changes with consent).
 *
 * The decisions on top of the rules live in access_view.h (what a principal receives, on
 * every channel, and may submit) and access_write.h (the rules' part of the write check,
 * which access_view.h runs first).
 * Ownership: an access_rules is made by access_rules_new, filled by access_rules_add
 * (which copies what it is given) and freed by access_rules_free; access_rule pointers
 * handed out stay owned by the set and valid until it is freed.
 */
#ifndef KONSIL_AUTH_ACCESS_RULES_H
#define KONSIL_AUTH_ACCESS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/access_consents.h"
#include "auth/auth_error.h"
#include "auth/principal.h"

/* A set of selectors as a bitmask. */
typedef uint32_t access_set;
#define ACCESS_CLIENT (1u << 0)
#define ACCESS_COUNSELLOR (1u << 1)
#define ACCESS_LEAD (1u << 2)
#define ACCESS_SUPERVISOR (1u << 3)
/* counsellor:<s> for s from AUTH_SPECIALTY_DEBT to AUTH_SPECIALTY_ADDICTION. */
#define ACCESS_COUNSELLOR_OF(s) (1u << (3 + (unsigned)(s)))

/* A conditioned read selector: role reads while the consent (consent, with) stands. */
typedef struct access_condition {
    access_set role;            /* one selector bit */
    access_consent_kind consent;
    int with;                   /* a specialty, ACCESS_WITH_READER or ACCESS_WITH_NONE */
} access_condition;

typedef struct access_rule {
    size_t index;        /* position in its rule set */
    char **keys;         /* the path: depth object keys from the root */
    size_t depth;
    char *path_text;     /* the path as JSON text, for messages */
    access_set read;     /* plain read selectors */
    access_set write;
    bool append_only;    /* the path holds a list that only grows at its end */
    access_condition *conds; /* conditioned read selectors, n_conds of them */
    size_t n_conds;
} access_rule;

typedef struct access_rules access_rules;

/* An empty rule set, or NULL when memory runs out; freed with access_rules_free. */
access_rules *access_rules_new(void);
void access_rules_free(access_rules *rules);

/* Parses one selector name (see above) into its bit. Returns 0 or -1 with *err naming
 * the valid selectors. */
int access_selector_parse(const char *name, access_set *out, auth_error *err);

/* Adds a rule. path is a JSON array of strings (copied). Refused with a message: a path
 * element that is not a string, a path some rule has already, supervisors in the write
 * set, a writer the read set does not cover, unknown selector bits. */
int access_rules_add(access_rules *rules, const cJSON *path, access_set read,
                     access_set write, bool append_only, auth_error *err);

size_t access_rules_count(const access_rules *rules);

/* Adds a conditioned read selector to the rule at index. Refused with a message: a
 * selector the rule reads already (plain or conditioned), supervision/processing with a
 * "with", share without one, "with": reader for a role that is not a counsellor's, a
 * release condition. */
int access_rules_add_condition(access_rules *rules, size_t index, const access_condition *c,
                               auth_error *err);

/* The rule at index (0 <= index < count). */
const access_rule *access_rules_at(const access_rules *rules, size_t index);

/* The selectors a principal matches (0 for admins). */
access_set access_principal_set(const auth_principal *who);

/* A valid document path: a JSON array of strings and integers >= 0. */
bool access_path_valid(const cJSON *path);

/* The rule governing path (longest prefix), or NULL when path is not valid or the set
 * has no root rule. */
const access_rule *access_rules_match(const access_rules *rules, const cJSON *path);

/* True when some rule's path lies strictly below path (path is a proper prefix of it):
 * the value at path holds parts with their own rules. */
bool access_rules_has_below(const access_rules *rules, const cJSON *path);

bool access_rule_reads(const access_rule *rule, const auth_principal *who);
/* Also false for principals that never write (supervisors, admins). */
bool access_rule_writes(const access_rule *rule, const auth_principal *who);

/* Whether who may read / write the value at path as its governing rule says (false for
 * an invalid path). Writing is further constrained op by op: see access_write.h. */
bool access_can_read(const access_rules *rules, const auth_principal *who, const cJSON *path);
bool access_can_write(const access_rules *rules, const auth_principal *who, const cJSON *path);

/* ---- reading under a consent state (access_view.h builds on these) ---------------- */

/* Whether a principal with selectors `roles` reads under rule while `consents` stands. */
bool access_rule_reads_under(const access_rule *rule, access_set roles, access_consents consents);
/* Whether it reads under rule in some consent state (a selector matches it). */
bool access_rule_may_read(const access_rule *rule, access_set roles);
/* access_can_read_all under a consent state (false for an invalid path). */
bool access_read_all_under(const access_rules *rules, access_set roles, access_consents consents,
                           const cJSON *path);
/* Whether some rule strictly below path may be read by roles in some consent state. */
bool access_may_read_below(const access_rules *rules, access_set roles, const cJSON *path);
/* The consent bits whose change can change what roles reads. */
access_consents access_rules_consent_mask(const access_rules *rules, access_set roles);

#endif
