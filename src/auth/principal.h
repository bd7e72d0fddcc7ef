/*
 * Principals: who is acting in a session. A principal is a plain value (fixed-size
 * strings, no pointers), so it can be copied into a connection, a room or a test
 * without ownership questions.
 *
 * Invariants kept by auth_principal_init (the only way a principal should be made):
 *   - id is 1..AUTH_ID_MAX-1 bytes of [A-Za-z0-9._:-] (UUIDs fit; nothing to escape);
 *   - display_name is 1..AUTH_DISPLAY_NAME_MAX-1 bytes of well-formed UTF-8 without
 *     control characters;
 *   - only counsellors have a specialty (or AUTH_SPECIALTY_NONE: general counselling);
 *   - only counsellors can be the lead of a session (is_lead is per session: the same
 *     person is lead in one room and an ordinary counsellor in another);
 *   - supervisors and admins never write a case sheet (auth_principal_may_write).
 * Admins administer accounts; they are no participants of a case and the access rules
 * give them nothing (need-to-know, research/domain.md R6).
 */
#ifndef KONSIL_AUTH_PRINCIPAL_H
#define KONSIL_AUTH_PRINCIPAL_H

#include <stdbool.h>

#include "auth/auth_error.h"

#define AUTH_ID_MAX 64
#define AUTH_DISPLAY_NAME_MAX 128

typedef enum auth_role {
    AUTH_ROLE_CLIENT,
    AUTH_ROLE_COUNSELLOR,
    AUTH_ROLE_SUPERVISOR,
    AUTH_ROLE_ADMIN
} auth_role;

/* The order is part of the access-rule bitmask (access_rules.h); append only. */
typedef enum auth_specialty {
    AUTH_SPECIALTY_NONE,
    AUTH_SPECIALTY_DEBT,
    AUTH_SPECIALTY_SOCIAL_LAW,
    AUTH_SPECIALTY_MIGRATION,
    AUTH_SPECIALTY_HOUSING,
    AUTH_SPECIALTY_FAMILY,
    AUTH_SPECIALTY_ADDICTION,
    AUTH_SPECIALTY_COUNT
} auth_specialty;

typedef struct auth_principal {
    char id[AUTH_ID_MAX];
    char display_name[AUTH_DISPLAY_NAME_MAX];
    auth_role role;
    auth_specialty specialty;
    bool is_lead;
} auth_principal;

/* Fills *out after checking the invariants above. The strings are copied; *out is
 * owned by the caller (usually on the stack or inside a connection). Returns 0 or -1
 * with *err filled and *out untouched. */
int auth_principal_init(auth_principal *out, const char *id, const char *display_name,
                        auth_role role, auth_specialty specialty, bool is_lead,
                        auth_error *err);

/* False for supervisors and admins, whatever a template says. */
bool auth_principal_may_write(const auth_principal *who);

/* Wire names: "client", "counsellor", "supervisor", "admin". Static strings. */
const char *auth_role_name(auth_role role);
/* Parses a wire name. Returns 0 or -1 (unknown name, *out untouched). */
int auth_role_parse(const char *name, auth_role *out);

/* Wire names: "none", "debt", "social_law", "migration", "housing", "family",
 * "addiction". Static strings. */
const char *auth_specialty_name(auth_specialty specialty);
/* Parses a wire name, "none" included. Returns 0 or -1 (*out untouched). */
int auth_specialty_parse(const char *name, auth_specialty *out);

#endif
