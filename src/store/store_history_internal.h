/*
 * What the history reads (store_history.c) share with the reader's view of a case
 * (store_history_view.c): the view is the reader as the case's rules see it, and its
 * functions are the only places where document values and author identities reach a
 * history response, a snapshot or an export.
 */
#ifndef KONSIL_STORE_HISTORY_INTERNAL_H
#define KONSIL_STORE_HISTORY_INTERNAL_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "auth/access_pseudo.h"
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
    access_pseudo *pseudo;  /* owned; NULL when the reader sees identities */
    int full;               /* an export: the whole document, no access projection */
    int identified;         /* a supervisor reading under a grant */
    store_view_session *sessions;  /* the case's sessions, oldest first, owned */
    size_t n_sessions;
    const store_view_session *only;    /* a session's read: that session, else NULL */
} store_view;

/* Opens the view of the actor on the case (or session) job->in names; job->doc becomes
 * the case's id: 0, or -1 refused (NOT_FOUND when the actor may not read it, or there
 * is no such case or session). store_view_close frees what it holds. */
int store_view_open(sqlite3 *db, store_job *job, store_view *view);
void store_view_close(store_view *view);
/* The case in.id names (or, in.of_session, the case of that session): its id into
 * case_id, its template text into *text (the caller's to free). 1, 0 none, -1. */
int store_view_case(sqlite3 *db, store_job *job, char case_id[64], char **text);
/* The case's sessions into the view, oldest first. 0 or -1. */
int store_view_sessions(sqlite3 *db, const char *case_id, store_view *view);
/* Makes the view pseudonymised with the case's client names in its dictionary. 0, -1. */
int store_view_pseudonymise(sqlite3 *db, const char *id, store_view *view);
/* Adds the identity values of the case's latest version (head) to the dictionary. */
int store_view_learn_head(sqlite3 *db, store_job *job, store_view *view, int64_t head);
/* The document's data as the reader sees it; JSON null when it does not exist. */
cJSON *store_view_snapshot(const store_view *view, const doc_state *doc);
/* Adds what the reader sees of one stored op to entry: op, create or del. 0 or -1. */
int store_view_op(const store_view *view, store_op_kind kind, const cJSON *payload,
                  cJSON *entry);
/* {id, name, role, specialty} of the author in columns c.. of st (id, name, role,
 * specialty), a client's name pseudonymised for a pseudonymised reader. */
cJSON *store_view_author(const store_view *view, sqlite3_stmt *st, int c);
/* The session version v was edited in, or NULL: between sessions. */
const char *store_view_session_of(const store_view *view, int64_t v);

#endif
