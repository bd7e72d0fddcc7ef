/*
 * The reader's view of a case for the history reads (see store_history_internal.h): who
 * reads (its role and specialty, lead or not, from the database), the case's rules and
 * sessions, and how it reads (access_view_of): a supervisor pseudonymised unless it asks
 * for identified reading and holds a grant of the lead that has not expired. The frame
 * is the case's at the time of the read — the consents of its latest version, the names
 * it knows then — so every page of one case shows the same, whatever its range, and a
 * consent revoked hides what it guarded in old versions too.
 */
#include "store/store_history_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_history.h"
#include "store/store_internal.h"
#include "store/store_sql.h"

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

int store_actor_view(sqlite3 *db, store_job *job, const char *case_id, access_view *out)
{
    auth_principal who;
    char role[16];
    int m = store_team_role(db, case_id, store_actor_id(job), role);

    if (m <= 0)
        return m < 0 ? internal(job) : not_found(job);
    if (view_principal(db, job, strcmp(role, "lead") == 0, &who) != 0)
        return -1;
    *out = access_view_of(&who, false);
    return 0;
}

/* Whether the reader holds an unexpired identified-reading grant for case id:
 * 1, 0, or -1 (the database failed). */
static int granted(sqlite3 *db, store_job *job, const char *id, const store_view *view)
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

/* A supervisor's mode: identified under a grant when asked for, else pseudonymised.
 * 0, or -1 refused. */
static int view_mode(sqlite3 *db, store_job *job, const char *id, store_view *view)
{
    int g = 0;

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "identified")) &&
        (g = granted(db, job, id, view)) < 0)
        return internal(job);
    view->identified = g;
    return 0;
}

/* The case's sessions into the view, oldest first. 0 or -1. */
int store_view_sessions(sqlite3 *db, const char *case_id, store_view *view)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT id, start_v, COALESCE(end_v, -1), started_at,"
                           " COALESCE(ended_at, -1) FROM sessions WHERE case_id = ?1 ORDER BY"
                           " started_at, id", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_view_session *grown = realloc(view->sessions,
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
                       const store_view_session *only, int *lead)
{
    const char *bound = s_in(actor, "session"), *role = s_in(actor, "role");
    sqlite3_stmt *st = NULL;
    int rc, restricted = 0, member = 0;

    *lead = 0;
    if (sqlite3_prepare_v2(db, "SELECT c.status = 'restricted', t.role FROM cases c LEFT JOIN"
                           " team t ON t.case_id = c.id AND t.user_id = ?2 AND t.removed_at IS"
                           " NULL WHERE c.id = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, s_in(actor, "id") ? s_in(actor, "id") : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        restricted = sqlite3_column_int(st, 0);
        member = sqlite3_column_type(st, 1) != SQLITE_NULL;
        *lead = member && strcmp((const char *)sqlite3_column_text(st, 1), "lead") == 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : -1;
    if (bound)
        return !restricted && only && strcmp(bound, only->id) == 0 && only->to < 0;
    /* A restricted case: its lead, and admins reading what the lead reads; nobody else. */
    if (restricted && !member && role && strcmp(role, "admin") == 0) {
        *lead = 1;
        return 2;
    }
    if (restricted && member && !*lead)
        return -2;
    return member;
}

/* The case a read is about: in.id names the case, or (in.of_session) the session
 * whose case it is. Its id into case_id, its template text into *text (a copy, the
 * caller's to free). 1 found, 0 not, -1 SQL error. */
int store_view_case(sqlite3 *db, store_job *job, char case_id[64], char **text)
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
int store_view_open(sqlite3 *db, store_job *job, store_view *view)
{
    auth_error err = {{0}};
    char case_id[64], *text = NULL;
    int found, m, lead = 0;

    memset(view, 0, sizeof *view);
    found = store_view_case(db, job, case_id, &text);
    if (found < 0)
        return internal(job);
    if (!found)
        return not_found(job);
    free(job->doc);
    job->doc = strdup(case_id);
    if (!job->doc || store_view_sessions(db, case_id, view) != 0) {
        free(text);
        store_view_close(view);
        return internal(job);
    }
    for (size_t i = 0; i < view->n_sessions && of_session(job); i++)
        if (strcmp(view->sessions[i].id, s_in(job->in, "id")) == 0)
            view->only = &view->sessions[i];
    m = view_member(db, cJSON_GetObjectItemCaseSensitive(job->in, "actor"), case_id,
                    view->only, &lead);
    if (m <= 0 || view_principal(db, job, lead, &view->who) != 0) {
        free(text);
        store_view_close(view);
        return m == -2 ? store_refuse(job, STORE_ERR_FORBIDDEN, "case_restricted", "the case is "
                                      "restricted: only its lead and admins read it") :
               m < 0 ? internal(job) : not_found(job);
    }
    if (m == 2) {   /* an admin reading a restricted case, as its lead would */
        view->who.role = AUTH_ROLE_COUNSELLOR;
        view->who.specialty = AUTH_SPECIALTY_NONE;
        view->who.is_lead = true;
    }
    view->tpl = template_parse(text, strlen(text), &err);
    free(text);
    if (!view->tpl || (view->who.role == AUTH_ROLE_SUPERVISOR &&
                       view_mode(db, job, case_id, view) != 0)) {
        if (!view->tpl)
            internal(job);
        store_view_close(view);
        return -1;
    }
    view->view = access_view_of(&view->who, view->identified);
    return 0;
}

void store_view_close(store_view *view)
{
    free(view->sessions);
    view->sessions = NULL;
    view->n_sessions = 0;
    access_names_free(view->names);
    view->names = NULL;
    view->frame.names = NULL;
    template_free(view->tpl);
    view->tpl = NULL;
}

/* The display names the case's clients joined with into names. 0 or -1. */
static int client_names(sqlite3 *db, const char *case_id, access_names *names)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT konsil_open(c.display_name, s.case_id,"
                           " 'clients.display_name', c.id) FROM clients c JOIN sessions s ON"
                           " s.id = c.session WHERE s.case_id = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (access_names_add(names, (const char *)sqlite3_column_text(st, 0)) != 0)
            break;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_view_frame(sqlite3 *db, store_job *job, store_view *view, int64_t head)
{
    doc_state doc;
    int bad;

    doc_init(&doc);
    access_names_free(view->names);
    view->names = access_names_new();
    if (view->names && client_names(db, job->doc, view->names) != 0) {
        snprintf(job->error, sizeof job->error, "the case could not be read: %s",
                 sqlite3_errmsg(db));
        return -1;
    }
    bad = !view->names || store_reader_rebuild(db, job->doc, head, &doc, job) != 0;
    if (!bad && doc.exists) {
        view->frame.consents = access_view_consents(view->tpl, doc.data);
        bad = access_names_learn(view->names, template_identity(view->tpl), doc.data) != 0;
    }
    doc_clear(&doc);
    view->frame.consents_fixed = true;
    view->frame.names = view->names;
    if (bad && !job->error[0])
        snprintf(job->error, sizeof job->error, "out of memory");
    return bad ? -1 : 0;
}

bool store_view_tracks(const store_view *view)
{
    return view->view.flags != 0 && view->view.flags != ACCESS_VIEW_EVERYTHING;
}

/* The document's data as the reader sees it; JSON null when it does not exist. */
cJSON *store_view_snapshot(const store_view *view, const doc_state *doc)
{
    auth_error err = {{0}};

    if (!doc->exists)
        return cJSON_CreateNull();
    return access_view_snapshot(view->tpl, &view->view, &view->frame, doc->data, &err);
}

/* Adds what the reader sees of one stored op to entry: `op` (edit, maybe []),
 * `create` ({type, data}) or `del`. 0 or -1 (a damaged row, no memory). */
int store_view_op(const store_view *view, store_op_kind kind, const cJSON *payload,
                  const doc_state *before, cJSON *entry)
{
    auth_error err = {{0}};
    cJSON *out, *data;

    if (kind == STORE_OP_DEL)
        return cJSON_AddTrueToObject(entry, "del") ? 0 : -1;
    if (kind == STORE_OP_EDIT) {
        out = access_view_op(view->tpl, &view->view, &view->frame, NULL,
                             before && before->exists ? before->data : NULL, payload, &err);
        return out && cJSON_AddItemToObject(entry, "op", out) ? 0 : -1;
    }
    data = cJSON_GetObjectItemCaseSensitive(payload, "data");
    out = cJSON_AddObjectToObject(entry, "create");
    if (!out || !cJSON_AddItemToObject(out, "type", cJSON_Duplicate(
                    cJSON_GetObjectItemCaseSensitive(payload, "type"), 1)))
        return -1;
    data = !cJSON_IsObject(data) ? NULL :
           access_view_snapshot(view->tpl, &view->view, &view->frame, data, &err);
    return data && cJSON_AddItemToObject(out, "data", data) ? 0 : -1;
}

/* How an op's author (or an event's actor) is named to the reader: the account or the
 * client with that id, through access_view_identity (a client's name is self-chosen, or
 * the pseudonym for a pseudonymised reader; counsellors keep theirs: they are the ones
 * supervised); name and role null when it is neither; specialty null unless a
 * counsellor's. */
cJSON *store_view_author(const store_view *view, sqlite3_stmt *st, int c)
{
    const char *id = (const char *)sqlite3_column_text(st, c);
    const char *name = (const char *)sqlite3_column_text(st, c + 1);
    const char *role = (const char *)sqlite3_column_text(st, c + 2);
    const char *spec = (const char *)sqlite3_column_text(st, c + 3);
    auth_principal who;
    auth_role r;
    auth_specialty s = AUTH_SPECIALTY_NONE;
    cJSON *a;

    if (id && strcmp(id, ACCESS_VIEW_SERVER_ID) == 0 && !role)
        return access_view_server_identity();
    if (!id || !name || !role || auth_role_parse(role, &r) != 0 ||
        (spec && auth_specialty_parse(spec, &s) != 0) ||
        auth_principal_init(&who, id, name, r, r == AUTH_ROLE_COUNSELLOR ? s : AUTH_SPECIALTY_NONE,
                            false, NULL) != 0) {
        a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "id", id ? id : "");
        cJSON_AddNullToObject(a, "name");
        cJSON_AddNullToObject(a, "role");
        cJSON_AddNullToObject(a, "specialty");
        return a;
    }
    a = access_view_identity(&view->view, &who);
    if (a && !cJSON_GetObjectItemCaseSensitive(a, "specialty"))
        cJSON_AddNullToObject(a, "specialty");
    return a;
}

/* The session version v was edited in, or NULL: between sessions. */
const char *store_view_session_of(const store_view *view, int64_t v)
{
    for (size_t i = 0; i < view->n_sessions; i++)
        if (view->sessions[i].from <= v && (view->sessions[i].to < 0 || v < view->sessions[i].to))
            return view->sessions[i].id;
    return NULL;
}

/* The values of doc at the template's identity paths, in an object holding only those
 * paths; NULL: memory. */
static cJSON *identity_values(const template_spec *t, const cJSON *doc)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *path, *e;

    cJSON_ArrayForEach(path, template_identity(t)) {
        const cJSON *v = doc;
        cJSON *at = out;
        cJSON_ArrayForEach(e, path)
            v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
        if (!cJSON_IsString(v))
            continue;
        for (e = path->child; e && at; e = e->next) {
            cJSON *next = cJSON_GetObjectItemCaseSensitive(at, e->valuestring);
            if (!e->next)
                next = cJSON_AddStringToObject(at, e->valuestring, v->valuestring);
            else if (!next)
                next = cJSON_AddObjectToObject(at, e->valuestring);
            at = cJSON_IsObject(next) || !e->next ? next : NULL;
        }
        if (!at) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

int store_case_frame(sqlite3 *db, store_job *job, cJSON *meta)
{
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "template"));
    auth_error err = {{0}};
    template_spec *t = text ? template_parse(text, strlen(text), &err) : NULL;
    doc_state doc;
    int64_t head = store_reader_head(db, job->doc, job);
    cJSON *frame = NULL;
    int rc = -1;

    doc_init(&doc);
    if (t && head >= 0 && store_reader_rebuild(db, job->doc, head, &doc, job) == 0 &&
        (frame = cJSON_AddObjectToObject(meta, "frame")) &&
        cJSON_AddNumberToObject(frame, "consents",
                                doc.exists ? (double)access_view_consents(t, doc.data) : 0) &&
        cJSON_AddItemToObject(frame, "identity", identity_values(t, doc.exists ? doc.data
                                                                            : NULL)))
        rc = 0;
    if (rc != 0 && !job->error[0]) {
        job->status = STORE_FAILED;
        snprintf(job->error, sizeof job->error, "the case's frame could not be read");
    }
    doc_clear(&doc);
    template_free(t);
    return rc;
}
