/*
 * The write check; see access_write.h. Messages name the component index and its path,
 * so a client developer can find the offending part of a multi-component op.
 */
#include "auth/access_write.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ot/json0.h"

#define PATH_TEXT_MAX 120

static const cJSON *field(const cJSON *c, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(c, key);
}

/* The path as JSON text, shortened to fit a message. */
static void path_text(const cJSON *path, char out[PATH_TEXT_MAX])
{
    char *text = cJSON_PrintUnformatted(path);
    snprintf(out, PATH_TEXT_MAX, "%s", text ? text : "?");
    cJSON_free(text);
}

/* The list an append-only rule names, found by its keys in doc, or NULL. */
static const cJSON *rule_list(const access_rule *rule, const cJSON *doc)
{
    const cJSON *v = doc;
    for (size_t i = 0; v && i < rule->depth; i++)
        v = cJSON_IsObject(v) ? field(v, rule->keys[i]) : NULL;
    return cJSON_IsArray(v) ? v : NULL;
}

/* JSON types as json0 would see them: true and false are one type. */
static int value_kind(const cJSON *v)
{
    return cJSON_IsBool(v) ? cJSON_True : (v->type & 0xFF);
}

static int check_append(const access_rule *rule, const cJSON *c, int k, const cJSON *doc,
                        size_t *appended, auth_error *err)
{
    const cJSON *p = field(c, "p");
    size_t len = (size_t)cJSON_GetArraySize(p);
    if (!field(c, "li") || field(c, "ld") || len != rule->depth + 1)
        return auth_fail(err, "component %d: %s is append-only: the only change allowed is "
                              "an insert (li) at its end", k, rule->path_text);
    const cJSON *list = rule_list(rule, doc);
    if (!list)
        return auth_fail(err, "component %d: %s is not a list in the document", k,
                         rule->path_text);
    size_t end = (size_t)cJSON_GetArraySize(list) + appended[rule->index];
    double at = cJSON_GetArrayItem(p, (int)len - 1)->valuedouble;
    if (at != (double)end)
        return auth_fail(err, "component %d: %s is append-only: insert at its end (index "
                              "%zu), not at %.0f", k, rule->path_text, end, at);
    appended[rule->index]++;
    return 0;
}

static int check_component(const access_rules *rules, const auth_principal *who,
                           const cJSON *c, int k, const cJSON *doc, size_t *appended,
                           auth_error *err)
{
    const cJSON *p = field(c, "p");
    char where[PATH_TEXT_MAX];
    if (cJSON_GetArraySize(p) == 0)
        return auth_fail(err, "component %d: only the template may replace the whole "
                              "document", k);
    if (access_rules_has_below(rules, p)) {
        path_text(p, where);
        return auth_fail(err, "component %d: %s holds parts with access rules of their own; "
                              "change them one by one", k, where);
    }
    const access_rule *rule = access_rules_match(rules, p);
    if (!access_rule_writes(rule, who)) {
        path_text(p, where);
        return auth_fail(err, "component %d: no write access to %s", k, where);
    }
    if (rule->append_only)
        return check_append(rule, c, k, doc, appended, err);
    const cJSON *oi = field(c, "oi"), *od = field(c, "od");
    if ((size_t)cJSON_GetArraySize(p) == rule->depth && (oi || od)) {
        if (!oi || !od)
            return auth_fail(err, "component %d: %s belongs to the template's structure: it "
                                  "can be replaced, not %s", k, rule->path_text,
                             oi ? "inserted" : "removed");
        if (value_kind(oi) != value_kind(od))
            return auth_fail(err, "component %d: %s belongs to the template's structure: its "
                                  "new value must have the type of the old one", k,
                             rule->path_text);
    }
    return 0;
}

int access_check_write(const access_rules *rules, const auth_principal *who, const cJSON *op,
                       const cJSON *doc, auth_error *err)
{
    ot_error shape = {{0}};
    if (ot_check_op(op, &shape) != 0)
        return auth_fail(err, "malformed op: %s", shape.message);
    if (!auth_principal_may_write(who))
        return auth_fail(err, "%ss never write the case sheet",
                         who ? auth_role_name(who->role) : "unknown principal");
    size_t n = access_rules_count(rules);
    size_t *appended = calloc(n ? n : 1, sizeof *appended);
    if (!appended)
        return auth_fail(err, "out of memory");
    int rc = 0, k = 0;
    for (const cJSON *c = op->child; c && rc == 0; c = c->next, k++)
        rc = check_component(rules, who, c, k, doc, appended, err);
    free(appended);
    return rc;
}
