/*
 * Shared by the view tests (test_access_view*.c): the default template, principals of
 * every kind, and a case built op by op the way the hub will build it — each op through
 * the write check, applied, then the server's stamping op — with every op kept, so the
 * tests can replay it through any view and any frame.
 */
#ifndef KONSIL_TEST_VIEW_FIXTURE_H
#define KONSIL_TEST_VIEW_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/access_view.h"
#include "auth/template.h"
#include "ot/json0.h"
#include "unit.h"
#include "util/json_util.h"

#define FIX_NOW 1700000000000LL

static inline cJSON *J(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!v) {
        fprintf(stderr, "test JSON does not parse: %s\n", text);
        abort();
    }
    return v;
}

static inline void fix_principal(auth_principal *p, const char *id, const char *name, auth_role role,
                          auth_specialty s, bool is_lead)
{
    auth_error err = {{0}};
    if (auth_principal_init(p, id, name, role, s, is_lead, &err) != 0) {
        fprintf(stderr, "principal %s: %s\n", id, err.message);
        abort();
    }
}

static inline bool fix_contains(const cJSON *v, const char *word)
{
    char *text = cJSON_PrintUnformatted(v);
    bool found = text && strstr(text, word) != NULL;
    cJSON_free(text);
    return found;
}

/* The value at path (a JSON array text or tree) in doc, or NULL. */
static inline const cJSON *fix_at(const cJSON *doc, const cJSON *path)
{
    const cJSON *v = doc, *e;
    cJSON_ArrayForEach(e, path) {
        if (!v)
            return NULL;
        v = cJSON_IsString(e) ? (cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL)
                              : (cJSON_IsArray(v) ? cJSON_GetArrayItem(v, e->valueint) : NULL);
    }
    return v;
}

/* A case as a sequence of ops: docs[i] is the document before ops[i]; docs[n] the last. */
typedef struct fix_case {
    const template_spec *t;
    cJSON *docs[256];
    cJSON *ops[256];
    char authors[256][AUTH_ID_MAX];
    int n;
    int failed;
} fix_case;

static inline void fix_case_init(fix_case *fc, const template_spec *t)
{
    memset(fc, 0, sizeof *fc);
    fc->t = t;
    fc->docs[0] = cJSON_Duplicate(template_document(t), 1);
}

static inline void fix_case_free(fix_case *fc)
{
    for (int i = 0; i <= fc->n; i++)
        cJSON_Delete(fc->docs[i]);
    for (int i = 0; i < fc->n; i++)
        cJSON_Delete(fc->ops[i]);
}

static inline const cJSON *fix_head(const fix_case *fc)
{
    return fc->docs[fc->n];
}

static inline void fix_push(fix_case *fc, const char *author, cJSON *op)
{
    ot_error oerr = {{0}};
    cJSON *next = cJSON_Duplicate(fc->docs[fc->n], 1);
    if (ot_apply(&next, op, &oerr) != 0 || fc->n >= 255) {
        fprintf(stderr, "  op does not apply: %s\n", oerr.message);
        fc->failed++;
        cJSON_Delete(next);
        cJSON_Delete(op);
        return;
    }
    fc->ops[fc->n] = op;
    snprintf(fc->authors[fc->n], AUTH_ID_MAX, "%s", author);
    fc->docs[++fc->n] = next;
}

/* Submits op_text as who: the write check must accept it; the stamping op follows. */
static inline void fix_submit(fix_case *fc, const auth_principal *who, const char *op_text)
{
    access_view v = access_view_of(who, false);
    auth_error err = {{0}};
    cJSON *op = J(op_text), *stamp = NULL;

    if (access_view_check_write(fc->t, &v, op, fix_head(fc), &err) != 0) {
        fprintf(stderr, "  refused for %s: %s\n    %s\n", who->id, err.message, op_text);
        fc->failed++;
        cJSON_Delete(op);
        return;
    }
    fix_push(fc, who->id, op);
    if (access_view_stamp(fc->t, who, FIX_NOW + fc->n, fix_head(fc), op, &stamp, &err) != 0) {
        fprintf(stderr, "  stamping failed: %s\n", err.message);
        fc->failed++;
    }
    if (stamp)
        fix_push(fc, "konsil", stamp);
}

/* The names a case knows at version v: the clients' display names and the identity
 * values up to v (learned version by version, as the room learns them). */
static inline access_names *fix_names(const fix_case *fc, int v, const char *const *client_names)
{
    access_names *n = access_names_new();
    for (size_t i = 0; n && client_names && client_names[i]; i++)
        access_names_add(n, client_names[i]);
    for (int i = 0; n && i <= v; i++)
        access_names_learn(n, template_identity(fc->t), fc->docs[i]);
    return n;
}

#endif
