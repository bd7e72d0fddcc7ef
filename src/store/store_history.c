/*
 * History and snapshot reads for the REST API (see store_history.h). Runs on the
 * reader thread inside one read transaction, so a page is one consistent state of the
 * log however the writer moves on.
 *
 * A history_view is the reader as the case's rules see it; view_snapshot(), view_op()
 * and view_author() are the only places where document values and author identities
 * reach the response. A supervisor reads pseudonymised (access_pseudo.h) unless it asks
 * for identified reading and holds a grant of the lead that has not expired; the
 * dictionary of the pseudonymisation is the case's client names and the identity
 * values at the latest version, so every page of one case redacts the same words
 * whatever its range. The view also knows the case's sessions, so that each op says
 * which session it was made in (or none: between sessions).
 */
#include "store/store_history.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_project.h"
#include "auth/access_pseudo.h"
#include "auth/template.h"
#include "store/store_api.h"
#include "store/store_internal.h"

/* One session of the case: the versions [from, to) edited during it (to < 0: it runs),
 * and when. */
typedef struct history_session {
    char id[64];
    int64_t from, to, started_at, ended_at;
} history_session;

typedef struct history_view {
    template_spec *tpl;     /* the case's template version (its rules), owned */
    auth_principal who;     /* the reader, is_lead set for this case */
    access_pseudo *pseudo;  /* owned; NULL when the reader sees identities */
    int full;               /* an export: the whole document, no access projection */
    int identified;         /* a supervisor reading under a grant */
    history_session *sessions;  /* the case's sessions, oldest first, owned */
    size_t n_sessions;
    const history_session *only;    /* a session's read: that session, else NULL */
} history_view;

static const char *s_in(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int64_t num_in(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static int internal(store_job *job)
{
    return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the history could not be read");
}

/* Whether the read is of a session (in.of_session), not of a whole case. */
static int of_session(const store_job *job)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "of_session"));
}

static int not_found(store_job *job)
{
    return store_refuse(job, STORE_ERR_NOT_FOUND, NULL,
                        of_session(job) ? "no such session" : "no such case");
}

/* ---- the reader's view ------------------------------------------------------------- */

/* The reader's role and specialty as the database has them (the account, or the client
 * bound to the session), and whether it leads the case. 0, or -1 refused. */
static int view_principal(sqlite3 *db, store_job *job, int lead, auth_principal *who)
{
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(job->in, "actor");
    const char *actor_id = s_in(actor, "id");
    auth_role role = AUTH_ROLE_CLIENT;
    auth_specialty spec = AUTH_SPECIALTY_NONE;
    sqlite3_stmt *st = NULL;
    int ok = 1;

    if (!s_in(actor, "session")) {
        if (sqlite3_prepare_v2(db, "SELECT role, specialty FROM users WHERE id = ?1", -1, &st,
                               NULL) != SQLITE_OK)
            return internal(job);
        sqlite3_bind_text(st, 1, actor_id ? actor_id : "", -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_ROW &&
             auth_role_parse((const char *)sqlite3_column_text(st, 0), &role) == 0 &&
             (sqlite3_column_type(st, 1) == SQLITE_NULL ||
              auth_specialty_parse((const char *)sqlite3_column_text(st, 1), &spec) == 0);
        sqlite3_finalize(st);
    }
    if (!ok || !actor_id ||
        auth_principal_init(who, actor_id, "reader", role,
                            role == AUTH_ROLE_COUNSELLOR ? spec : AUTH_SPECIALTY_NONE,
                            role == AUTH_ROLE_COUNSELLOR && lead, NULL) != 0)
        return not_found(job);
    return 0;
}

/* Whether the reader holds an unexpired identified-reading grant for case id:
 * 1, 0, or -1 (the database failed). */
static int granted(sqlite3 *db, store_job *job, const char *id, const history_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM grants WHERE case_id = ?1 AND user_id = ?2 AND"
                           " expires_at > ?3 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, view->who.id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, num_in(job->in, "now", 0));
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Makes the view pseudonymised, with the case's client names in the dictionary (the
 * identity values of the latest version are added by the caller). 0 or -1. */
static int view_pseudonymise(sqlite3 *db, const char *id, history_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    view->pseudo = access_pseudo_new(template_identity(view->tpl), template_rules(view->tpl));
    if (!view->pseudo ||
        sqlite3_prepare_v2(db, "SELECT c.display_name FROM clients c JOIN sessions s ON"
                           " s.id = c.session WHERE s.case_id = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (access_pseudo_add_name(view->pseudo,
                                   (const char *)sqlite3_column_text(st, 0)) != 0)
            break;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A supervisor's mode: identified under a grant when asked for, else pseudonymised with
 * the case's client names in the dictionary (the identity values are added by
 * start(), from the latest version). 0, or -1 refused. */
static int view_mode(sqlite3 *db, store_job *job, const char *id, history_view *view)
{
    int g = 0;

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "identified")) &&
        (g = granted(db, job, id, view)) < 0)
        return internal(job);
    if (g) {
        view->identified = 1;
        return 0;
    }
    return view_pseudonymise(db, id, view) == 0 ? 0 : internal(job);
}

static void view_close(history_view *view);

/* The case's sessions into the view, oldest first. 0 or -1. */
static int view_sessions(sqlite3 *db, const char *case_id, history_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id, start_v, COALESCE(end_v, -1), started_at,"
                           " COALESCE(ended_at, -1) FROM sessions WHERE case_id = ?1 ORDER BY"
                           " started_at, id", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        history_session *grown = realloc(view->sessions,
                                         (view->n_sessions + 1) * sizeof *grown), *e;
        if (!grown)
            break;
        view->sessions = grown;
        e = &grown[view->n_sessions++];
        snprintf(e->id, sizeof e->id, "%s", (const char *)sqlite3_column_text(st, 0));
        e->from = sqlite3_column_int64(st, 1);
        e->to = sqlite3_column_int64(st, 2);
        e->started_at = sqlite3_column_int64(st, 3);
        e->ended_at = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Whether the actor may read case_id (a current member of its team; *lead says if it
 * leads it) or, for a session's read, is the client of that running session. 1, 0, or
 * -1 (SQL error). */
static int view_member(sqlite3 *db, const cJSON *actor, const char *case_id,
                       const history_session *only, int *lead)
{
    const char *bound = s_in(actor, "session");
    sqlite3_stmt *st = NULL;
    int rc;

    *lead = 0;
    if (bound)
        return only && strcmp(bound, only->id) == 0 && only->to < 0;
    if (sqlite3_prepare_v2(db, "SELECT role FROM team WHERE case_id = ?1 AND user_id = ?2"
                           " AND removed_at IS NULL", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, s_in(actor, "id") ? s_in(actor, "id") : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *lead = strcmp((const char *)sqlite3_column_text(st, 0), "lead") == 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The case a read is about: in.id names the case, or (in.of_session) the session
 * whose case it is. Its id into case_id, its template text into *text (a copy, the
 * caller's to free). 1 found, 0 not, -1 SQL error. */
static int view_case(sqlite3 *db, store_job *job, char case_id[64], char **text)
{
    const char *id = s_in(job->in, "id");
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, of_session(job) ?
                           "SELECT c.id, t.text FROM sessions s JOIN cases c ON c.id ="
                           " s.case_id JOIN templates t ON t.name = c.template_name AND"
                           " t.version = c.template_version WHERE s.id = ?1" :
                           "SELECT c.id, t.text FROM cases c JOIN templates t ON t.name ="
                           " c.template_name AND t.version = c.template_version WHERE"
                           " c.id = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(case_id, 64, "%s", (const char *)sqlite3_column_text(st, 0));
        *text = strdup((const char *)sqlite3_column_text(st, 1));
        if (!*text)
            rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Opens the view of the actor on the case (or session) the input names; job->doc
 * becomes the case's id: 0, or -1 refused (NOT_FOUND when the actor may not read it,
 * or there is no such case or session). */
static int view_open(sqlite3 *db, store_job *job, history_view *view)
{
    auth_error err = {{0}};
    char case_id[64], *text = NULL;
    int found, m, lead = 0;

    memset(view, 0, sizeof *view);
    found = view_case(db, job, case_id, &text);
    if (found < 0)
        return internal(job);
    if (!found)
        return not_found(job);
    free(job->doc);
    job->doc = strdup(case_id);
    if (!job->doc || view_sessions(db, case_id, view) != 0) {
        free(text);
        view_close(view);
        return internal(job);
    }
    for (size_t i = 0; i < view->n_sessions && of_session(job); i++)
        if (strcmp(view->sessions[i].id, s_in(job->in, "id")) == 0)
            view->only = &view->sessions[i];
    m = view_member(db, cJSON_GetObjectItemCaseSensitive(job->in, "actor"), case_id,
                    view->only, &lead);
    if (m <= 0 || view_principal(db, job, lead, &view->who) != 0) {
        free(text);
        view_close(view);
        return m < 0 ? internal(job) : not_found(job);
    }
    view->tpl = template_parse(text, strlen(text), &err);
    free(text);
    if (!view->tpl || (view->who.role == AUTH_ROLE_SUPERVISOR &&
                       view_mode(db, job, case_id, view) != 0)) {
        if (!view->tpl)
            internal(job);
        view_close(view);
        return -1;
    }
    return 0;
}

static void view_close(history_view *view)
{
    free(view->sessions);
    view->sessions = NULL;
    view->n_sessions = 0;
    access_pseudo_free(view->pseudo);
    view->pseudo = NULL;
    template_free(view->tpl);
    view->tpl = NULL;
}

/* The document's data as the reader sees it; JSON null when it does not exist. */
static cJSON *view_snapshot(const history_view *view, const doc_state *doc)
{
    auth_error err = {{0}};
    cJSON *out;

    if (!doc->exists)
        return cJSON_CreateNull();
    out = view->full ? cJSON_Duplicate(doc->data, 1) :
          access_project_snapshot(template_rules(view->tpl), &view->who, doc->data, &err);
    if (out && view->pseudo)
        access_pseudo_snapshot(view->pseudo, out);
    return out;
}

/* Adds what the reader sees of one stored op to entry: `op` (edit, maybe []),
 * `create` ({type, data}) or `del`. 0 or -1 (a damaged row, no memory). */
static int view_op(const history_view *view, store_op_kind kind, const cJSON *payload,
                   cJSON *entry)
{
    auth_error err = {{0}};
    cJSON *out, *data;

    if (kind == STORE_OP_DEL)
        return cJSON_AddTrueToObject(entry, "del") ? 0 : -1;
    if (kind == STORE_OP_EDIT) {
        out = view->full ? cJSON_Duplicate(payload, 1) :
              access_project_op(template_rules(view->tpl), &view->who, payload, &err);
        if (out && view->pseudo)
            access_pseudo_op(view->pseudo, out);
        return out && cJSON_AddItemToObject(entry, "op", out) ? 0 : -1;
    }
    data = cJSON_GetObjectItemCaseSensitive(payload, "data");
    out = cJSON_AddObjectToObject(entry, "create");
    if (!out || !cJSON_AddItemToObject(out, "type", cJSON_Duplicate(
                    cJSON_GetObjectItemCaseSensitive(payload, "type"), 1)))
        return -1;
    data = !cJSON_IsObject(data) ? NULL : view->full ? cJSON_Duplicate(data, 1) :
           access_project_snapshot(template_rules(view->tpl), &view->who, data, &err);
    if (data && view->pseudo)
        access_pseudo_snapshot(view->pseudo, data);
    return data && cJSON_AddItemToObject(out, "data", data) ? 0 : -1;
}

/* {id, name, role, specialty} of an op's author: the account or the client with that
 * id (name and role null when it is neither; specialty null unless a counsellor's).
 * Pseudonymised, a client's name is the pseudonym; counsellors keep theirs (they are
 * the ones supervised). */
static cJSON *view_author(const history_view *view, sqlite3_stmt *st, int c)
{
    cJSON *a = cJSON_CreateObject();
    const char *id = (const char *)sqlite3_column_text(st, c);
    const char *name = (const char *)sqlite3_column_text(st, c + 1);
    const char *role = (const char *)sqlite3_column_text(st, c + 2);
    const char *spec = (const char *)sqlite3_column_text(st, c + 3);

    cJSON_AddStringToObject(a, "id", id ? id : "");
    if (view->pseudo && role && strcmp(role, "client") == 0)
        cJSON_AddStringToObject(a, "name", ACCESS_PSEUDONYM);
    else if (name)
        cJSON_AddStringToObject(a, "name", name);
    else
        cJSON_AddNullToObject(a, "name");
    if (role)
        cJSON_AddStringToObject(a, "role", role);
    else
        cJSON_AddNullToObject(a, "role");
    if (spec && strcmp(spec, "none") != 0)
        cJSON_AddStringToObject(a, "specialty", spec);
    else
        cJSON_AddNullToObject(a, "specialty");
    return a;
}

/* ---- reads ---------------------------------------------------------------------------- */

/* The stored ops of doc ?1 with ?2 <= v < ?3, each with its author's identity. */
#define OPS_SQL \
    "SELECT o.v, o.kind, o.ts, o.op, o.author, COALESCE(u.display_name, c.display_name)," \
    " CASE WHEN u.id IS NOT NULL THEN u.role WHEN c.id IS NOT NULL THEN 'client' END," \
    " u.specialty FROM ops o LEFT JOIN users u ON u.id = o.author" \
    " LEFT JOIN clients c ON c.id = o.author" \
    " WHERE o.doc = ?1 AND o.v >= ?2 AND o.v < ?3 ORDER BY o.v"

/* The session version v was edited in, or NULL: between sessions. */
static const char *session_of(const history_view *view, int64_t v)
{
    for (size_t i = 0; i < view->n_sessions; i++)
        if (view->sessions[i].from <= v && (view->sessions[i].to < 0 || v < view->sessions[i].to))
            return view->sessions[i].id;
    return NULL;
}

/* The entry {v, ts, author, session, op | create | del} of the OPS_SQL row at st as
 * the reader sees it; NULL for a damaged row (its v is not `v`, its text does not
 * parse) or when it cannot be projected. */
static cJSON *op_entry(const history_view *view, sqlite3_stmt *st, int64_t v)
{
    const char *text = (const char *)sqlite3_column_text(st, 3);
    store_op_kind kind = (store_op_kind)sqlite3_column_int(st, 1);
    int bad;
    cJSON *payload = NULL, *entry;

    if (sqlite3_column_int64(st, 0) != v || (kind != STORE_OP_DEL && !text) ||
        (kind != STORE_OP_DEL && !(payload = cJSON_Parse(text))))
        return NULL;
    entry = cJSON_CreateObject();
    cJSON_AddNumberToObject(entry, "v", (double)v);
    cJSON_AddNumberToObject(entry, "ts", (double)sqlite3_column_int64(st, 2));
    cJSON_AddItemToObject(entry, "author", view_author(view, st, 4));
    if (session_of(view, v))
        cJSON_AddStringToObject(entry, "session", session_of(view, v));
    else
        cJSON_AddNullToObject(entry, "session");
    bad = view_op(view, kind, payload, entry);
    cJSON_Delete(payload);
    if (bad) {
        cJSON_Delete(entry);
        return NULL;
    }
    return entry;
}

/* The ops [from, end) as the reader sees them, into list: at most `page` of them and,
 * beyond the first, at most page_bytes of stored text. *next_v is the version after the
 * last one listed. 0 or -1 (job->error set for a damaged log). */
static int read_ops(sqlite3 *db, store_job *job, const history_view *view, int64_t from,
                    int64_t end, cJSON *list, int64_t *next_v)
{
    static const char sql[] = OPS_SQL " LIMIT ?4";
    const int64_t page = num_in(job->in, "page", 1000);
    const int64_t page_bytes = num_in(job->in, "page_bytes", 4 << 20);
    sqlite3_stmt *st = NULL;
    int64_t v = from, bytes = 0;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, end);
    sqlite3_bind_int64(st, 4, page);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *entry;

        bytes += sqlite3_column_bytes(st, 3);
        if (v > from && bytes > page_bytes)
            break;
        entry = op_entry(view, st, v);
        if (!entry) {
            job->status = STORE_FAILED;
            snprintf(job->error, sizeof job->error, "op log of %s is damaged at v%lld",
                     job->doc, (long long)v);
            sqlite3_finalize(st);
            return -1;
        }
        cJSON_AddItemToArray(list, entry);
        v++;
    }
    sqlite3_finalize(st);
    *next_v = v;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The case's events, from the audit trail: the case created, its team changed, sessions
 * started and ended, who came and went, links used, the case closed. ?1 the case, after
 * ?2 and up to ?3 (ms). (Before cases, `session.close` closed a session.) */
#define EVENTS_SQL \
    "SELECT a.ts, a.action, a.actor, COALESCE(u.display_name, c.display_name)," \
    " CASE WHEN u.id IS NOT NULL THEN u.role WHEN c.id IS NOT NULL THEN 'client' END," \
    " u.specialty, a.details FROM audit a LEFT JOIN users u ON u.id = a.actor" \
    " LEFT JOIN clients c ON c.id = a.actor WHERE a.session = ?1 AND a.ts > ?2 AND" \
    " a.ts <= ?3 AND a.action IN ('case.create', 'session.create', 'participant.add'," \
    " 'participant.remove', 'case.lead', 'link.use', 'join', 'session.read.open'," \
    " 'session.read.close', 'grant.create', 'session.end', 'case.close', 'session.close')" \
    " ORDER BY a.seq"

/* {ts, kind, actor, session?} of an EVENTS_SQL row: kind is the audit action, but
 * `enter` and `leave` for a connection opening and closing the case's document;
 * session when the event belongs to one. */
static cJSON *event_entry(const history_view *view, sqlite3_stmt *st)
{
    const char *action = (const char *)sqlite3_column_text(st, 1);
    const char *details = (const char *)sqlite3_column_text(st, 6);
    cJSON *e = cJSON_CreateObject(), *d = details ? cJSON_Parse(details) : NULL;
    const char *session = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "session"));

    if (!e) {
        cJSON_Delete(d);
        return NULL;
    }
    cJSON_AddNumberToObject(e, "ts", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(e, "kind", strcmp(action, "session.read.open") == 0 ? "enter" :
                            strcmp(action, "session.read.close") == 0 ? "leave" : action);
    cJSON_AddItemToObject(e, "actor", view_author(view, st, 2));
    if (session)
        cJSON_AddStringToObject(e, "session", session);
    cJSON_Delete(d);
    return e;
}

/* The session's events in (after, upto] into list. 0 or -1. */
static int read_events(sqlite3 *db, const history_view *view, const char *doc,
                       int64_t after, int64_t upto, cJSON *list)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, EVENTS_SQL, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, upto);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(list, event_entry(view, st));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The commit time of version v's op, or -1 when there is none. */
static int64_t op_ts(sqlite3 *db, const char *doc, int64_t v)
{
    sqlite3_stmt *st = NULL;
    int64_t ts = -1;

    if (v < 0 || sqlite3_prepare_v2(db, "SELECT ts FROM ops WHERE doc = ?1 AND v = ?2", -1,
                                    &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, v);
    if (sqlite3_step(st) == SQLITE_ROW)
        ts = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ts;
}

/* The events beside ops [from, end) of a page: after the op before it, up to its last
 * op; a page that reaches the end of what is read (`last`: the latest version, or the
 * end of a session's versions) takes everything after that. Pages thus split the events
 * between them without gaps or repeats. A session's read keeps to the session's time. */
static int page_events(sqlite3 *db, const history_view *view, const char *doc,
                       int64_t from, int64_t end, int64_t last, cJSON *list)
{
    int64_t after = from > 0 ? op_ts(db, doc, from - 1) : -1;
    int64_t upto = end < last ? op_ts(db, doc, end - 1) : INT64_MAX;

    if (end < last && end == from)
        upto = after;
    if (view->only && after < view->only->started_at - 1)
        after = view->only->started_at - 1;
    if (view->only && view->only->ended_at >= 0 && upto > view->only->ended_at)
        upto = view->only->ended_at;
    if (upto <= after)
        return 0;
    return read_events(db, view, doc, after, upto, list);
}

/* The document at v as the reader sees it into body's "data" (with "v"). */
static int add_snapshot(sqlite3 *db, store_job *job, const history_view *view, int64_t v,
                        cJSON *body)
{
    cJSON *data;

    if (store_reader_rebuild(db, job->doc, v, &job->state, job) != 0)
        return -1;
    data = view_snapshot(view, &job->state);
    doc_clear(&job->state);
    if (!data)
        return -1;
    cJSON_AddNumberToObject(body, "v", (double)v);
    cJSON_AddItemToObject(body, "data", data);
    return 0;
}

/* Adds the identity values of the latest version (head) to the view's dictionary, so
 * that every page of a session redacts the same words. 0 or -1. */
static int learn_head(sqlite3 *db, store_job *job, history_view *view, int64_t head)
{
    int bad = store_reader_rebuild(db, job->doc, head, &job->state, job) != 0 ||
              (job->state.exists && access_pseudo_learn(view->pseudo, job->state.data) != 0);

    doc_clear(&job->state);
    return bad ? -1 : 0;
}

/* Opens the view and reads the head; *lo and *hi are the versions the read may cover:
 * a session's [from, to] (to: the head while it runs), else [0, head]. 0 or -1 refused. */
static int start(sqlite3 *db, store_job *job, history_view *view, int64_t *head, int64_t *lo,
                 int64_t *hi)
{
    if (view_open(db, job, view) != 0)
        return -1;
    *head = store_reader_head(db, job->doc, job);
    if (*head < 0) {
        view_close(view);
        return internal(job);
    }
    *lo = view->only ? view->only->from : 0;
    *hi = view->only && view->only->to >= 0 ? view->only->to : *head;
    if (view->pseudo && learn_head(db, job, view, *head) != 0) {
        view_close(view);
        return internal(job);
    }
    return 0;
}

/* A read of a session says its versions ("session": {id, from, to}); a read of a case
 * lists its sessions ("sessions": [{id, from, to, started_at, ended_at}]), to null while
 * one runs. */
static void add_sessions(const history_view *view, cJSON *body)
{
    cJSON *list = view->only ? NULL : cJSON_AddArrayToObject(body, "sessions");

    for (size_t i = 0; i < view->n_sessions; i++) {
        const history_session *s = &view->sessions[i];
        cJSON *e;
        if (view->only && s != view->only)
            continue;
        e = view->only ? cJSON_AddObjectToObject(body, "session") : cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", s->id);
        cJSON_AddNumberToObject(e, "from", (double)s->from);
        if (s->to >= 0)
            cJSON_AddNumberToObject(e, "to", (double)s->to);
        else
            cJSON_AddNullToObject(e, "to");
        if (!view->only) {
            cJSON_AddNumberToObject(e, "started_at", (double)s->started_at);
            if (s->ended_at >= 0)
                cJSON_AddNumberToObject(e, "ended_at", (double)s->ended_at);
            else
                cJSON_AddNullToObject(e, "ended_at");
            cJSON_AddItemToArray(list, e);
        }
    }
}

/* Identified reading under a grant is recorded in the audit details ("identified":
 * true); the response keeps the contract's shape in both modes. */
static void add_mode(const history_view *view, cJSON *audit)
{
    if (view->identified)
        cJSON_AddTrueToObject(audit, "identified");
}

/* Refuses a version outside [lo, hi]: beyond the latest one, or (a session's read)
 * outside the session's. */
static int outside(store_job *job, const history_view *view, const char *name, int64_t lo,
                   int64_t hi)
{
    char msg[160];

    if (view->only)
        snprintf(msg, sizeof msg, "%s is outside the session's versions (%lld to %lld)", name,
                 (long long)lo, (long long)hi);
    else
        snprintf(msg, sizeof msg, "%s is beyond the latest version (%lld)", name,
                 (long long)hi);
    return store_refuse(job, STORE_ERR_VERSION_RANGE, NULL, msg);
}

int store_history_read(sqlite3 *db, store_job *job)
{
    history_view view;
    int64_t head, lo, hi, from, to, next_v;
    cJSON *body, *snap, *ops;
    int rc = -1;

    if (start(db, job, &view, &head, &lo, &hi) != 0)
        return -1;
    from = num_in(job->in, "from", lo);
    to = num_in(job->in, "to", hi);
    next_v = from;
    if (to > hi)
        to = hi;
    if (from > hi || from < lo) {
        rc = outside(job, &view, "from", lo, hi);
        view_close(&view);
        return rc;
    }
    body = cJSON_CreateObject();
    snap = cJSON_AddObjectToObject(body, "snapshot");
    ops = cJSON_AddArrayToObject(body, "ops");
    if (snap && ops && add_snapshot(db, job, &view, from, snap) == 0 &&
        read_ops(db, job, &view, from, to > from ? to : from, ops, &next_v) == 0 &&
        page_events(db, &view, job->doc, from, next_v, hi,
                    cJSON_AddArrayToObject(body, "events")) == 0) {
        if (next_v < to)
            cJSON_AddNumberToObject(body, "next", (double)next_v);
        else
            cJSON_AddNullToObject(body, "next");
        add_sessions(&view, body);
        job->audit = cJSON_CreateObject();
        cJSON_AddNumberToObject(job->audit, "from", (double)from);
        cJSON_AddNumberToObject(job->audit, "to", (double)next_v);
        add_mode(&view, job->audit);
        job->out = body;
        rc = 0;
    } else {
        cJSON_Delete(body);
        internal(job);
    }
    view_close(&view);
    return rc;
}

int store_history_snapshot(sqlite3 *db, store_job *job)
{
    history_view view;
    int64_t head, lo, hi, v;
    cJSON *body;
    int rc = -1;

    if (start(db, job, &view, &head, &lo, &hi) != 0)
        return -1;
    v = num_in(job->in, "v", hi);
    if (v > hi || v < lo) {
        rc = outside(job, &view, "v", lo, hi);
        view_close(&view);
        return rc;
    }
    body = cJSON_CreateObject();
    if (body && add_snapshot(db, job, &view, v, body) == 0) {
        job->audit = cJSON_CreateObject();
        cJSON_AddNumberToObject(job->audit, "v", (double)v);
        add_mode(&view, job->audit);
        job->out = body;
        rc = 0;
    } else {
        cJSON_Delete(body);
        internal(job);
    }
    view_close(&view);
    return rc;
}

/* ---- export ---------------------------------------------------------------------------- */

/* Hands emit the events up to ts (all when ts < 0) not yet handed on; 0 or emit's -1. */
static int emit_events(const cJSON **next, int64_t ts, store_history_emit emit, void *ctx)
{
    for (; *next; *next = (*next)->next) {
        if (ts >= 0 && num_in(*next, "ts", 0) > ts)
            break;
        if (emit(ctx, *next) != 0)
            return -1;
    }
    return 0;
}

/* Streams the ops of the view's case with the events between them. 0 or -1. */
static int export_stream(sqlite3 *db, store_job *job, const history_view *view,
                         int64_t head, store_history_emit emit, void *ctx)
{
    cJSON *events = cJSON_CreateArray(), *entry;
    const cJSON *next_event;
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    int rc = -1;

    if (!events || read_events(db, view, job->doc, -1, INT64_MAX, events) != 0 ||
        sqlite3_prepare_v2(db, OPS_SQL, -1, &st, NULL) != SQLITE_OK)
        goto done;
    for (cJSON *e = events->child; e; e = e->next)
        cJSON_AddStringToObject(e, "type", "event");
    next_event = events->child;
    sqlite3_bind_text(st, 1, job->doc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, 0);
    sqlite3_bind_int64(st, 3, head);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int bad;

        if (emit_events(&next_event, sqlite3_column_int64(st, 2), emit, ctx) != 0 ||
            !(entry = op_entry(view, st, v))) {
            snprintf(job->error, sizeof job->error, "op log of %s is damaged at v%lld",
                     job->doc, (long long)v);
            rc = SQLITE_ERROR;
            break;
        }
        cJSON_AddStringToObject(entry, "type", "op");
        bad = emit(ctx, entry);
        cJSON_Delete(entry);
        if (bad) {
            rc = SQLITE_ERROR;
            break;
        }
        v++;
    }
    rc = rc == SQLITE_DONE && v == head && emit_events(&next_event, -1, emit, ctx) == 0 ?
         0 : -1;
done:
    sqlite3_finalize(st);
    cJSON_Delete(events);
    return rc;
}

int store_history_case_of(sqlite3 *db, const char *id, char case_id[64])
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id FROM cases WHERE id = ?1 UNION ALL SELECT case_id"
                           " FROM sessions WHERE id = ?1 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(case_id, 64, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_history_export(sqlite3 *db, const char *id, int pseudonymise,
                         store_history_emit emit, void *ctx, cJSON **final, char *err,
                         size_t errlen)
{
    history_view view;
    store_job *job = store_job_new(STORE_CALL, id);
    char case_id[64], *text = NULL;
    int64_t head;
    auth_error aerr = {{0}};
    int rc = -1, found;

    memset(&view, 0, sizeof view);
    view.full = 1;
    *final = NULL;
    if (!job || !(job->in = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(job->in, "id", id)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    found = view_case(db, job, case_id, &text);
    if (found <= 0) {
        snprintf(err, errlen, found < 0 ? "the database could not be read" : "no case %s", id);
        rc = found < 0 ? -1 : 1;
        goto done;
    }
    view.tpl = template_parse(text, strlen(text), &aerr);
    head = view.tpl && view_sessions(db, id, &view) == 0 ? store_reader_head(db, id, job) : -1;
    if (head < 0 || (pseudonymise && (view_pseudonymise(db, id, &view) != 0 ||
                                      learn_head(db, job, &view, head) != 0)) ||
        export_stream(db, job, &view, head, emit, ctx) != 0 ||
        store_reader_rebuild(db, id, head, &job->state, job) != 0 ||
        !(*final = view_snapshot(&view, &job->state))) {
        snprintf(err, errlen, "%s", job->error[0] ? job->error :
                 aerr.message[0] ? aerr.message : "the history could not be read");
        goto done;
    }
    rc = 0;
done:
    free(text);
    view_close(&view);
    store_job_free(job);
    return rc;
}
