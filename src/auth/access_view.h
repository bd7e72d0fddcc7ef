/*
 * The view: everything a principal receives of a case and may submit to it, for every
 * channel. This is the one place that decides visibility; every channel calls it:
 *
 *   /ws snapshots (s, f, bs, bf, the create op's data, nf/nt)   access_view_snapshot
 *   /ws ops (broadcast, catch-up)                                access_view_op
 *   history pages, snapshots at a version, exports               access_view_snapshot
 *                                                                + access_view_op (fixed frame)
 *   presence values                                              access_view_presence
 *   names: presence `u`, lobby, people lists, history authors    access_view_identity,
 *                                                                access_view_may_list
 *   what a page says about a field ("Wer sieht das?")           access_view_reading_at
 *   free text outside the document (a case's title)              access_view_text
 *   submitted ops                                                access_view_check_write
 *   the server's stamping op after an accepted insert            access_view_stamp
 *
 * A *view* is a reader as the rules see it: the selectors it matches (access_rules.h)
 * and its reading mode. The consent state (access_consents.h) is not part of the view:
 * it belongs to the document and is the same for every reader of a case at a version;
 * projections take it from a *frame*.
 *
 * Reading modes:
 *   - identified (clients, counsellors, the lead, a full export): values as they are;
 *   - supervision (supervisors, a pseudonymised export): free-text strings only while
 *     the client's `supervision` consent stands; without it each free-text string is
 *     shown as a mask of the same length (one ACCESS_VIEW_MASK per UTF-16 code unit), so
 *     the reader sees which fields exist and change, when, by whom and by how much, never
 *     the text. Structured strings (the template's "structured", stamped fields, a
 *     consent record's fields but its note) are shown as they are;
 *   - pseudonymised (supervisors unless they read the history under an identified grant,
 *     a pseudonymised export): the values at the template's identity paths always read as
 *     ACCESS_PSEUDONYM, and in every other string each name the case knows
 *     (access_names.h) is replaced by it — but in the values of a fixed set or the clock
 *     (stamped roles and times; a consent's kind, status, how, at), which are never
 *     names. (Stamped ids stay subject to replacement: sheets written before stamping
 *     hold names there.) Client names on every channel are the pseudonym.
 * Admins read nothing.
 *
 * Consent-conditioned rules: the containers on the way to a rule a view may read under
 * some consent stay in it whatever the consents, so the structure never changes with
 * consent; a part appears or disappears (od/oi at its key) when the consent changes.
 *
 * The invariant, for every view, every frame and every op the write check accepted (and
 * every stamping op):
 *     apply(snapshot(doc, frame), op(op, frame, names_after))
 *         == snapshot(apply(doc, op), frame')
 * where frame' has names_after and, unless the frame's consents are fixed, the consent
 * state of apply(doc, op). The projected op carries, right after a component that
 * changes the consent state, the components that take away or add what the view may no
 * longer or now read (and, for a supervision view, turn masks into text or back); when
 * the names change, the components that replace them come first. Projected ops are json0
 * ops whose delete payloads equal what the view holds.
 *
 * HOW EACH CHANNEL CALLS IT (the integration):
 *   - View: access_view_of(principal in this case, identified grant) once per connection
 *     or request; access_view_key() is what the room shares projections by (peers with
 *     one key receive the same bytes). Membership (who takes part, case status) is
 *     decided before; a closed case is read-only before access_view_check_write runs.
 *   - Frame, live (/ws): the room keeps, with its document at version v, frame.consents =
 *     access_view_consents(tpl, doc) (recomputed after each op that
 *     access_view_touches_consents) and frame.names: an access_names holding the display
 *     names of the case's clients (access_names_add when one is admitted) and the values
 *     its identity paths have had (access_names_learn after each op). names_after of an
 *     op is the dictionary after that op (a copy grown with the op's document and the
 *     clients admitted since the previous op); snapshots at v use frame(v). Names learned
 *     between ops take effect with the next op, never in between, so every peer of a key
 *     sees the same bytes at a version.
 *   - Ops, live: for each key the room serves, project right after applying, with the
 *     document before the op (doc_before may be NULL when access_view_op_needs_doc says
 *     so); cache the text per (op, key). access_view_op_whole lets the room relay the
 *     op's own text. A catch-up from the store for a key whose projection needs the
 *     document rebuilds it as the history does.
 *   - History pages, snapshots at a version, exports: frame = {consents of the latest
 *     version, consents_fixed = true, names = the clients' names and the identity values
 *     of the latest version}, the same frame for every page and every op of it (names_after
 *     = frame.names): what a reader may read is decided at the time of the read, and a
 *     revoked consent hides old versions too. Exports use access_view_export().
 *   - Presence: access_view_presence(tpl, view, consents at the current version, value);
 *     the identity `u` comes from access_view_identity(view, sender).
 *   - Lobby, people lists, history authors and event actors: access_view_may_list and
 *     access_view_identity; a supervisor reading the lobby is audited like any read.
 *   - Submits: access_view_check_write on the op transformed to the current version,
 *     against the current document; after applying it, access_view_stamp with the same
 *     op and the document after it gives the server op (author "konsil") that the hub
 *     applies and commits in the same commit; every peer receives both.
 *
 * Ownership: functions returning cJSON * return a new tree the caller frees with
 * cJSON_Delete; inputs are only read. Pure: no I/O, no state.
 */
#ifndef KONSIL_AUTH_ACCESS_VIEW_H
#define KONSIL_AUTH_ACCESS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/access_consents.h"
#include "auth/access_names.h"
#include "auth/access_rules.h"
#include "auth/auth_error.h"
#include "auth/principal.h"
#include "auth/template.h"

/* A masked character of free text: U+2022 BULLET, one UTF-16 code unit. */
#define ACCESS_VIEW_MASK "\xe2\x80\xa2"

/* Reading modes (flags of a view). */
#define ACCESS_VIEW_PSEUDONYMISED (1u << 0) /* identity paths and client names as the pseudonym */
#define ACCESS_VIEW_SUPERVISION (1u << 1)   /* free text only under the supervision consent */
#define ACCESS_VIEW_EVERYTHING (1u << 2)    /* every path, whatever the rules (exports) */

typedef struct access_view {
    access_set roles;   /* the selectors the reader matches; 0 for admins and exports */
    unsigned flags;     /* ACCESS_VIEW_* */
} access_view;

/* The view of who in a case (who->is_lead set for this case). identified: a supervisor
 * reading the history under an unexpired identified grant of the lead (ignored for
 * everyone else; on /ws supervisors are always pseudonymised). */
access_view access_view_of(const auth_principal *who, bool identified);
/* An export: the whole case; pseudonymised as a supervisor reads it, or identified. */
access_view access_view_export(bool pseudonymise);

/* A number naming the view (selectors and mode), equal for equal views. */
uint32_t access_view_key(const access_view *v);
access_view access_view_from_key(uint32_t key);

/* The consent bits that can change what v reads of a case under t. */
access_consents access_view_consent_mask(const template_spec *t, const access_view *v);

/* ---- the consent state -------------------------------------------------------------- */

/* The consent state of doc (its consent list, latest record per (kind, with)); 0 when the
 * template keeps no consents. */
access_consents access_view_consents(const template_spec *t, const cJSON *doc);
/* Whether op has a component at, inside or above the consent list (only such ops can
 * change the consent state). */
bool access_view_touches_consents(const template_spec *t, const cJSON *op);

/* What a projection reads besides the view and the document. */
typedef struct access_frame {
    access_consents consents;   /* the consent state the view reads under */
    bool consents_fixed;        /* history and exports: keep it whatever the ops do */
    const access_names *names;  /* the names pseudonymised views replace; NULL: none */
} access_frame;

/* ---- what a view reads of one place --------------------------------------------------- */

typedef enum access_view_reading {
    ACCESS_READS_NOTHING,    /* not in the view */
    ACCESS_READS_STRUCTURE,  /* free text shown as a mask of the same length */
    ACCESS_READS_PSEUDONYM,  /* an identity path: always ACCESS_PSEUDONYM */
    ACCESS_READS_REDACTED,   /* the text, with the names the case knows replaced */
    ACCESS_READS_TEXT        /* the value as it is */
} access_view_reading;

/* How v reads the value at path (a document path) under consents: what every channel
 * shows there. A path to something that is not a string reads TEXT or NOTHING (but an
 * identity path, PSEUDONYM). */
access_view_reading access_view_reading_at(const template_spec *t, const access_view *v,
                                           access_consents consents, const cJSON *path);

/* ---- projection ---------------------------------------------------------------------- */

/* What v receives of doc (an object). Objects on the way to what it may read stay,
 * possibly empty; a view that reads nothing gets {}. NULL with *err when doc is not an
 * object or memory runs out. */
cJSON *access_view_snapshot(const template_spec *t, const access_view *v,
                            const access_frame *f, const cJSON *doc, auth_error *err);

/* What v receives of op, applied to doc_before under frame f; names_after is the names
 * dictionary after the op (NULL or f->names: unchanged). An op that loses every
 * component is [] (versions line up). NULL with *err for a malformed op, an op that does
 * not apply to doc_before, or no memory. */
cJSON *access_view_op(const template_spec *t, const access_view *v, const access_frame *f,
                      const access_names *names_after, const cJSON *doc_before,
                      const cJSON *op, auth_error *err);

/* Whether access_view_op needs doc_before for this view and op (else NULL will do): an
 * op touching the consent list under a live frame, names that change for a
 * pseudonymised view, or an edit of a string whose text the view reads redacted. */
bool access_view_op_needs_doc(const template_spec *t, const access_view *v,
                              const access_frame *f, const access_names *names_after,
                              const cJSON *op);

/* Whether access_view_op would return op unchanged, so the op's own text can be relayed.
 * Conservative: false when unsure. */
bool access_view_op_whole(const template_spec *t, const access_view *v, const access_frame *f,
                          const cJSON *op);

/* A free-text string that lives outside the document (a case's title on the session
 * resource, a text in an event) as v reads it under consents and names: 1 and *out (free
 * with free) when shown otherwise, 0 when shown as it is, -1 (memory). */
int access_view_text(const access_view *v, access_consents consents,
                     const access_names *names, const char *s, char **out);

/* ---- presence and names -------------------------------------------------------------- */

/* The presence value to relay to v (value: what the sender set; {"path": [...]} names a
 * place). The value itself when v may read the place (or it names none); {"path": null}
 * (present, no place) when v may not read it or the path is not a path. Pseudonymised and
 * supervision views get no strings but the path's: the client-defined fields are
 * dropped but numbers and booleans (a cursor), and a value that is not an object becomes
 * {"path": null}; null (gone) stays null. NULL only when memory runs out. */
cJSON *access_view_presence(const template_spec *t, const access_view *v,
                            access_consents consents, const cJSON *value);

/* How person is named to v: {"id", "name", "role", "specialty"?} plus, for a client,
 * "name_self_chosen": true (identified views: the client chose that name) or
 * "pseudonym": true (pseudonymised views: the name is ACCESS_PSEUDONYM). Team members'
 * names are theirs for every view. NULL when memory runs out. */
cJSON *access_view_identity(const access_view *v, const auth_principal *person);

/* The author of the server's own ops (the stamping op), and how it is named to every
 * view: {"id": "konsil", "name": "Konsil", "role": "server"}. NULL: memory. */
#define ACCESS_VIEW_SERVER_ID "konsil"
cJSON *access_view_server_identity(void);

typedef enum access_view_list {
    ACCESS_LIST_LOBBY,   /* the clients waiting to be admitted */
    ACCESS_LIST_PEOPLE   /* who takes part in the case */
} access_view_list;

/* Whether v may read that list (its names then through access_view_identity): the lobby
 * for counsellors and supervisors, the people for everyone but admins. */
bool access_view_may_list(const access_view *v, access_view_list which);

/* ---- submitting ------------------------------------------------------------------------ */

/* Whether author (its view: role and selectors) may apply op (transformed to the current
 * version) to doc: access_write.h's check, then: no subtype (t) components; every item
 * inserted into a stamped list is an object whose stamped fields are absent or null;
 * nothing sets, changes or removes a stamped field of an existing item; a consent record
 * has the shape access_consents.h describes (how as the author's role needs). 0, or -1
 * with the message for ERR_OP_SUBMIT_REJECTED. */
int access_view_check_write(const template_spec *t, const access_view *author,
                            const cJSON *op, const cJSON *doc, auth_error *err);

/* The server op that fills the stamped fields of the items op inserted (op: accepted,
 * transformed to the current version, and applied: doc_after is the document after it),
 * from author and now_ms (ms since the epoch); it applies to doc_after. *out is NULL when
 * op inserted nothing stamped. 0, or -1 with *err (doc_after does not hold an item op
 * inserted, memory).
 * Consent records get given_by (the client's id when the client records; "client" when a
 * counsellor records on its behalf), recorded_by (the author's id), at (now_ms) and, for
 * the client, how = "self". */
int access_view_stamp(const template_spec *t, const auth_principal *author, int64_t now_ms,
                      const cJSON *doc_after, const cJSON *op, cJSON **out, auth_error *err);

#endif
