/*
 * History and snapshot reads for the REST API, and the operator's export (see
 * store_history.h). Runs on the reader thread inside one read transaction, so a page
 * is one consistent state of the log however the writer moves on. What the reader sees
 * of each snapshot, op and author comes from its view (store_history_view.c).
 */
#include "store/store_history.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_history_internal.h"
#include "store/store_internal.h"

static int64_t num_in(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static int internal(store_job *job)
{
    return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the history could not be read");
}

/* ---- reads ---------------------------------------------------------------------------- */

/* The stored ops of doc ?1 with ?2 <= v < ?3, each with its author's identity. */
#define OPS_SQL \
    "SELECT o.v, o.kind, o.ts, konsil_open(o.op, o.doc, 'ops', o.v), o.author," \
    " COALESCE(u.display_name, konsil_open(c.display_name, o.doc, 'clients.display_name'," \
    " c.id))," \
    " CASE WHEN u.id IS NOT NULL THEN u.role WHEN c.id IS NOT NULL THEN 'client' END," \
    " u.specialty FROM ops o LEFT JOIN users u ON u.id = o.author" \
    " LEFT JOIN clients c ON c.id = o.author" \
    " WHERE o.doc = ?1 AND o.v >= ?2 AND o.v < ?3 ORDER BY o.v"

/* What a stored op does to the document. */
static doc_op_kind doc_kind(store_op_kind kind)
{
    switch (kind) {
    case STORE_OP_CREATE: return DOC_OP_CREATE;
    case STORE_OP_DEL: return DOC_OP_DEL;
    default: return DOC_OP_EDIT;
    }
}

/* The entry {v, ts, author, session, op | create | del} of the OPS_SQL row at st as
 * the reader sees it; NULL for a damaged row (its v is not `v`, its text does not
 * parse or apply) or when it cannot be projected. doc, when the view tracks the
 * document, is the document before the op, and moves past it. */
static cJSON *op_entry(const store_view *view, sqlite3_stmt *st, int64_t v, doc_state *doc)
{
    const char *text = (const char *)sqlite3_column_text(st, 3);
    store_op_kind kind = (store_op_kind)sqlite3_column_int(st, 1);
    ot_error oerr = {""};
    int bad;
    cJSON *payload = NULL, *entry;

    if (sqlite3_column_int64(st, 0) != v || (kind != STORE_OP_DEL && !text) ||
        (kind != STORE_OP_DEL && !(payload = cJSON_Parse(text))))
        return NULL;
    entry = cJSON_CreateObject();
    cJSON_AddNumberToObject(entry, "v", (double)v);
    cJSON_AddNumberToObject(entry, "ts", (double)sqlite3_column_int64(st, 2));
    cJSON_AddItemToObject(entry, "author", store_view_author(view, st, 4));
    if (store_view_session_of(view, v))
        cJSON_AddStringToObject(entry, "session", store_view_session_of(view, v));
    else
        cJSON_AddNullToObject(entry, "session");
    bad = store_view_op(view, kind, payload, doc, entry);
    if (!bad && doc)
        bad = doc->v != v || doc_apply(doc, doc_kind(kind), payload, &oerr) != DOC_OK;
    cJSON_Delete(payload);
    if (bad) {
        cJSON_Delete(entry);
        return NULL;
    }
    return entry;
}

/* The ops [from, end) as the reader sees them, into list: at most `page` of them and,
 * beyond the first, at most page_bytes of stored text. *next_v is the version after the
 * last one listed. job->state is the document at from (kept moving when the view
 * tracks it). 0 or -1 (job->error set for a damaged log). */
static int read_ops(sqlite3 *db, store_job *job, const store_view *view, int64_t from,
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
        entry = op_entry(view, st, v, store_view_tracks(view) ? &job->state : NULL);
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
    "SELECT a.ts, a.action, a.actor, COALESCE(u.display_name, konsil_open(c.display_name," \
    " a.session, 'clients.display_name', c.id))," \
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
static cJSON *event_entry(const store_view *view, sqlite3_stmt *st)
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
    cJSON_AddItemToObject(e, "actor", store_view_author(view, st, 2));
    if (session)
        cJSON_AddStringToObject(e, "session", session);
    cJSON_Delete(d);
    return e;
}

/* The session's events in (after, upto] into list. 0 or -1. */
static int read_events(sqlite3 *db, const store_view *view, const char *doc,
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
static int page_events(sqlite3 *db, const store_view *view, const char *doc,
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

/* The document at v as the reader sees it into body's "data" (with "v"); job->state
 * keeps the document at v. */
static int add_snapshot(sqlite3 *db, store_job *job, const store_view *view, int64_t v,
                        cJSON *body)
{
    cJSON *data;

    if (store_reader_rebuild(db, job->doc, v, &job->state, job) != 0)
        return -1;
    data = store_view_snapshot(view, &job->state);
    if (!data)
        return -1;
    cJSON_AddNumberToObject(body, "v", (double)v);
    cJSON_AddItemToObject(body, "data", data);
    return 0;
}


/* Opens the view and reads the head; *lo and *hi are the versions the read may cover:
 * a session's [from, to] (to: the head while it runs), else [0, head]. 0 or -1 refused. */
static int start(sqlite3 *db, store_job *job, store_view *view, int64_t *head, int64_t *lo,
                 int64_t *hi)
{
    if (store_view_open(db, job, view) != 0)
        return -1;
    *head = store_reader_head(db, job->doc, job);
    if (*head < 0) {
        store_view_close(view);
        return internal(job);
    }
    *lo = view->only ? view->only->from : 0;
    *hi = view->only && view->only->to >= 0 ? view->only->to : *head;
    if (store_view_frame(db, job, view, *head) != 0) {
        store_view_close(view);
        return internal(job);
    }
    return 0;
}

/* A read of a session says its versions ("session": {id, from, to}); a read of a case
 * lists its sessions ("sessions": [{id, from, to, started_at, ended_at}]), to null while
 * one runs. */
static void add_sessions(const store_view *view, cJSON *body)
{
    cJSON *list = view->only ? NULL : cJSON_AddArrayToObject(body, "sessions");

    for (size_t i = 0; i < view->n_sessions; i++) {
        const store_view_session *s = &view->sessions[i];
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
static void add_mode(const store_view *view, cJSON *audit)
{
    if (view->identified)
        cJSON_AddTrueToObject(audit, "identified");
}

/* Refuses a version outside [lo, hi]: beyond the latest one, or (a session's read)
 * outside the session's. */
static int outside(store_job *job, const store_view *view, const char *name, int64_t lo,
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
    store_view view;
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
        store_view_close(&view);
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
    doc_clear(&job->state);
    store_view_close(&view);
    return rc;
}

int store_history_snapshot(sqlite3 *db, store_job *job)
{
    store_view view;
    int64_t head, lo, hi, v;
    cJSON *body;
    int rc = -1;

    if (start(db, job, &view, &head, &lo, &hi) != 0)
        return -1;
    v = num_in(job->in, "v", hi);
    if (v > hi || v < lo) {
        rc = outside(job, &view, "v", lo, hi);
        store_view_close(&view);
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
    doc_clear(&job->state);
    store_view_close(&view);
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

/* Streams the ops of the view's case with the events between them (job->state, the
 * document from version 0 on, moves along when the view tracks it). 0 or -1. */
static int export_stream(sqlite3 *db, store_job *job, const store_view *view,
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
            !(entry = op_entry(view, st, v, store_view_tracks(view) ? &job->state : NULL))) {
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

/* {title, clients} of the case as the export's view shows them: the title through
 * access_view_text, each client (the case's sessions') through access_view_identity.
 * NULL: memory or the database failed. */
static cJSON *export_about(sqlite3 *db, const store_view *view, const char *case_id)
{
    cJSON *about = cJSON_CreateObject(), *clients = cJSON_AddArrayToObject(about, "clients");
    sqlite3_stmt *st = NULL;
    char *shown = NULL;
    int rc = SQLITE_ERROR;

    if (!clients || sqlite3_prepare_v2(db, "SELECT konsil_open(title, id, 'cases.title', id)"
                                       " FROM cases WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    if (access_view_text(&view->view, view->frame.consents, view->frame.names,
                         (const char *)sqlite3_column_text(st, 0), &shown) < 0)
        goto fail;
    cJSON_AddStringToObject(about, "title", shown ? shown :
                            (const char *)sqlite3_column_text(st, 0));
    free(shown);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT c.id, konsil_open(c.display_name, s.case_id,"
                           " 'clients.display_name', c.id) FROM clients c JOIN sessions s ON"
                           " s.id = c.session WHERE s.case_id = ?1 ORDER BY c.created_at, c.id",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auth_principal who;
        cJSON *u;
        if (auth_principal_init(&who, (const char *)sqlite3_column_text(st, 0),
                                (const char *)sqlite3_column_text(st, 1), AUTH_ROLE_CLIENT,
                                AUTH_SPECIALTY_NONE, false, NULL) != 0)
            continue;
        if (!(u = access_view_identity(&view->view, &who)) ||
            !cJSON_AddItemToArray(clients, u)) {
            cJSON_Delete(u);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return about;
fail:
    sqlite3_finalize(st);
    cJSON_Delete(about);
    return NULL;
}

int store_history_export(sqlite3 *db, const char *id, int pseudonymise,
                         store_history_emit emit, void *ctx, cJSON **final, cJSON **about,
                         char *err, size_t errlen)
{
    store_view view;
    store_job *job = store_job_new(STORE_CALL, id);
    char case_id[64], *text = NULL;
    int64_t head;
    auth_error aerr = {{0}};
    int rc = -1, found;

    memset(&view, 0, sizeof view);
    view.view = access_view_export(pseudonymise);
    *final = NULL;
    *about = NULL;
    if (!job || !(job->in = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(job->in, "id", id)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    found = store_view_case(db, job, case_id, &text);
    if (found <= 0) {
        snprintf(err, errlen, found < 0 ? "the database could not be read" : "no case %s", id);
        rc = found < 0 ? -1 : 1;
        goto done;
    }
    view.tpl = template_parse(text, strlen(text), &aerr);
    head = view.tpl && store_view_sessions(db, id, &view) == 0 ? store_reader_head(db, id, job) : -1;
    if (head < 0 || store_view_frame(db, job, &view, head) != 0 ||
        export_stream(db, job, &view, head, emit, ctx) != 0 ||
        store_reader_rebuild(db, id, head, &job->state, job) != 0 ||
        !(*final = store_view_snapshot(&view, &job->state)) ||
        !(*about = export_about(db, &view, id))) {
        snprintf(err, errlen, "%s", job->error[0] ? job->error :
                 aerr.message[0] ? aerr.message : "the history could not be read");
        goto done;
    }
    rc = 0;
done:
    free(text);
    store_view_close(&view);
    store_job_free(job);
    return rc;
}
