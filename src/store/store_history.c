/*
 * History and snapshot reads for the REST API (see store_history.h). Runs on the
 * reader thread inside one read transaction, so a page is one consistent state of the
 * log however the writer moves on.
 *
 * A history_view is the reader as the session's rules see it; view_snapshot(),
 * view_op() and view_author() are the only places where document values and author
 * identities reach the response. A supervisor reads pseudonymised (access_pseudo.h)
 * unless it asks for identified reading and holds a grant of the lead that has not
 * expired; the dictionary of the pseudonymisation is the session's client names and
 * the identity values at the latest version, so every page of one session redacts the
 * same words whatever its range.
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

typedef struct history_view {
    template_spec *tpl;     /* the session's own template (its rules), owned */
    auth_principal who;     /* the reader, is_lead set for this session */
    access_pseudo *pseudo;  /* owned; NULL when the reader sees identities */
    int full;               /* an export: the whole document, no access projection */
    int identified;         /* a supervisor reading under a grant */
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

static int not_found(store_job *job)
{
    return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such session");
}

/* ---- the reader's view ------------------------------------------------------------- */

/* The reader's role and specialty as the database has them (the account, or the client
 * bound to the session), and whether it leads the session. 0, or -1 refused. */
static int view_principal(sqlite3 *db, store_job *job, const char *lead,
                          auth_principal *who)
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
                            role == AUTH_ROLE_COUNSELLOR && strcmp(lead, actor_id) == 0,
                            NULL) != 0)
        return not_found(job);
    return 0;
}

/* Whether the reader holds an unexpired identified-reading grant for session id:
 * 1, 0, or -1 (the database failed). */
static int granted(sqlite3 *db, store_job *job, const char *id, const history_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM grants WHERE session = ?1 AND user_id = ?2 AND"
                           " expires_at > ?3 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, view->who.id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, num_in(job->in, "now", 0));
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Makes the view pseudonymised, with the session's client names in the dictionary
 * (the identity values of the latest version are added by the caller). 0 or -1. */
static int view_pseudonymise(sqlite3 *db, const char *id, history_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    view->pseudo = access_pseudo_new(template_identity(view->tpl), template_rules(view->tpl));
    if (!view->pseudo ||
        sqlite3_prepare_v2(db, "SELECT display_name FROM clients WHERE session = ?1", -1, &st,
                           NULL) != SQLITE_OK)
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
 * the session's client names in the dictionary (the identity values are added by
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

/* Opens the view of the actor on session id: 0, or -1 refused (NOT_FOUND when the
 * actor does not take part, or there is no such session). */
static int view_open(sqlite3 *db, store_job *job, const char *id, history_view *view)
{
    sqlite3_stmt *st = NULL;
    auth_error err = {{0}};
    int m = store_api_member(db, cJSON_GetObjectItemCaseSensitive(job->in, "actor"), id, NULL);
    int rc = -1;

    memset(view, 0, sizeof *view);
    if (m < 0)
        return internal(job);
    if (m == 0)
        return not_found(job);
    if (sqlite3_prepare_v2(db, "SELECT template, lead FROM sessions WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return internal(job);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = not_found(job);
    } else if (view_principal(db, job, (const char *)sqlite3_column_text(st, 1),
                              &view->who) == 0) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        view->tpl = text ? template_parse(text, strlen(text), &err) : NULL;
        rc = view->tpl ? 0 : internal(job);
    }
    sqlite3_finalize(st);
    if (rc == 0 && view->who.role == AUTH_ROLE_SUPERVISOR)
        rc = view_mode(db, job, id, view);
    return rc;
}

static void view_close(history_view *view)
{
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

/* The entry {v, ts, author, op | create | del} of the OPS_SQL row at st as the reader
 * sees it; NULL for a damaged row (its v is not `v`, its text does not parse) or
 * when it cannot be projected. */
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

/* Session events, from the audit trail: who came and went, links used, the session
 * closed. ?1 session, after ?2 and up to ?3 (ms). */
#define EVENTS_SQL \
    "SELECT a.ts, a.action, a.actor, COALESCE(u.display_name, c.display_name)," \
    " CASE WHEN u.id IS NOT NULL THEN u.role WHEN c.id IS NOT NULL THEN 'client' END," \
    " u.specialty FROM audit a LEFT JOIN users u ON u.id = a.actor" \
    " LEFT JOIN clients c ON c.id = a.actor WHERE a.session = ?1 AND a.ts > ?2 AND" \
    " a.ts <= ?3 AND a.action IN ('session.create', 'participant.add', 'link.use', 'join'," \
    " 'session.read.open', 'session.read.close', 'grant.create', 'session.close')" \
    " ORDER BY a.seq"

/* {ts, kind, actor} of an EVENTS_SQL row: kind is the audit action, but `enter` and
 * `leave` for a connection opening and closing the session. */
static cJSON *event_entry(const history_view *view, sqlite3_stmt *st)
{
    const char *action = (const char *)sqlite3_column_text(st, 1);
    cJSON *e = cJSON_CreateObject();

    if (!e)
        return NULL;
    cJSON_AddNumberToObject(e, "ts", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(e, "kind", strcmp(action, "session.read.open") == 0 ? "enter" :
                            strcmp(action, "session.read.close") == 0 ? "leave" : action);
    cJSON_AddItemToObject(e, "actor", view_author(view, st, 2));
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
 * op; a page that reaches the latest version takes everything after that. Pages thus
 * split the events between them without gaps or repeats. */
static int page_events(sqlite3 *db, const history_view *view, const char *doc,
                       int64_t from, int64_t end, int64_t head, cJSON *list)
{
    int64_t after = from > 0 ? op_ts(db, doc, from - 1) : -1;
    int64_t upto = end < head ? op_ts(db, doc, end - 1) : INT64_MAX;

    if (end < head && end == from)
        upto = after;
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

/* Opens the view and reads the head; 0 or -1 refused. */
static int start(sqlite3 *db, store_job *job, history_view *view, int64_t *head)
{
    const char *id = s_in(job->in, "id");

    free(job->doc);
    job->doc = strdup(id ? id : "");
    if (!job->doc || view_open(db, job, job->doc, view) != 0)
        return -1;
    *head = store_reader_head(db, job->doc, job);
    if (*head < 0) {
        view_close(view);
        return internal(job);
    }
    if (view->pseudo && learn_head(db, job, view, *head) != 0) {
        view_close(view);
        return internal(job);
    }
    return 0;
}

/* Identified reading under a grant is recorded in the audit details ("identified":
 * true); the response keeps the contract's shape in both modes. */
static void add_mode(const history_view *view, cJSON *audit)
{
    if (view->identified)
        cJSON_AddTrueToObject(audit, "identified");
}

static int beyond(store_job *job, const char *name, int64_t head)
{
    char msg[120];

    snprintf(msg, sizeof msg, "%s is beyond the latest version (%lld)", name, (long long)head);
    return store_refuse(job, STORE_ERR_VERSION_RANGE, NULL, msg);
}

int store_history_read(sqlite3 *db, store_job *job)
{
    history_view view;
    int64_t head, from = num_in(job->in, "from", 0), to, next_v = from;
    cJSON *body, *snap, *ops;
    int rc = -1;

    if (start(db, job, &view, &head) != 0)
        return -1;
    to = num_in(job->in, "to", head);
    if (to > head)
        to = head;
    if (from > head) {
        view_close(&view);
        return beyond(job, "from", head);
    }
    body = cJSON_CreateObject();
    snap = cJSON_AddObjectToObject(body, "snapshot");
    ops = cJSON_AddArrayToObject(body, "ops");
    if (snap && ops && add_snapshot(db, job, &view, from, snap) == 0 &&
        read_ops(db, job, &view, from, to > from ? to : from, ops, &next_v) == 0 &&
        page_events(db, &view, job->doc, from, next_v, head,
                    cJSON_AddArrayToObject(body, "events")) == 0) {
        if (next_v < to)
            cJSON_AddNumberToObject(body, "next", (double)next_v);
        else
            cJSON_AddNullToObject(body, "next");
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
    int64_t head, v;
    cJSON *body;
    int rc = -1;

    if (start(db, job, &view, &head) != 0)
        return -1;
    v = num_in(job->in, "v", head);
    if (v > head) {
        view_close(&view);
        return beyond(job, "v", head);
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

/* Streams the ops of the view's session with the events between them. 0 or -1. */
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

int store_history_export(sqlite3 *db, const char *id, int pseudonymise,
                         store_history_emit emit, void *ctx, cJSON **final, char *err,
                         size_t errlen)
{
    history_view view;
    store_job *job = store_job_new(STORE_CALL, id);
    sqlite3_stmt *st = NULL;
    int64_t head;
    auth_error aerr = {{0}};
    int rc = -1;

    memset(&view, 0, sizeof view);
    view.full = 1;
    *final = NULL;
    if (!job || sqlite3_prepare_v2(db, "SELECT template FROM sessions WHERE id = ?1", -1, &st,
                                   NULL) != SQLITE_OK) {
        snprintf(err, errlen, "the database could not be read");
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "no session %s", id);
        rc = 1;
        goto done;
    }
    view.tpl = template_parse((const char *)sqlite3_column_text(st, 0),
                              (size_t)sqlite3_column_bytes(st, 0), &aerr);
    head = view.tpl ? store_reader_head(db, id, job) : -1;
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
    sqlite3_finalize(st);
    view_close(&view);
    store_job_free(job);
    return rc;
}
