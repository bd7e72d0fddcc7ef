/*
 * Projection: what a principal receives of a case sheet and of every op applied to it.
 *
 * The projected snapshot holds every value the principal may read and nothing else.
 * Objects on the way to a readable part stay (possibly empty) even when they are not
 * readable themselves, so the principal's paths are the document's paths. A projected
 * op keeps exactly the components whose whole target (the value at the component's path
 * and everything below it) the principal may read; the others are removed, and an op
 * that loses every component is still returned, as an empty array, so versions line up.
 *
 * Invariant (for ops access_check_write accepted):
 *     apply(project_snapshot(doc), project_op(op)) == project_snapshot(apply(doc, op))
 * It holds because accepted components never straddle two rules (access_write.h) and
 * the objects kept on the way to readable rule paths can never be removed.
 *
 * Ownership: both functions return a new tree the caller frees with cJSON_Delete; the
 * inputs are only read.
 */
#ifndef KONSIL_AUTH_ACCESS_PROJECT_H
#define KONSIL_AUTH_ACCESS_PROJECT_H

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/auth_error.h"
#include "auth/principal.h"

/* The part of doc (an object) that who may read. An admin, who may read nothing, gets
 * {}. NULL with *err when doc is not an object or memory runs out. */
cJSON *access_project_snapshot(const access_rules *rules, const auth_principal *who,
                               const cJSON *doc, auth_error *err);

/* The components of op that who may read, in order. NULL with *err when op is not a
 * well-formed json0 op or memory runs out. */
cJSON *access_project_op(const access_rules *rules, const auth_principal *who,
                         const cJSON *op, auth_error *err);

#endif
