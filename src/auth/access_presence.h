/*
 * Which presence a principal may see. Konsil's presence values (the untyped presence
 * channel of a session, relayed by the hub) are JSON objects that may name a place in
 * the case sheet:
 *
 *     {"path": ["sections", "debt", "notes"], "index": 12, "length": 0, ...}
 *
 * "path" is a document path (object keys and list indices) as in a json0 component;
 * the other fields (a text cursor, a selection) are the client's business. Identity is
 * not part of the value: the hub stamps it from the principal.
 *
 * A presence that names a path reveals that someone is looking at that place, so it is
 * relayed only to principals who may read the path. A presence without a path (no
 * "path" field, "path": null, a value that is not an object, or null — presence gone)
 * is always relayed. A "path" that is not a valid document path is never relayed.
 */
#ifndef KONSIL_AUTH_ACCESS_PRESENCE_H
#define KONSIL_AUTH_ACCESS_PRESENCE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/principal.h"

/* Whether presence (only read) may be relayed to who. When it may not, the hub should
 * relay null in its place, so that the receiver drops the sender's earlier cursor rather
 * than keep it where it was. */
bool access_presence_visible(const access_rules *rules, const auth_principal *who,
                             const cJSON *presence);

#endif
