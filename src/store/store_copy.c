/*
 * The client's own copy and the print view (see store_copy.h).
 */
#include "store/store_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_view.h"
#include "auth/template.h"
#include "store/store_internal.h"
#include "store/store_recipients.h"
#include "store/store_retention.h"
#include "store/store_sql.h"

/* The purposes told when a template names none. */
static const char *const fallback_purposes[] = {
    "Beratung und Unterstützung in den vereinbarten Anliegen (Beratungsvertrag, Art. 6 Abs. 1 "
    "lit. b DSGVO)",
    "Dokumentation der Beratung (Dokumentationspflicht der Einrichtung)",
};

/* The case a copy is about, as read once: its record and template. */
typedef struct copy_case {
    char id[64];
    char status[16];
    template_spec *tpl;
    cJSON *record;          /* {id, title, status, created_at, closed_at, template} */
} copy_case;

static void copy_case_free(copy_case *c)
{
    template_free(c->tpl);
    cJSON_Delete(c->record);
}

/* Reads case id into *c. 1, 0 (no such case), -1. */
static int read_case(sqlite3 *db, const char *id, copy_case *c)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, konsil_open(c.title, c.id, 'cases.title', c.id),"
                               " c.status, c.created_at, c.closed_at, c.template_name,"
                               " c.template_version, t.text FROM cases c JOIN templates t ON"
                               " t.name = c.template_name AND t.version = c.template_version"
                               " WHERE c.id = ?1", "s", id);
    auth_error err = {{0}};
    cJSON *tpl;
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    memset(c, 0, sizeof *c);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    snprintf(c->id, sizeof c->id, "%s", store_col(st, 0));
    snprintf(c->status, sizeof c->status, "%s", store_col(st, 2));
    c->tpl = template_parse(store_col(st, 7), (size_t)sqlite3_column_bytes(st, 7), &err);
    c->record = cJSON_CreateObject();
    cJSON_AddStringToObject(c->record, "id", c->id);
    cJSON_AddStringToObject(c->record, "title", store_col(st, 1) ? store_col(st, 1) : "");
    cJSON_AddStringToObject(c->record, "status", c->status);
    cJSON_AddNumberToObject(c->record, "created_at", (double)sqlite3_column_int64(st, 3));
    cJSON_AddItemToObject(c->record, "closed_at", store_col_number(st, 4));
    tpl = cJSON_AddObjectToObject(c->record, "template");
    cJSON_AddStringToObject(tpl, "name", store_col(st, 5));
    cJSON_AddNumberToObject(tpl, "version", (double)sqlite3_column_int64(st, 6));
    if (c->tpl)
        cJSON_AddStringToObject(tpl, "title", template_title(c->tpl));
    sqlite3_finalize(st);
    return c->tpl ? 1 : -1;
}

/* The case sheet at its latest version as a client of the case reads it: {v, data}. The
 * one view module decides (access_view.h), under the consents the sheet holds now. */
static cJSON *client_sheet(sqlite3 *db, store_job *job, const copy_case *c)
{
    auth_principal client;
    access_view view;
    access_frame frame;
    auth_error err = {{0}};
    doc_state doc;
    int64_t head = store_doc_head(db, c->id);
    cJSON *out = NULL, *data;

    doc_init(&doc);
    if (head < 0 || store_reader_rebuild(db, c->id, head, &doc, job) != 0 ||
        auth_principal_init(&client, "client", "client", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE,
                            false, NULL) != 0)
        goto out;
    view = access_view_of(&client, false);
    memset(&frame, 0, sizeof frame);
    frame.consents_fixed = true;
    if (doc.exists) {
        frame.consents = access_view_consents(c->tpl, doc.data);
        data = access_view_snapshot(c->tpl, &view, &frame, doc.data, &err);
    } else {
        data = cJSON_CreateNull();
    }
    if (!data)
        goto out;
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "v", (double)doc.v);
    cJSON_AddItemToObject(out, "data", data);
out:
    doc_clear(&doc);
    return out;
}

/* The value at path (object keys) in doc, or NULL. */
static const cJSON *at_path(const cJSON *doc, const cJSON *path)
{
    const cJSON *v = doc, *k;

    cJSON_ArrayForEach(k, path) {
        if (!cJSON_IsString(k) || !cJSON_IsObject(v))
            return NULL;
        v = cJSON_GetObjectItemCaseSensitive(v, k->valuestring);
    }
    return v;
}

/* [{id, started_at, ended_at, attended}] of the case's sessions. */
static cJSON *sessions_of(sqlite3 *db, const char *case_id, const char *attended)
{
    sqlite3_stmt *st = store_q(db, "SELECT id, started_at, ended_at FROM sessions WHERE case_id"
                               " = ?1 ORDER BY started_at, id", "s", case_id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "id", store_col(st, 0));
        cJSON_AddNumberToObject(s, "started_at", (double)sqlite3_column_int64(st, 1));
        cJSON_AddItemToObject(s, "ended_at", store_col_number(st, 2));
        cJSON_AddBoolToObject(s, "attended", attended && strcmp(attended, store_col(st, 0)) == 0);
        cJSON_AddItemToArray(list, s);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

/* {class, after_closure_days, basis, delete_at, held, restricted} as the client is told. */
static cJSON *retention_of(sqlite3 *db, store_job *job, const copy_case *c)
{
    cJSON *holder = cJSON_CreateObject(), *r, *out = NULL;
    static const char *const told[] = {"class", "after_closure_days", "basis", "delete_at",
                                       "held"};

    cJSON_AddStringToObject(holder, "id", c->id);
    if (store_retention_add(db, job->in, 0, holder) == 0 &&
        (r = cJSON_GetObjectItemCaseSensitive(holder, "retention"))) {
        out = cJSON_CreateObject();
        for (size_t i = 0; i < sizeof told / sizeof told[0]; i++)
            cJSON_AddItemToObject(out, told[i], cJSON_Duplicate(
                cJSON_GetObjectItemCaseSensitive(r, told[i]), 1));
        cJSON_AddBoolToObject(out, "restricted", strcmp(c->status, "restricted") == 0);
    }
    cJSON_Delete(holder);
    return out;
}

/* The client's record: {id, name, status, joined_at, session}, and its case's id into
 * case_id. 1, 0 (none such), -1. With session set (the client itself), only its own. */
static int client_record(sqlite3 *db, const char *client, const char *case_id_in,
                         const char *session, char case_id[64], cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, konsil_open(c.display_name, s.case_id,"
                               " 'clients.display_name', c.id), c.status, c.created_at,"
                               " c.session, s.case_id FROM clients c JOIN sessions s ON s.id ="
                               " c.session WHERE c.id = ?1 AND (?2 IS NULL OR s.case_id = ?2)"
                               " AND (?3 IS NULL OR c.session = ?3)", "sss", client,
                               case_id_in, session);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

    if (rc == SQLITE_ROW) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", store_col(st, 0));
        cJSON_AddStringToObject(*out, "name", store_col(st, 1) ? store_col(st, 1) : "");
        cJSON_AddStringToObject(*out, "status", store_col(st, 2));
        cJSON_AddNumberToObject(*out, "joined_at", (double)sqlite3_column_int64(st, 3));
        cJSON_AddStringToObject(*out, "session", store_col(st, 4));
        snprintf(case_id, 64, "%s", store_col(st, 5));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Refuses unless the actor is a counsellor of case_id's team (the lead alone while it is
 * restricted). 0 when it may. */
static int require_counsellor(sqlite3 *db, store_job *job, const char *case_id)
{
    char role[16];
    sqlite3_stmt *st;
    int m, restricted;

    if (store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    m = store_team_role(db, case_id, store_actor_id(job), role);
    if (m < 0)
        return store_sql_fail(job);
    if (m == 0)
        return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
    if (strcmp(role, "supervisor") == 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL,
                            "a counsellor of the team does this for the client");
    st = store_q(db, "SELECT status = 'restricted' FROM cases WHERE id = ?1", "s", case_id);
    restricted = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (restricted && strcmp(role, "lead") != 0)
        return store_refuse(job, STORE_ERR_FORBIDDEN, "case_restricted",
                            "the case is restricted: only its lead and admins read it");
    return 0;
}

int store_api_client_copy(sqlite3 *db, store_job *job)
{
    const char *session = store_s(store_actor(job), "session");
    const char *client = session ? store_actor_id(job) : store_s(job->in, "client_id");
    const cJSON *purposes;
    char case_id[64];
    copy_case c;
    cJSON *about = NULL, *copy, *sheet, *list, *recipients, *retention;
    int found;

    if (!session && require_counsellor(db, job, store_s(job->in, "id")) != 0)
        return -1;
    found = client_record(db, client, session ? NULL : store_s(job->in, "id"), session,
                          case_id, &about);
    if (found < 0)
        return store_sql_fail(job);
    if (!found)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "client_not_found",
                            "no such client of the case");
    if (session && strcmp(store_s(about, "status"), "admitted") != 0) {
        cJSON_Delete(about);
        return store_refuse(job, STORE_ERR_FORBIDDEN, "waiting",
                            "a counsellor has not admitted you yet");
    }
    if (read_case(db, case_id, &c) != 1) {
        cJSON_Delete(about);
        copy_case_free(&c);
        return store_sql_fail(job);
    }
    copy = cJSON_CreateObject();
    cJSON_AddStringToObject(copy, "format", "konsil-client-copy");
    cJSON_AddNumberToObject(copy, "version", 1);
    cJSON_AddNumberToObject(copy, "generated_at", (double)store_i(job->in, "now"));
    cJSON_AddItemToObject(copy, "about", about);
    cJSON_AddItemToObject(copy, "case", c.record);
    c.record = NULL;
    sheet = client_sheet(db, job, &c);
    list = sessions_of(db, case_id, store_s(about, "session"));
    retention = retention_of(db, job, &c);
    if (!sheet || !list || !retention ||
        store_recipients_case(db, case_id, client, &recipients) != 0) {
        cJSON_Delete(sheet);
        cJSON_Delete(list);
        cJSON_Delete(retention);
        cJSON_Delete(copy);
        copy_case_free(&c);
        return job->status == STORE_OK ? store_sql_fail(job) : -1;
    }
    cJSON_AddItemToObject(copy, "sessions", list);
    cJSON_AddItemToObject(copy, "sheet", sheet);
    cJSON_AddItemToObject(copy, "consents", cJSON_Duplicate(
        template_consent_path(c.tpl) ?
        at_path(cJSON_GetObjectItemCaseSensitive(sheet, "data"), template_consent_path(c.tpl)) :
        NULL, 1));
    if (!cJSON_GetObjectItemCaseSensitive(copy, "consents") ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(copy, "consents"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "consents");
        cJSON_AddArrayToObject(copy, "consents");
    }
    purposes = template_purposes(c.tpl);
    cJSON_AddItemToObject(copy, "purposes", purposes ? cJSON_Duplicate(purposes, 1) :
                          cJSON_CreateStringArray(fallback_purposes, 2));
    cJSON_AddItemToObject(copy, "recipients", recipients);
    cJSON_AddItemToObject(copy, "retention", retention);
    copy_case_free(&c);
    free(job->doc);
    job->doc = strdup(case_id);
    job->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(job->audit, "client", client);
    cJSON_AddStringToObject(job->audit, "for", session ? "self" : "on_behalf");
    if (!job->doc) {
        cJSON_Delete(copy);
        return store_sql_fail(job);
    }
    store_answer(job, copy);
    return 0;
}

int store_copy_clients(sqlite3 *db, const char *case_id, cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, konsil_open(c.display_name, s.case_id,"
                               " 'clients.display_name', c.id), c.session, c.created_at FROM"
                               " clients c JOIN sessions s ON s.id = c.session WHERE s.case_id ="
                               " ?1 AND c.status IN ('admitted', 'waiting') ORDER BY"
                               " c.created_at, c.id", "s", case_id);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", store_col(st, 0));
        cJSON_AddStringToObject(c, "name", store_col(st, 1) ? store_col(st, 1) : "");
        cJSON_AddStringToObject(c, "session", store_col(st, 2));
        cJSON_AddNumberToObject(c, "joined_at", (double)sqlite3_column_int64(st, 3));
        cJSON_AddItemToArray(list, c);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return -1;
    }
    *out = list;
    return 0;
}

int store_api_client_view(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    copy_case c;
    cJSON *sheet, *out;
    int found;

    if (require_counsellor(db, job, id) != 0)
        return -1;
    found = read_case(db, id, &c);
    if (found != 1) {
        copy_case_free(&c);
        return found == 0 ? store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case") :
               store_sql_fail(job);
    }
    sheet = client_sheet(db, job, &c);
    if (!sheet) {
        copy_case_free(&c);
        return job->status == STORE_OK ? store_sql_fail(job) : -1;
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "case", c.record);
    c.record = NULL;
    cJSON_AddItemToObject(out, "v", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sheet, "v"),
                                                    1));
    cJSON_AddItemToObject(out, "data", cJSON_DetachItemFromObjectCaseSensitive(sheet, "data"));
    cJSON_Delete(sheet);
    copy_case_free(&c);
    free(job->doc);
    job->doc = strdup(id);
    job->audit = cJSON_CreateObject();
    cJSON_AddStringToObject(job->audit, "as", "client");
    if (!job->doc) {
        cJSON_Delete(out);
        return store_sql_fail(job);
    }
    store_answer(job, out);
    return 0;
}
