/*
 * What each view receives on /ws, through src/auth/access_view.h: the live frame of a
 * loaded case (the consent state and the names it knows at the room's version), the
 * frame the room keeps with each op it applies, the stamping op that follows a
 * client's insert, and the room's projection and presence hooks (room_env: op_begin,
 * op_end, frame_unref, project, projects_whole, presence_value, presence_identity).
 *
 * Invariants:
 *   - Every peer of one view key receives the same bytes at a version: a snapshot at v
 *     is read under the frame of v; an op under the frame before it, with the names
 *     after it. Names only change with an op: client names admitted between two ops are
 *     folded into the next one's names (its projection first replaces them), never in
 *     between.
 *   - A projection that needs the document before the op (access_view_op_needs_doc) is
 *     made at op_begin for every view key the room has served, while that document is
 *     at hand (or at op_end from a copy, when the op may change the names a
 *     pseudonymised view reads under). Any other view's such projection reports
 *     needs_doc, and the room makes it from the store's rebuilt document.
 *   - Ops read from the store without a frame (beyond the tail) are read under the
 *     consents of the document before them (the store's rebuild) and the names the
 *     room knows now.
 *
 * Ownership: a hub_live belongs to its policy (hub_access.c); frames are refcounted
 * (the room's op holds one; frame_unref drops it).
 */
#ifndef KONSIL_HUB_VIEW_H
#define KONSIL_HUB_VIEW_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/access_view.h"
#include "room/room.h"

/* View keys a room serves: on /ws a client, a counsellor of each specialty (or none),
 * lead or not, and a supervisor. */
#define HUB_LIVE_KEYS 32

typedef struct hub_names hub_names;

typedef struct hub_live {
    const template_spec *tpl;   /* borrowed: the policy's */
    access_consents consents;   /* at the room's version */
    hub_names *names;           /* the names at the room's version */
    hub_names *next;            /* those and the clients admitted since the last op;
                                   NULL when none were */
    uint32_t keys[HUB_LIVE_KEYS];   /* view keys the room has served */
    size_t n_keys;
} hub_live;

/* The frame of a case loaded at doc (its latest version; NULL: none yet): the consents
 * of doc, the names of its clients (client_names, a JSON array of display names) and
 * doc's identity values. 0 or -1 (memory). */
int hub_live_init(hub_live *l, const template_spec *tpl, const cJSON *client_names,
                  const cJSON *doc);
void hub_live_clear(hub_live *l);
/* A view key the room serves from now on (its peers were admitted). */
void hub_live_serve(hub_live *l, uint32_t key);
/* A client admitted: its display name joins the names at the next op. 0 or -1. */
int hub_live_add_client(hub_live *l, const char *display_name);

/* The snapshot doc as view reads it under a fixed frame: the consents and names of the
 * case at the time of the read (nf/nt: meta's "frame" from the store, see
 * store_case_frame). JSON text; NULL when memory runs out. */
char *hub_view_snapshot_fixed(const template_spec *tpl, uint32_t view, const cJSON *meta,
                              const cJSON *doc);

/* Installs the projection and presence hooks into env. */
void hub_view_env(room_env *env);

#endif
