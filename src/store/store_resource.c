/*
 * The case and session resources as their reader reads them (see store_sql.h): what
 * the REST API tells a principal about a case goes through src/auth/access_view.h like
 * everything it reads of the case sheet. The title is free text outside the sheet
 * (access_view_text: masked for a supervisor without the client's supervision consent,
 * names replaced for a pseudonymised reader); the people of the case are named through
 * access_view_identity; and "readers" says, for each part of the sheet a rule governs,
 * who reads it now and under which consent (access_view_reading_at), so that what a page
 * tells anyone about who sees a part is computed by the same rule that decides it.
 *
 * The frame is the case's at the time of the read: the consents of its latest version,
 * the names it knows then. It is read only when needed (a supervisor's title, a
 * detailed resource), so a list of cases read by a counsellor costs nothing more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_view.h"
#include "store/store_history.h"
#include "store/store_internal.h"
#include "store/store_sql.h"

typedef struct reading {
    template_spec *tpl;
    access_view view;
    access_consents consents;
    access_names *names;
} reading;

static void reading_clear(reading *r)
{
    template_free(r->tpl);
    access_names_free(r->names);
    memset(r, 0, sizeof *r);
}

/* The template of case_id. 0 or -1. */
static int load_template(sqlite3 *db, const char *case_id, reading *r)
{
    sqlite3_stmt *st = store_q(db, "SELECT t.text FROM cases c JOIN templates t ON t.name ="
                               " c.template_name AND t.version = c.template_version WHERE"
                               " c.id = ?1", "s", case_id);
    auth_error err = {{0}};

    if (st && sqlite3_step(st) == SQLITE_ROW)
        r->tpl = template_parse(store_col(st, 0), (size_t)sqlite3_column_bytes(st, 0), &err);
    sqlite3_finalize(st);
    return r->tpl ? 0 : -1;
}

/* The case's frame at the time of the read: its clients' names, the consents and the
 * identity values of its latest version, which stays in *keep when asked for. 0 or -1. */
static int load_frame(sqlite3 *db, store_job *job, const char *case_id, reading *r,
                      doc_state *keep)
{
    sqlite3_stmt *st = store_q(db, "SELECT konsil_open(c.display_name, s.case_id,"
                               " 'clients.display_name', c.id) FROM clients c JOIN sessions s"
                               " ON s.id = c.session WHERE s.case_id = ?1", "s", case_id);
    doc_state doc;
    int64_t head;
    int rc = SQLITE_ERROR;

    if (!(r->names = access_names_new()) || !st) {
        sqlite3_finalize(st);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (access_names_add(r->names, store_col(st, 0)) != 0)
            break;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    doc_init(&doc);
    head = store_reader_head(db, case_id, job);
    rc = head >= 0 && store_reader_rebuild(db, case_id, head, &doc, job) == 0 ? 0 : -1;
    if (rc == 0 && doc.exists) {
        r->consents = access_view_consents(r->tpl, doc.data);
        rc = access_names_learn(r->names, template_identity(r->tpl), doc.data);
    }
    if (keep && rc == 0)
        *keep = doc;
    else
        doc_clear(&doc);
    return rc;
}

/* The actor's view in case_id: the client bound to one of its sessions, or a member
 * of its team. 0 or -1 refused. */
static int actor_view(sqlite3 *db, store_job *job, const char *case_id, access_view *v)
{
    auth_principal client;

    if (store_s(store_actor(job), "session")) {
        if (auth_principal_init(&client, store_actor_id(job), "client", AUTH_ROLE_CLIENT,
                                AUTH_SPECIALTY_NONE, false, NULL) != 0)
            return store_refuse(job, STORE_ERR_NOT_FOUND, NULL, "no such case");
        *v = access_view_of(&client, false);
        return 0;
    }
    return store_actor_view(db, job, case_id, v);
}

/* ---- readers ------------------------------------------------------------------------ */

static const char *reading_name(access_view_reading r)
{
    switch (r) {
    case ACCESS_READS_STRUCTURE: return "free_text_hidden";
    case ACCESS_READS_PSEUDONYM: return "pseudonym";
    case ACCESS_READS_REDACTED: return "names_replaced";
    case ACCESS_READS_TEXT: return "text";
    default: return "nothing";
    }
}

/* {kind, with?} of one consent bit. */
static cJSON *consent_json(access_consents bit)
{
    cJSON *c = cJSON_CreateObject();

    if (bit == ACCESS_CONSENT_SUPERVISION_BIT) {
        cJSON_AddStringToObject(c, "kind", "supervision");
    } else if (bit == ACCESS_CONSENT_PROCESSING_BIT) {
        cJSON_AddStringToObject(c, "kind", "processing");
    } else {
        cJSON_AddStringToObject(c, "kind", "share");
        for (int s = AUTH_SPECIALTY_DEBT; s < AUTH_SPECIALTY_COUNT; s++)
            if (bit == ACCESS_CONSENT_SHARE_WITH(s))
                cJSON_AddStringToObject(c, "with", auth_specialty_name((auth_specialty)s));
    }
    return c;
}

/* Appends who (one of the case's readers) to list when it reads path now or would
 * under a consent: {…who, reads, consent?: {kind, with?, given, reads}}. 0 or -1. */
static int add_reader(const reading *r, const cJSON *path, const auth_principal *who,
                      cJSON *base, cJSON *list)
{
    access_view v = access_view_of(who, false);
    access_view_reading now = access_view_reading_at(r->tpl, &v, r->consents, path);
    access_consents mask = access_view_consent_mask(r->tpl, &v), bit = 0;
    access_view_reading with = now;
    cJSON *e;

    for (unsigned b = 0; b < 32 && !bit; b++) {
        access_consents one = 1u << b;
        if (!(mask & one))
            continue;
        with = access_view_reading_at(r->tpl, &v, r->consents | one, path);
        if (with != access_view_reading_at(r->tpl, &v, r->consents & ~one, path))
            bit = one;
    }
    if (now == ACCESS_READS_NOTHING && !bit) {
        cJSON_Delete(base);
        return 0;
    }
    if (!(e = base))
        return -1;
    cJSON_AddStringToObject(e, "reads", reading_name(now));
    if (bit) {
        cJSON *c = consent_json(bit);
        cJSON_AddBoolToObject(c, "given", (r->consents & bit) != 0);
        cJSON_AddStringToObject(c, "reads", reading_name(with));
        cJSON_AddItemToObject(e, "consent", c);
    }
    cJSON_AddItemToArray(list, e);
    return 0;
}

/* [{path, readers: […]}] for every rule of the template: the case's client (a client
 * of a running session) and each member of its team (team: the resource's team, each
 * {id, name, role, specialty?, team_role}). */
static cJSON *readers_json(const reading *r, const cJSON *rules, const cJSON *team)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *rule, *m;

    cJSON_ArrayForEach(rule, rules) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(rule, "path");
        cJSON *entry = cJSON_CreateObject(), *list = cJSON_CreateArray(), *base;
        auth_principal who;

        cJSON_AddItemToObject(entry, "path", cJSON_Duplicate(path, 1));
        cJSON_AddItemToObject(entry, "readers", list);
        cJSON_AddItemToArray(out, entry);
        if (auth_principal_init(&who, "client", "client", AUTH_ROLE_CLIENT,
                                AUTH_SPECIALTY_NONE, false, NULL) == 0) {
            base = cJSON_CreateObject();
            cJSON_AddStringToObject(base, "role", "client");
            if (add_reader(r, path, &who, base, list) != 0)
                goto fail;
        }
        cJSON_ArrayForEach(m, team) {
            const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
            const char *spec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "specialty"));
            const char *team_role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "team_role"));
            auth_role ar;
            auth_specialty as = AUTH_SPECIALTY_NONE;
            int lead = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "lead")) ||
                       (team_role && strcmp(team_role, "lead") == 0);
            if (!role || auth_role_parse(role, &ar) != 0 ||
                (spec && auth_specialty_parse(spec, &as) != 0) ||
                auth_principal_init(&who, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id")),
                                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name")),
                                    ar, ar == AUTH_ROLE_COUNSELLOR ? as : AUTH_SPECIALTY_NONE,
                                    ar == AUTH_ROLE_COUNSELLOR && lead, NULL) != 0)
                continue;
            base = cJSON_CreateObject();
            cJSON_AddStringToObject(base, "id", who.id);
            cJSON_AddStringToObject(base, "name", who.display_name);
            cJSON_AddStringToObject(base, "role", role);
            if (ar == AUTH_ROLE_COUNSELLOR && as != AUTH_SPECIALTY_NONE)
                cJSON_AddStringToObject(base, "specialty", auth_specialty_name(as));
            if (who.is_lead)
                cJSON_AddTrueToObject(base, "lead");
            if (add_reader(r, path, &who, base, list) != 0)
                goto fail;
        }
    }
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

/* ---- people ------------------------------------------------------------------------- */

/* The team (as the resource lists it: names are theirs for every reader) and the
 * case's clients named through access_view_identity; NULL: memory or the database. */
static cJSON *people_json(sqlite3 *db, const char *case_id, const access_view *v,
                          const cJSON *team)
{
    sqlite3_stmt *st = store_q(db, "SELECT c.id, konsil_open(c.display_name, s.case_id,"
                               " 'clients.display_name', c.id) FROM clients c JOIN sessions s"
                               " ON s.id = c.session WHERE s.case_id = ?1 AND c.status NOT IN"
                               " ('waiting', 'declined') ORDER BY c.created_at, c.id", "s",
                               case_id);
    cJSON *out = cJSON_CreateArray();
    const cJSON *m;
    int rc = SQLITE_ERROR;

    cJSON_ArrayForEach(m, team) {
        cJSON *p = cJSON_CreateObject();
        static const char *const keys[] = {"id", "name", "role", "specialty"};
        for (size_t i = 0; i < 4; i++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, keys[i]);
            if (cJSON_IsString(x))
                cJSON_AddStringToObject(p, keys[i], x->valuestring);
        }
        cJSON_AddItemToArray(out, p);
    }
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        auth_principal who;
        cJSON *u;
        if (auth_principal_init(&who, store_col(st, 0), store_col(st, 1), AUTH_ROLE_CLIENT,
                                AUTH_SPECIALTY_NONE, false, NULL) != 0)
            continue;
        if (!(u = access_view_identity(v, &who)))
            break;
        cJSON_AddItemToArray(out, u);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

/* The template's declarations the pages work by: consents, stamps, identity, structured
 * (as in its text), into resource's "template" object. */
static void add_declarations(sqlite3 *db, const char *case_id, cJSON *resource)
{
    sqlite3_stmt *st = store_q(db, "SELECT t.text FROM cases c JOIN templates t ON t.name ="
                               " c.template_name AND t.version = c.template_version WHERE"
                               " c.id = ?1", "s", case_id);
    cJSON *text = st && sqlite3_step(st) == SQLITE_ROW ? cJSON_Parse(store_col(st, 0)) : NULL;
    cJSON *tpl = cJSON_GetObjectItemCaseSensitive(resource, "template");
    static const char *const keys[] = {"consents", "stamps", "identity", "structured"};

    sqlite3_finalize(st);
    if (!cJSON_IsObject(tpl)) {
        tpl = cJSON_CreateObject();
        cJSON_AddStringToObject(tpl, "name", cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(text, "name")));
        cJSON_AddItemToObject(resource, "template", tpl);
    }
    for (size_t i = 0; i < 4; i++) {
        cJSON *x = cJSON_DetachItemFromObjectCaseSensitive(text, keys[i]);
        cJSON_AddItemToObject(tpl, keys[i], x ? x : cJSON_CreateNull());
    }
    cJSON_Delete(text);
}

int store_resource_for_reader(sqlite3 *db, store_job *job, const char *case_id,
                              cJSON *resource, int detailed)
{
    const cJSON *team = cJSON_GetObjectItemCaseSensitive(resource, "team");
    cJSON *title = cJSON_GetObjectItemCaseSensitive(resource, "title"), *x;
    reading r;
    char *shown = NULL;
    int rc = -1;

    memset(&r, 0, sizeof r);
    if (!team)
        team = cJSON_GetObjectItemCaseSensitive(resource, "participants");
    if (actor_view(db, job, case_id, &r.view) != 0)
        return -1;
    if (!detailed && r.view.flags == 0)
        return 0;   /* reads titles as they are; nothing else to add */
    if (load_template(db, case_id, &r) != 0 || load_frame(db, job, case_id, &r, NULL) != 0)
        goto done;
    if (cJSON_IsString(title)) {
        if (access_view_text(&r.view, r.consents, r.names, title->valuestring, &shown) < 0)
            goto done;
        if (shown && !cJSON_ReplaceItemInObjectCaseSensitive(resource, "title",
                                                             cJSON_CreateString(shown)))
            goto done;
    }
    if (detailed) {
        add_declarations(db, case_id, resource);
        if (!(x = people_json(db, case_id, &r.view, team)))
            goto done;
        cJSON_AddItemToObject(resource, "people", x);
        if (!(x = readers_json(&r, cJSON_GetObjectItemCaseSensitive(resource, "rules"), team)))
            goto done;
        cJSON_AddItemToObject(resource, "readers", x);
    }
    rc = 0;
done:
    free(shown);
    reading_clear(&r);
    return rc == 0 ? 0 : store_sql_fail(job);
}

cJSON *store_resource_sheet(sqlite3 *db, store_job *job, const char *case_id,
                            const auth_principal *who)
{
    reading r;
    doc_state doc;
    access_frame f;
    auth_error err = {{0}};
    cJSON *out = NULL;

    memset(&r, 0, sizeof r);
    doc_init(&doc);
    r.view = access_view_of(who, false);
    if (load_template(db, case_id, &r) == 0 && load_frame(db, job, case_id, &r, &doc) == 0 &&
        doc.exists) {
        f.consents = r.consents;
        f.consents_fixed = true;
        f.names = r.names;
        out = access_view_snapshot(r.tpl, &r.view, &f, doc.data, &err);
    }
    doc_clear(&doc);
    reading_clear(&r);
    return out;
}
