/*
 * Consents: the kinds Konsil knows, the shape of a consent record, and the consent state
 * of a case sheet.
 *
 * A template names the append-only list that holds a case's consent records and the
 * kinds it keeps (template.h, "consents"). A record is
 *
 *     {"kind": "share", "with": "housing", "status": "given", "how": "paper",
 *      "note": "…", "given_by": "…", "recorded_by": "…", "at": 1700000000000}
 *
 * kind      share        with = a specialty: that specialty's counsellors may read the
 *                        parts the rules condition on it (access_rules.h)
 *           supervision  supervisors may read free text (pseudonymised)
 *           processing   the general consent to data processing
 *           release      with = a recipient outside Konsil (1+ bytes): a release from
 *                        confidentiality; recorded, never a condition of a rule
 * status    given | revoked
 * how       self (stamped when the client records it) | in_person | paper | phone
 *           (required when a counsellor records it on the client's behalf)
 * note      optional text
 * given_by, recorded_by, at: stamped by the server (access_view.h, stamping).
 *
 * The state of (kind, with) is its latest record: given or revoked (never given reads as
 * revoked). Records that are not well-formed (older shapes, unknown kinds) count for
 * nothing. The state is a bit set over the pairs a rule can depend on: share with each
 * specialty, supervision, processing.
 *
 * Pure; no allocation. Ownership: inputs are only read.
 */
#ifndef KONSIL_AUTH_ACCESS_CONSENTS_H
#define KONSIL_AUTH_ACCESS_CONSENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/auth_error.h"
#include "auth/principal.h"

typedef enum access_consent_kind {
    ACCESS_CONSENT_SHARE,
    ACCESS_CONSENT_SUPERVISION,
    ACCESS_CONSENT_PROCESSING,
    ACCESS_CONSENT_RELEASE,
    ACCESS_CONSENT_KINDS
} access_consent_kind;

/* A set of kinds, as the template keeps them: 1u << kind. */
#define ACCESS_CONSENT_KIND_BIT(k) (1u << (unsigned)(k))
#define ACCESS_CONSENT_KIND_NAMES "share, supervision, processing, release"

/* The consent state: one bit per (kind, with) a rule can depend on. */
typedef uint32_t access_consents;
#define ACCESS_CONSENT_SHARE_WITH(s) (1u << ((unsigned)(s) - 1u)) /* s: a specialty, not none */
#define ACCESS_CONSENT_SUPERVISION_BIT (1u << 6)
#define ACCESS_CONSENT_PROCESSING_BIT (1u << 7)

/* "with" of a condition: a specialty (>= 1), or one of these. */
#define ACCESS_WITH_NONE (-1)
#define ACCESS_WITH_READER (-2) /* the reading counsellor's own specialty */

/* The fields of a record the server stamps (always), and the values of "how". */
#define ACCESS_CONSENT_HOW_SELF "self"
#define ACCESS_CONSENT_HOW_NAMES "in_person, paper, phone"

int access_consent_kind_parse(const char *name, access_consent_kind *out);
const char *access_consent_kind_name(access_consent_kind kind);

/* The state bit of (kind, with): with is a specialty for share (0 for none or an invalid
 * specialty); supervision and processing take ACCESS_WITH_NONE; release has no bit. */
access_consents access_consent_bit(access_consent_kind kind, int with);

/* The state of the records in list (a JSON array; anything else reads as no consent),
 * counting only kinds in known (ACCESS_CONSENT_KIND_BIT set). */
access_consents access_consents_of_list(const cJSON *list, unsigned known);

/* Whether field is one of a record's fields (kind, with, status, how, note, given_by,
 * recorded_by, at). Structured (shown as they are to supervisors): all but note. Of
 * those, kind, status, how and at hold values of a fixed set or times ("controlled"),
 * in which no name is ever replaced; with, given_by and recorded_by may name someone
 * (a recipient, or a name an older client wrote there). */
bool access_consent_field_known(const char *field);
bool access_consent_field_structured(const char *field);
bool access_consent_field_controlled(const char *field);

/* Checks a record a principal inserts into the consent list (component k of its op):
 * the shape above, a known kind, with as the kind needs, status, how as the author's
 * role needs (by_client: absent or null; else one of in_person, paper, phone), stamped
 * fields absent or null. 0, or -1 with a message for the author. */
int access_consent_check_record(const cJSON *record, unsigned known, bool by_client, int k,
                                auth_error *err);

#endif
