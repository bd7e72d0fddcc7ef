/*
 * Template parsing and validation; see template.h. Everything is checked before the
 * template is handed out, so the hub never meets a rule that names a missing path or a
 * role that does not exist.
 */
#include "auth/template_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf16.h"
#include "util/json_util.h"

/* Deeper than any case sheet, and within what json0 lets a document reach. */
#define TEMPLATE_DEPTH_MAX 64
#define TEMPLATE_TITLE_MAX 200
#define TEMPLATE_NAME_MAX 64

void template_free(template_spec *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->title);
    cJSON_Delete(t->document);
    cJSON_Delete(t->identity);
    template_free_fields(t);
    cJSON_Delete(t->tasks);
    cJSON_Delete(t->appointments);
    cJSON_Delete(t->purposes);
    for (size_t i = 0; i < t->n_retention; i++) {
        free((char *)t->retention[i].name);
        free((char *)t->retention[i].basis);
    }
    free(t->retention);
    access_rules_free(t->rules);
    free(t);
}

const char *template_name(const template_spec *t) { return t->name; }
const char *template_title(const template_spec *t) { return t->title; }
const cJSON *template_document(const template_spec *t) { return t->document; }
const access_rules *template_rules(const template_spec *t) { return t->rules; }
const cJSON *template_identity(const template_spec *t) { return t->identity; }
const cJSON *template_consent_path(const template_spec *t) { return t->consent_path; }
unsigned template_consent_kinds(const template_spec *t) { return t->consent_kinds; }
const cJSON *template_structured(const template_spec *t) { return t->structured; }
const cJSON *template_tasks(const template_spec *t) { return t->tasks; }
const cJSON *template_appointments(const template_spec *t) { return t->appointments; }
const template_limits *template_size_limits(const template_spec *t) { return &t->limits; }

const cJSON *template_purposes(const template_spec *t) { return t->purposes; }

static const template_retention_class fallback_class = {
    TEMPLATE_RETENTION_FALLBACK_NAME, TEMPLATE_RETENTION_FALLBACK_DAYS,
    TEMPLATE_RETENTION_FALLBACK_BASIS};

const template_retention_class *template_retention_classes(const template_spec *t, size_t *n)
{
    *n = t->n_retention ? t->n_retention : 1;
    return t->n_retention ? t->retention : &fallback_class;
}

const template_retention_class *template_retention_default(const template_spec *t)
{
    return t->n_retention ? &t->retention[t->retention_default] : &fallback_class;
}

const template_retention_class *template_retention_class_named(const template_spec *t,
                                                               const char *name)
{
    size_t n;
    const template_retention_class *classes = template_retention_classes(t, &n);

    for (size_t i = 0; name && i < n; i++)
        if (strcmp(classes[i].name, name) == 0)
            return &classes[i];
    return NULL;
}

const template_stamp *template_stamps(const template_spec *t, size_t *n)
{
    *n = t->n_stamps;
    return t->stamps;
}

/* Refuses members of obj not in allowed (a NULL-terminated list): a misspelt
 * "append_onyl" must not silently mean "not append-only". */
int template_only_fields(const cJSON *obj, const char *const *allowed, const char *where,
                         auth_error *err)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++) known = strcmp(m->string, allowed[i]) == 0;
        if (!known)
            return auth_fail(err, "%s: unknown field \"%.60s\"", where, m->string);
    }
    return 0;
}

static bool valid_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > TEMPLATE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static int parse_selectors(const cJSON *list, const char *what, size_t index,
                           access_set *out, auth_error *err)
{
    if (!cJSON_IsArray(list))
        return auth_fail(err, "rule %zu: \"%s\" must be an array of roles", index, what);
    access_set set = 0;
    for (const cJSON *e = list->child; e; e = e->next) {
        if (cJSON_IsObject(e) && strcmp(what, "read") == 0)
            continue;   /* a conditioned selector: added once the rule exists */
        if (cJSON_IsObject(e))
            return auth_fail(err, "rule %zu: \"write\" takes roles only: a consent decides "
                                  "what is disclosed (read), not who keeps a part", index);
        if (!cJSON_IsString(e))
            return auth_fail(err, "rule %zu: \"%s\" must be an array of roles", index, what);
        access_set bit;
        auth_error inner = {{0}};
        if (access_selector_parse(e->valuestring, &bit, &inner) != 0)
            return auth_fail(err, "rule %zu: %s", index, inner.message);
        if (set & bit)
            return auth_fail(err, "rule %zu: \"%.60s\" appears twice in \"%s\"", index,
                             e->valuestring, what);
        set |= bit;
    }
    *out = set;
    return 0;
}

/* The value at a rule path in the document, requiring every step to be an object key. */
static const cJSON *rule_target(const cJSON *document, const cJSON *path, size_t index,
                                auth_error *err)
{
    const cJSON *v = document;
    for (const cJSON *e = path->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            auth_fail(err, "rule %zu: a rule path holds only object keys (strings): list "
                           "indices are never access boundaries", index);
            return NULL;
        }
        const cJSON *next = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring)
                                              : NULL;
        if (!next) {
            char *text = cJSON_PrintUnformatted(path);
            auth_fail(err, "rule %zu: path %.120s is not an object key in the document", index,
                      text ? text : "");
            cJSON_free(text);
            return NULL;
        }
        v = next;
    }
    return v;
}

static int add_rule(template_spec *t, const cJSON *rule, size_t index, bool *has_root,
                    auth_error *err)
{
    static const char *const fields[] = {"path", "read", "write", "append_only",
                                         "description", NULL};
    char where[32];
    snprintf(where, sizeof where, "rule %zu", index);
    if (!cJSON_IsObject(rule))
        return auth_fail(err, "%s: must be an object", where);
    if (template_only_fields(rule, fields, where, err) != 0)
        return -1;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(rule, "path");
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(rule, "read");
    const cJSON *write = cJSON_GetObjectItemCaseSensitive(rule, "write");
    const cJSON *append = cJSON_GetObjectItemCaseSensitive(rule, "append_only");
    const cJSON *description = cJSON_GetObjectItemCaseSensitive(rule, "description");
    if (!cJSON_IsArray(path))
        return auth_fail(err, "%s: \"path\" must be an array of object keys", where);
    if (!read || !write)
        return auth_fail(err, "%s: \"read\" and \"write\" are required (use [] for nobody)",
                         where);
    if (append && !cJSON_IsBool(append))
        return auth_fail(err, "%s: \"append_only\" must be true or false", where);
    if (description && !cJSON_IsString(description))
        return auth_fail(err, "%s: \"description\" must be a string", where);
    access_set read_set, write_set;
    if (parse_selectors(read, "read", index, &read_set, err) != 0 ||
        parse_selectors(write, "write", index, &write_set, err) != 0)
        return -1;
    const cJSON *target = rule_target(t->document, path, index, err);
    if (!target)
        return -1;
    bool append_only = cJSON_IsTrue(append);
    if (append_only && !cJSON_IsArray(target))
        return auth_fail(err, "%s: append_only needs a list at its path", where);
    auth_error inner = {{0}};
    if (access_rules_add(t->rules, path, read_set, write_set, append_only, &inner) != 0)
        return auth_fail(err, "%s: %s", where, inner.message);
    for (const cJSON *e = read->child; e; e = e->next)
        if (cJSON_IsObject(e) && template_parse_condition(t, e, index, err) != 0)
            return -1;
    if (cJSON_GetArraySize(path) == 0)
        *has_root = true;
    return 0;
}

/* The identity paths: each an array of object keys naming a string in the document, not
 * inside an append-only list (so its value is replaced whole, never extended). */
static int add_identity(template_spec *t, const cJSON *identity, auth_error *err)
{
    size_t index = 0;

    if (identity && !cJSON_IsArray(identity))
        return auth_fail(err, "template: \"identity\" must be an array of paths");
    t->identity = identity ? cJSON_Duplicate(identity, 1) : cJSON_CreateArray();
    if (!t->identity)
        return auth_fail(err, "out of memory");
    for (const cJSON *path = t->identity->child; path; path = path->next, index++) {
        const cJSON *v = t->document;
        if (!cJSON_IsArray(path) || cJSON_GetArraySize(path) == 0)
            return auth_fail(err, "identity %zu: must be a non-empty array of object keys",
                             index);
        for (const cJSON *e = path->child; e; e = e->next) {
            v = cJSON_IsString(e) && cJSON_IsObject(v) ?
                cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
            if (!v)
                return auth_fail(err, "identity %zu: not a path of object keys in the "
                                      "document", index);
        }
        if (!cJSON_IsString(v))
            return auth_fail(err, "identity %zu: must name a string in the document", index);
    }
    return 0;
}

/* An optional list path (`tasks`, `appointments`): a non-empty array of object keys
 * naming a list in the document. */
static int add_list_path(const cJSON *json, const char *field, const cJSON *document,
                         cJSON **out, auth_error *err)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(json, field), *v = document;

    if (!path)
        return 0;
    if (!cJSON_IsArray(path) || !path->child)
        return auth_fail(err, "template: \"%s\" must be a non-empty array of object keys",
                         field);
    for (const cJSON *e = path->child; e; e = e->next) {
        v = cJSON_IsString(e) && cJSON_IsObject(v) ?
            cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
        if (!v)
            return auth_fail(err, "template: \"%s\" is not a path of object keys in the "
                                  "document", field);
    }
    if (!cJSON_IsArray(v))
        return auth_fail(err, "template: \"%s\" must name a list in the document", field);
    *out = cJSON_Duplicate(path, 1);
    return *out ? 0 : auth_fail(err, "out of memory");
}

static char *copy_text(const cJSON *v, size_t max, const char *field, auth_error *err)
{
    if (!cJSON_IsString(v)) {
        auth_fail(err, "template: \"%s\" must be a string", field);
        return NULL;
    }
    size_t len = strlen(v->valuestring);
    if (len == 0 || len > max || !utf16_valid_utf8(v->valuestring, len)) {
        auth_fail(err, "template: \"%s\" must be 1 to %zu bytes of UTF-8", field, max);
        return NULL;
    }
    char *copy = strdup(v->valuestring);
    if (!copy)
        auth_fail(err, "out of memory");
    return copy;
}

static bool class_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

/* A text of 1..max bytes of UTF-8 without control characters. */
static bool plain_text(const cJSON *v, size_t max)
{
    if (!cJSON_IsString(v))
        return false;
    size_t len = strlen(v->valuestring);
    if (len == 0 || len > max || !utf16_valid_utf8(v->valuestring, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v->valuestring[i] < 0x20)
            return false;
    return true;
}

/* "retention" (optional) into t->retention. */
static int add_retention(template_spec *t, const cJSON *r, auth_error *err)
{
    static const char *const fields[] = {"default", "classes", NULL};
    static const char *const class_fields[] = {"after_closure_days", "basis", NULL};
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(r, "classes"), *c;
    const cJSON *dflt = cJSON_GetObjectItemCaseSensitive(r, "default");
    int n;

    if (!r)
        return 0;
    if (!cJSON_IsObject(r))
        return auth_fail(err, "template: \"retention\" must be an object {\"default\", "
                              "\"classes\"}");
    if (template_only_fields(r, fields, "retention", err) != 0)
        return -1;
    n = cJSON_IsObject(classes) ? cJSON_GetArraySize(classes) : 0;
    if (n < 1 || n > TEMPLATE_RETENTION_CLASSES_MAX)
        return auth_fail(err, "retention: \"classes\" must be an object of 1 to %d classes",
                         TEMPLATE_RETENTION_CLASSES_MAX);
    t->retention = calloc((size_t)n, sizeof *t->retention);
    if (!t->retention)
        return auth_fail(err, "out of memory");
    cJSON_ArrayForEach(c, classes) {
        const cJSON *days = cJSON_GetObjectItemCaseSensitive(c, "after_closure_days");
        const cJSON *basis = cJSON_GetObjectItemCaseSensitive(c, "basis");
        char where[64];
        snprintf(where, sizeof where, "retention class \"%.32s\"", c->string);
        if (!class_name(c->string))
            return auth_fail(err, "retention: a class name is 1 to 32 of [a-z0-9_-], not "
                                  "\"%.40s\"", c->string);
        if (!cJSON_IsObject(c))
            return auth_fail(err, "%s: must be an object {\"after_closure_days\", \"basis\"}",
                             where);
        if (template_only_fields(c, class_fields, where, err) != 0)
            return -1;
        if (!cJSON_IsNumber(days) || days->valuedouble != (double)(int64_t)days->valuedouble ||
            days->valuedouble < 0 || days->valuedouble > TEMPLATE_RETENTION_DAYS_MAX)
            return auth_fail(err, "%s: \"after_closure_days\" must be an integer 0 to %d "
                                  "(0: deleted when the case closes)", where,
                             TEMPLATE_RETENTION_DAYS_MAX);
        if (!plain_text(basis, TEMPLATE_RETENTION_BASIS_MAX))
            return auth_fail(err, "%s: \"basis\", the documented legal basis, must be 1 to %d "
                                  "bytes of text", where, TEMPLATE_RETENTION_BASIS_MAX);
        template_retention_class *k = &t->retention[t->n_retention++];
        k->after_closure_days = (int64_t)days->valuedouble;
        k->name = strdup(c->string);
        k->basis = strdup(basis->valuestring);
        if (!k->name || !k->basis)
            return auth_fail(err, "out of memory");
    }
    for (size_t i = 0; cJSON_IsString(dflt) && i < t->n_retention; i++)
        if (strcmp(t->retention[i].name, dflt->valuestring) == 0) {
            t->retention_default = i;
            return 0;
        }
    return auth_fail(err, "retention: \"default\" must name one of its classes");
}

/* "purposes" (optional) into t->purposes. */
static int add_purposes(template_spec *t, const cJSON *p, auth_error *err)
{
    const cJSON *e;
    int n = cJSON_IsArray(p) ? cJSON_GetArraySize(p) : 0;

    if (!p)
        return 0;
    if (n < 1 || n > TEMPLATE_PURPOSES_MAX)
        return auth_fail(err, "template: \"purposes\" must be an array of 1 to %d texts",
                         TEMPLATE_PURPOSES_MAX);
    cJSON_ArrayForEach(e, p)
        if (!plain_text(e, TEMPLATE_PURPOSE_TEXT_MAX))
            return auth_fail(err, "template: each purpose must be 1 to %d bytes of text",
                             TEMPLATE_PURPOSE_TEXT_MAX);
    t->purposes = cJSON_Duplicate(p, 1);
    return t->purposes ? 0 : auth_fail(err, "out of memory");
}

template_spec *template_from_json(const cJSON *json, auth_error *err)
{
    static const char *const fields[] = {"name", "title", "description", "document", "rules",
                                         "identity", "consents", "stamps", "structured",
                                         "tasks", "appointments", "purposes", "retention",
                                         "limits", NULL};
    if (!cJSON_IsObject(json)) {
        auth_fail(err, "template: must be a JSON object");
        return NULL;
    }
    const char *why = NULL;
    if (json_check_clean(json, &why) != 0) {
        auth_fail(err, "template: %s", why);
        return NULL;
    }
    if (template_only_fields(json, fields, "template", err) != 0)
        return NULL;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "name");
    const cJSON *description = cJSON_GetObjectItemCaseSensitive(json, "description");
    const cJSON *document = cJSON_GetObjectItemCaseSensitive(json, "document");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(json, "rules");
    if (!cJSON_IsString(name) || !valid_name(name->valuestring)) {
        auth_fail(err, "template: \"name\" must be 1 to %d of [a-z0-9_-], starting with a "
                       "letter or digit", TEMPLATE_NAME_MAX);
        return NULL;
    }
    if (description && !cJSON_IsString(description)) {
        auth_fail(err, "template: \"description\" must be a string");
        return NULL;
    }
    if (!cJSON_IsObject(document)) {
        auth_fail(err, "template: \"document\" must be a JSON object");
        return NULL;
    }
    if (json_depth(document) > TEMPLATE_DEPTH_MAX) {
        auth_fail(err, "template: \"document\" is nested deeper than %d levels",
                  TEMPLATE_DEPTH_MAX);
        return NULL;
    }
    if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) == 0) {
        auth_fail(err, "template: \"rules\" must be a non-empty array");
        return NULL;
    }
    template_spec *t = calloc(1, sizeof *t);
    if (!t) {
        auth_fail(err, "out of memory");
        return NULL;
    }
    t->name = strdup(name->valuestring);
    t->title = copy_text(cJSON_GetObjectItemCaseSensitive(json, "title"), TEMPLATE_TITLE_MAX,
                         "title", err);
    t->document = cJSON_Duplicate(document, 1);
    t->rules = access_rules_new();
    if (!t->title)
        goto fail;
    if (!t->name || !t->document || !t->rules) {
        auth_fail(err, "out of memory");
        goto fail;
    }
    const cJSON *consents = cJSON_GetObjectItemCaseSensitive(json, "consents");
    if (template_parse_consent_kinds(t, consents, err) != 0)
        goto fail;
    bool has_root = false;
    size_t index = 0;
    for (const cJSON *rule = rules->child; rule; rule = rule->next, index++) {
        if (add_rule(t, rule, index, &has_root, err) != 0)
            goto fail;
    }
    if (!has_root) {
        auth_fail(err, "template: a rule for the root (\"path\": []) is required");
        goto fail;
    }
    if (add_identity(t, cJSON_GetObjectItemCaseSensitive(json, "identity"), err) != 0 ||
        template_parse_consent_path(t, consents, err) != 0 ||
        template_parse_stamps(t, cJSON_GetObjectItemCaseSensitive(json, "stamps"), err) != 0 ||
        template_parse_structured(t, cJSON_GetObjectItemCaseSensitive(json, "structured"),
                                  err) != 0 ||
        add_list_path(json, "tasks", t->document, &t->tasks, err) != 0 ||
        add_list_path(json, "appointments", t->document, &t->appointments, err) != 0 ||
        add_retention(t, cJSON_GetObjectItemCaseSensitive(json, "retention"), err) != 0 ||
        add_purposes(t, cJSON_GetObjectItemCaseSensitive(json, "purposes"), err) != 0 ||
        template_parse_limits(t, cJSON_GetObjectItemCaseSensitive(json, "limits"), err) != 0)
        goto fail;
    return t;
fail:
    template_free(t);
    return NULL;
}

template_spec *template_parse(const char *text, size_t len, auth_error *err)
{
    if (!text) {
        auth_fail(err, "template: no text");
        return NULL;
    }
    if (len > TEMPLATE_TEXT_MAX) {
        auth_fail(err, "template: larger than %d bytes", TEMPLATE_TEXT_MAX);
        return NULL;
    }
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!json) {
        auth_fail(err, "template: not valid JSON (near byte %zu)",
                  end ? (size_t)(end - text) : (size_t)0);
        return NULL;
    }
    for (; end && (size_t)(end - text) < len; end++) {
        if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
            cJSON_Delete(json);
            auth_fail(err, "template: text follows the JSON value");
            return NULL;
        }
    }
    template_spec *t = template_from_json(json, err);
    cJSON_Delete(json);
    return t;
}
