/*
 * Who read and wrote what of a case, and when (see store_audit_report.h): the audit
 * trail's entries about the case, grouped by who made them, and the op log's authors
 * with what they changed. Read in the caller's transaction, so the report is one
 * consistent state of both. The principals are named as the operator knows them
 * (identified): the report is for the data-protection officer answering a client's
 * request under GDPR Art. 15, and for nobody else.
 */
#include "store/store_audit_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_history.h"
#include "store/store_recipients.h"

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* The entry of `people` for id, created as {id, name, role, specialty, reads: [],
 * other: [], writes: null} from the users and clients tables when first met (a client's
 * name opened with case_id's key). */
static cJSON *person(sqlite3 *db, const char *case_id, cJSON *people, const char *id)
{
    sqlite3_stmt *st = NULL;
    cJSON *p;

    cJSON_ArrayForEach(p, people)
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "id")), id) == 0)
            return p;
    p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", id);
    if (strcmp(id, "cli") == 0) {
        cJSON_AddStringToObject(p, "name", "the operator (konsil on the command line)");
        cJSON_AddStringToObject(p, "role", "operator");
    } else if (strcmp(id, ACCESS_VIEW_SERVER_ID) == 0) {
        cJSON_AddStringToObject(p, "name", "Konsil");
        cJSON_AddStringToObject(p, "role", "server");
    } else if (sqlite3_prepare_v2(db, "SELECT u.display_name, u.role, u.specialty FROM users u"
                                  " WHERE u.id = ?1 UNION ALL SELECT konsil_open(c.display_name,"
                                  " ?2, 'clients.display_name', c.id), 'client', NULL FROM"
                                  " clients c WHERE c.id = ?1 LIMIT 1", -1, &st,
                                  NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, case_id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON_AddStringToObject(p, "name", col(st, 0));
            cJSON_AddStringToObject(p, "role", col(st, 1));
            if (col(st, 2) && strcmp(col(st, 2), "none") != 0)
                cJSON_AddStringToObject(p, "specialty", col(st, 2));
        }
    }
    sqlite3_finalize(st);
    if (!cJSON_GetObjectItemCaseSensitive(p, "name")) {
        cJSON_AddNullToObject(p, "name");
        cJSON_AddNullToObject(p, "role");
    }
    cJSON_AddArrayToObject(p, "reads");
    cJSON_AddArrayToObject(p, "other");
    cJSON_AddNullToObject(p, "writes");
    cJSON_AddItemToArray(people, p);
    return p;
}

/* The audit entries about case_id, by actor: reads (the actions that disclose the
 * case's data, as store_recipients.h defines them) and other actions. 0 or -1. */
static int add_entries(sqlite3 *db, const char *case_id, cJSON *people)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, details, action IN ("
                           STORE_RECIPIENT_ACTIONS ") FROM audit WHERE session = ?1 ORDER"
                           " BY seq", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *actor = col(st, 2) && col(st, 2)[0] ? col(st, 2) : "unknown";
        cJSON *p = person(db, case_id, people, actor), *e = cJSON_CreateObject();
        cJSON *details = col(st, 4) ? cJSON_Parse(col(st, 4)) : NULL;
        cJSON_AddNumberToObject(e, "seq", (double)sqlite3_column_int64(st, 0));
        cJSON_AddNumberToObject(e, "ts", (double)sqlite3_column_int64(st, 1));
        cJSON_AddStringToObject(e, "action", col(st, 3));
        cJSON_AddItemToObject(e, "details", details ? details : cJSON_CreateNull());
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p, sqlite3_column_int(st, 5) ?
                                                              "reads" : "other"), e);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The top-level part of the case sheet a component changes ("(whole)" for the root). */
static const char *part_of(const cJSON *comp)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(comp, "p");
    const char *key = p && p->child ? cJSON_GetStringValue(p->child) : NULL;

    return key ? key : "(whole)";
}

/* What each author wrote: {ops, first_v, last_v, first, last, parts: {part: ops}}. 0, -1. */
static int add_writes(sqlite3 *db, const char *case_id, cJSON *people)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT v, ts, author, kind, konsil_open(op, doc, 'ops', v) FROM"
                           " ops WHERE doc = ?1 ORDER BY v", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *p = person(db, case_id, people, col(st, 2) ? col(st, 2) : "unknown");
        cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "writes"), *parts, *op, *c;
        double v = (double)sqlite3_column_int64(st, 0), ts = (double)sqlite3_column_int64(st, 1);
        if (cJSON_IsNull(w)) {
            w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "ops", 0);
            cJSON_AddNumberToObject(w, "first_v", v);
            cJSON_AddNumberToObject(w, "first", ts);
            cJSON_AddNumberToObject(w, "last_v", v);
            cJSON_AddNumberToObject(w, "last", ts);
            cJSON_AddObjectToObject(w, "parts");
            cJSON_ReplaceItemInObjectCaseSensitive(p, "writes", w);
        }
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "ops"),
                             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "ops")) + 1);
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "last_v"), v);
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "last"), ts);
        parts = cJSON_GetObjectItemCaseSensitive(w, "parts");
        op = sqlite3_column_int(st, 3) == STORE_OP_EDIT && col(st, 4) ? cJSON_Parse(col(st, 4))
                                                                    : NULL;
        if (sqlite3_column_int(st, 3) != STORE_OP_EDIT) {
            cJSON *n = cJSON_GetObjectItemCaseSensitive(parts, "(whole)");
            if (n)
                cJSON_SetNumberValue(n, n->valuedouble + 1);
            else
                cJSON_AddNumberToObject(parts, "(whole)", 1);
        }
        cJSON_ArrayForEach(c, op) {
            cJSON *n = cJSON_GetObjectItemCaseSensitive(parts, part_of(c));
            if (n)
                cJSON_SetNumberValue(n, n->valuedouble + 1);
            else
                cJSON_AddNumberToObject(parts, part_of(c), 1);
        }
        cJSON_Delete(op);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_audit_report(sqlite3 *db, const char *id, cJSON **out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    char case_id[64];
    cJSON *r = NULL, *c, *people;
    int found = store_history_case_of(db, id, case_id);

    *out = NULL;
    if (found <= 0) {
        snprintf(err, errlen, found < 0 ? "the database could not be read" :
                 "no case or session %s", id);
        return found < 0 ? -1 : 1;
    }
    r = cJSON_CreateObject();
    c = cJSON_AddObjectToObject(r, "case");
    if (sqlite3_prepare_v2(db, "SELECT id, konsil_open(title, id, 'cases.title', id), status,"
                           " created_at, closed_at FROM cases WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    cJSON_AddStringToObject(c, "id", col(st, 0));
    cJSON_AddStringToObject(c, "title", col(st, 1));
    cJSON_AddStringToObject(c, "status", col(st, 2));
    cJSON_AddNumberToObject(c, "created_at", (double)sqlite3_column_int64(st, 3));
    if (sqlite3_column_type(st, 4) == SQLITE_NULL)
        cJSON_AddNullToObject(c, "closed_at");
    else
        cJSON_AddNumberToObject(c, "closed_at", (double)sqlite3_column_int64(st, 4));
    sqlite3_finalize(st);
    st = NULL;
    people = cJSON_AddArrayToObject(r, "people");
    if (add_entries(db, case_id, people) != 0 || add_writes(db, case_id, people) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    sqlite3_finalize(st);
    cJSON_Delete(r);
    snprintf(err, errlen, "the database could not be read: %s", sqlite3_errmsg(db));
    return -1;
}
