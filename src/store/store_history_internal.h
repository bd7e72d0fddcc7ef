/*
 * What the history reads (store_history.c) share with the reader's view of a case
 * (store_history_view.c): the view is the reader as the case's rules see it, and its
 * functions are the only places where document values and author identities reach a
 * history response, a snapshot or an export. What they show is decided by
 * src/auth/access_view.h, under the frame of the time of the read: the consents of the
 * case's latest version and the names the case knows then (its clients' display names
 * and the identity values of the latest version), the same for every version read.
 */
#ifndef KONSIL_STORE_HISTORY_INTERNAL_H
#define KONSIL_STORE_HISTORY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "auth/access_view.h"
#include "auth/principal.h"
#include "auth/template.h"
#include "store/store.h"

/* One session of the case: the versions [from, to) edited during it (to < 0: it runs),
 * and when. */
typedef struct store_view_session {
    char id[64];
    int64_t from, to, started_at, ended_at;
} store_view_session;

typedef struct store_view {
    template_spec *tpl;     /* the case's template version (its rules), owned */
    auth_principal who;     /* the reader, is_lead set for this case */
    access_view view;       /* how it reads (access_view_of, or access_view_export) */
    access_frame frame;     /* fixed: the consents of the latest version, names */
    access_names *names;    /* owned; frame.names */
    int identified;         /* a supervisor reading under a grant */
    store_view_session *sessions;  /* the case's sessions, oldest first, owned */
    size_t n_sessions;
    const store_view_session *only;    /* a session's read: that session, else NULL */
} store_view;

/* Opens the view of the actor on the case (or session) job->in names; job->doc becomes
 * the case's id: 0, or -1 refused (NOT_FOUND when the actor may not read it, or there
 * is no such case or session). The frame is set by store_view_frame. store_view_close
 * frees what it holds. */
int store_view_open(sqlite3 *db, store_job *job, store_view *view);
void store_view_close(store_view *view);
/* The case in.id names (or, in.of_session, the case of that session): its id into
 * case_id, its template text into *text (the caller's to free). 1, 0 none, -1. */
int store_view_case(sqlite3 *db, store_job *job, char case_id[64], char **text);
/* The case's sessions into the view, oldest first. 0 or -1. */
int store_view_sessions(sqlite3 *db, const char *case_id, store_view *view);
/* The frame of a read of case job->doc whose latest version is head: its consents at
 * head and, for every view, the names it knows (the case's clients' display names, the
 * identity values at head). 0 or -1 (job->error). */
int store_view_frame(sqlite3 *db, store_job *job, store_view *view, int64_t head);
/* Whether projecting an op for this view needs the document before it (the caller then
 * keeps the document moving along the ops it reads). */
bool store_view_tracks(const store_view *view);
/* The document's data as the reader sees it; JSON null when it does not exist. */
cJSON *store_view_snapshot(const store_view *view, const doc_state *doc);
/* Adds what the reader sees of one stored op to entry: op, create or del; before is
 * the document before it (needed when store_view_tracks). 0 or -1. */
int store_view_op(const store_view *view, store_op_kind kind, const cJSON *payload,
                  const doc_state *before, cJSON *entry);
/* How the author in columns c.. of st (id, name, role, specialty) is named to the
 * reader (access_view_identity): {id, name, role, specialty, …}; the server's own ops
 * (author "konsil") as {id: "konsil", name: "Konsil", role: "server"}. */
cJSON *store_view_author(const store_view *view, sqlite3_stmt *st, int c);
/* The session version v was edited in, or NULL: between sessions. */
const char *store_view_session_of(const store_view *view, int64_t v);

#endif
