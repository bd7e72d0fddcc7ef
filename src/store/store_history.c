/*
 * History and snapshot reads for the REST API (see store_history.h). Runs on the
 * reader thread inside one read transaction, so a page is one consistent state of the
 * log however the writer moves on.
 *
 * A history_view is the reader as the session's rules see it; view_snapshot(),
 * view_op() and view_author() are the only places where document values and author
 * identities reach the response. Supervisors' pseudonymised mode (issue 5) belongs
 * there: a view that replaces the client's identity values and display names with
 * stable pseudonyms would change these three functions and nothing else.
 */
#include "store/store_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_project.h"
#include "auth/template.h"
#include "proto/proto.h"
#include "store/store_api.h"
#include "store/store_internal.h"

typedef struct history_view {
    template_spec *tpl;     /* the session's own template (its rules), owned */
    auth_principal who;     /* the reader, is_lead set for this session */
} history_view;

static const char *s_in(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void answer(store_job *job, int code, cJSON *body)
{
    job->code = code;
    free(job->text);
    job->text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!job->text) {
        job->code = 500;
        job->text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    }
}

/* Answers an error; always returns -1. */
static int refuse(store_job *job, int code, const char *err_code, const char *message)
{
    cJSON *body = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(body, "error");

    cJSON_AddStringToObject(e, "code", err_code);
    cJSON_AddStringToObject(e, "message", message);
    answer(job, code, body);
    return -1;
}

static int internal(store_job *job)
{
    return refuse(job, 500, "internal", "the history could not be read");
}

/* ---- the reader's view ------------------------------------------------------------- */

/* The reader's role and specialty as the database has them (the account, or the client
 * bound to the session), and whether it leads the session. 0, or -1 answered. */
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
        return refuse(job, 404, "not_found", "no such session");
    return 0;
}

/* Opens the view of the actor on session id: 0, or -1 answered (404 when the actor
 * does not take part, or there is no such session). */
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
        return refuse(job, 404, "not_found", "no such session");
    if (sqlite3_prepare_v2(db, "SELECT template, lead FROM sessions WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return internal(job);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = refuse(job, 404, "not_found", "no such session");
    } else if (view_principal(db, job, (const char *)sqlite3_column_text(st, 1),
                              &view->who) == 0) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        view->tpl = text ? template_parse(text, strlen(text), &err) : NULL;
        rc = view->tpl ? 0 : internal(job);
    }
    sqlite3_finalize(st);
    return rc;
}

static void view_close(history_view *view)
{
    template_free(view->tpl);
    view->tpl = NULL;
}

/* The document's data as the reader sees it; JSON null when it does not exist. */
static cJSON *view_snapshot(const history_view *view, const room_doc *doc)
{
    auth_error err = {{0}};

    if (!doc->exists)
        return cJSON_CreateNull();
    return access_project_snapshot(template_rules(view->tpl), &view->who, doc->data, &err);
}

/* Adds what the reader sees of one stored op to entry: `op` (edit, maybe []),
 * `create` ({type, data}) or `del`. 0 or -1 (a damaged row, no memory). */
static int view_op(const history_view *view, int kind, const cJSON *payload, cJSON *entry)
{
    auth_error err = {{0}};
    cJSON *out, *data;

    if (kind == PROTO_DEL)
        return cJSON_AddTrueToObject(entry, "del") ? 0 : -1;
    if (kind == PROTO_EDIT) {
        out = access_project_op(template_rules(view->tpl), &view->who, payload, &err);
        return out && cJSON_AddItemToObject(entry, "op", out) ? 0 : -1;
    }
    data = cJSON_GetObjectItemCaseSensitive(payload, "data");
    out = cJSON_AddObjectToObject(entry, "create");
    if (!out || !cJSON_AddItemToObject(out, "type", cJSON_Duplicate(
                    cJSON_GetObjectItemCaseSensitive(payload, "type"), 1)))
        return -1;
    data = cJSON_IsObject(data) ?
           access_project_snapshot(template_rules(view->tpl), &view->who, data, &err) : NULL;
    return data && cJSON_AddItemToObject(out, "data", data) ? 0 : -1;
}

/* {id, name, role, specialty} of an op's author: the account or the client with that
 * id (name and role null when it is neither; specialty null unless a counsellor's). */
static cJSON *view_author(const history_view *view, sqlite3_stmt *st, int c)
{
    cJSON *a = cJSON_CreateObject();
    const char *id = (const char *)sqlite3_column_text(st, c);
    const char *name = (const char *)sqlite3_column_text(st, c + 1);
    const char *role = (const char *)sqlite3_column_text(st, c + 2);
    const char *spec = (const char *)sqlite3_column_text(st, c + 3);

    (void)view;
    cJSON_AddStringToObject(a, "id", id ? id : "");
    if (name)
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

static int64_t num_in(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

/* The ops [from, end) as the reader sees them, into list: at most `page` of them and,
 * beyond the first, at most page_bytes of stored text. *next_v is the version after the
 * last one listed. 0 or -1 (job->error set for a damaged log). */
static int read_ops(sqlite3 *db, store_job *job, const history_view *view, int64_t from,
                    int64_t end, cJSON *list, int64_t *next_v)
{
    static const char sql[] =
        "SELECT o.v, o.kind, o.ts, o.op, o.author, COALESCE(u.display_name, c.display_name),"
        " CASE WHEN u.id IS NOT NULL THEN u.role WHEN c.id IS NOT NULL THEN 'client' END,"
        " u.specialty FROM ops o LEFT JOIN users u ON u.id = o.author"
        " LEFT JOIN clients c ON c.id = o.author"
        " WHERE o.doc = ?1 AND o.v >= ?2 AND o.v < ?3 ORDER BY o.v LIMIT ?4";
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
        const char *text = (const char *)sqlite3_column_text(st, 3);
        int kind = sqlite3_column_int(st, 1), bad;
        cJSON *payload = NULL, *entry;

        bytes += sqlite3_column_bytes(st, 3);
        if (v > from && bytes > page_bytes)
            break;
        if (sqlite3_column_int64(st, 0) != v || (kind != PROTO_DEL && !text) ||
            (kind != PROTO_DEL && !(payload = cJSON_Parse(text)))) {
            job->status = STORE_FAILED;
            snprintf(job->error, sizeof job->error, "op log of %s is damaged at v%lld",
                     job->doc, (long long)v);
            sqlite3_finalize(st);
            return -1;
        }
        entry = cJSON_CreateObject();
        cJSON_AddNumberToObject(entry, "v", (double)v);
        cJSON_AddNumberToObject(entry, "ts", (double)sqlite3_column_int64(st, 2));
        cJSON_AddItemToObject(entry, "author", view_author(view, st, 4));
        bad = view_op(view, kind, payload, entry);
        cJSON_Delete(payload);
        cJSON_AddItemToArray(list, entry);
        if (bad) {
            job->status = STORE_FAILED;
            snprintf(job->error, sizeof job->error, "op of %s at v%lld cannot be projected",
                     job->doc, (long long)v);
            sqlite3_finalize(st);
            return -1;
        }
        v++;
    }
    sqlite3_finalize(st);
    *next_v = v;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The document at v as the reader sees it into body's "data" (with "v"). */
static int add_snapshot(sqlite3 *db, store_job *job, const history_view *view, int64_t v,
                        cJSON *body)
{
    cJSON *data;

    if (store_reader_rebuild(db, job->doc, v, &job->state, job) != 0)
        return -1;
    data = view_snapshot(view, &job->state);
    room_doc_clear(&job->state);
    if (!data)
        return -1;
    cJSON_AddNumberToObject(body, "v", (double)v);
    cJSON_AddItemToObject(body, "data", data);
    return 0;
}

/* Opens the view and reads the head; 0 or -1 answered. */
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
    return 0;
}

static int beyond(store_job *job, const char *name, int64_t head)
{
    char msg[120];

    snprintf(msg, sizeof msg, "%s is beyond the latest version (%lld)", name, (long long)head);
    return refuse(job, 400, "version_out_of_range", msg);
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
        read_ops(db, job, &view, from, to > from ? to : from, ops, &next_v) == 0) {
        if (next_v < to)
            cJSON_AddNumberToObject(body, "next", (double)next_v);
        else
            cJSON_AddNullToObject(body, "next");
        job->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(job->out, "from", (double)from);
        cJSON_AddNumberToObject(job->out, "to", (double)next_v);
        answer(job, 200, body);
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
        job->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(job->out, "v", (double)v);
        answer(job, 200, body);
        rc = 0;
    } else {
        cJSON_Delete(body);
        internal(job);
    }
    view_close(&view);
    return rc;
}
