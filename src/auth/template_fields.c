/*
 * The parts of a template beside its document and rules: the consent list and the kinds
 * it keeps, conditioned read selectors, stamped fields of list items, the strings
 * that are structured (template.h has the format, protocol/access.md the full text), and
 * the size limits of its case sheets (protocol/limits.md).
 * Everything is checked against the template's own document and rules, so the view
 * module never meets a stamp on something that is not a list or a condition on a kind
 * the case cannot record.
 */
#include "auth/template_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_TEXT_MAX 120

static void path_text(const cJSON *path, char out[PATTERN_TEXT_MAX])
{
    char *text = cJSON_PrintUnformatted(path);
    snprintf(out, PATTERN_TEXT_MAX, "%s", text ? text : "?");
    cJSON_free(text);
}

void template_free_fields(template_spec *t)
{
    cJSON_Delete(t->consent_path);
    for (size_t i = 0; i < t->n_stamps; i++) {
        for (size_t k = 0; k < t->stamps[i].n_fields; k++)
            free(t->stamps[i].fields[k].name);
        free(t->stamps[i].fields);
        cJSON_Delete(t->stamps[i].path);
    }
    free(t->stamps);
    cJSON_Delete(t->structured);
}

/* ---- consents ----------------------------------------------------------------------- */

int template_parse_consent_kinds(template_spec *t, const cJSON *consents, auth_error *err)
{
    static const char *const fields[] = {"path", "kinds", NULL};
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(consents, "kinds"), *e;

    if (!consents)
        return 0;
    if (!cJSON_IsObject(consents))
        return auth_fail(err, "template: \"consents\" must be an object {\"path\", \"kinds\"}");
    if (template_only_fields(consents, fields, "consents", err) != 0)
        return -1;
    if (!cJSON_IsArray(kinds) || cJSON_GetArraySize(kinds) == 0)
        return auth_fail(err, "consents: \"kinds\" must be a non-empty array of kinds (" 
                              ACCESS_CONSENT_KIND_NAMES ")");
    cJSON_ArrayForEach(e, kinds) {
        access_consent_kind k;
        if (!cJSON_IsString(e) || access_consent_kind_parse(e->valuestring, &k) != 0)
            return auth_fail(err, "consents: unknown kind \"%.40s\" (known: "
                                  ACCESS_CONSENT_KIND_NAMES ")",
                             cJSON_IsString(e) ? e->valuestring : "");
        if (t->consent_kinds & ACCESS_CONSENT_KIND_BIT(k))
            return auth_fail(err, "consents: \"%s\" appears twice in \"kinds\"", e->valuestring);
        t->consent_kinds |= ACCESS_CONSENT_KIND_BIT(k);
    }
    return 0;
}

/* The value at an object-key path in doc, or NULL (also for a path holding a non-key). */
static const cJSON *at_keys(const cJSON *doc, const cJSON *path)
{
    const cJSON *v = doc, *e;

    cJSON_ArrayForEach(e, path) {
        if (!cJSON_IsString(e) || !cJSON_IsObject(v))
            return NULL;
        v = cJSON_GetObjectItemCaseSensitive(v, e->valuestring);
    }
    return v;
}

int template_parse_consent_path(template_spec *t, const cJSON *consents, auth_error *err)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(consents, "path");
    const access_rule *rule;
    char where[PATTERN_TEXT_MAX];

    if (!consents)
        return 0;
    if (!cJSON_IsArray(path) || cJSON_GetArraySize(path) == 0 ||
        !cJSON_IsArray(at_keys(t->document, path)))
        return auth_fail(err, "consents: \"path\" must name a list of the document by its "
                              "object keys");
    rule = access_rules_match(t->rules, path);
    path_text(path, where);
    if (!rule || rule->depth != (size_t)cJSON_GetArraySize(path) || !rule->append_only)
        return auth_fail(err, "consents: the consent list %s needs an append-only rule of "
                              "its own (a record is never changed; a revocation is a new "
                              "record)", where);
    t->consent_path = cJSON_Duplicate(path, 1);
    return t->consent_path ? 0 : auth_fail(err, "out of memory");
}

int template_parse_condition(template_spec *t, const cJSON *sel, size_t index, auth_error *err)
{
    static const char *const fields[] = {"role", "if", NULL};
    static const char *const if_fields[] = {"consent", "with", NULL};
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(sel, "role");
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(sel, "if");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cond, "consent");
    const cJSON *with = cJSON_GetObjectItemCaseSensitive(cond, "with");
    access_condition c = {.with = ACCESS_WITH_NONE};
    auth_error inner = {{0}};
    auth_specialty s;
    char where[32];

    snprintf(where, sizeof where, "rule %zu", index);
    if (template_only_fields(sel, fields, where, err) != 0 ||
        (cJSON_IsObject(cond) && template_only_fields(cond, if_fields, where, err) != 0))
        return -1;
    if (!cJSON_IsString(role) || !cJSON_IsObject(cond) || !cJSON_IsString(kind))
        return auth_fail(err, "%s: a conditioned selector is {\"role\": \"…\", \"if\": "
                              "{\"consent\": \"…\", \"with\": \"…\"}}", where);
    if (access_selector_parse(role->valuestring, &c.role, &inner) != 0)
        return auth_fail(err, "%s: %s", where, inner.message);
    if (access_consent_kind_parse(kind->valuestring, &c.consent) != 0)
        return auth_fail(err, "%s: unknown consent kind \"%.40s\" (known: "
                              ACCESS_CONSENT_KIND_NAMES ")", where, kind->valuestring);
    if (!(t->consent_kinds & ACCESS_CONSENT_KIND_BIT(c.consent)))
        return auth_fail(err, "%s: a condition on \"%s\" needs the template to keep that kind "
                              "(\"consents\": {\"kinds\": …})", where, kind->valuestring);
    if (with && (!cJSON_IsString(with) ||
                 (strcmp(with->valuestring, "reader") != 0 &&
                  (auth_specialty_parse(with->valuestring, &s) != 0 ||
                   s == AUTH_SPECIALTY_NONE))))
        return auth_fail(err, "%s: \"with\" is a specialty (debt, social_law, migration, "
                              "housing, family, addiction) or \"reader\"", where);
    if (with)
        c.with = strcmp(with->valuestring, "reader") == 0 ? ACCESS_WITH_READER : (int)s;
    if (access_rules_add_condition(t->rules, index, &c, &inner) != 0)
        return auth_fail(err, "%s: %s", where, inner.message);
    return 0;
}

/* ---- patterns ------------------------------------------------------------------------ */

/* A pattern: a non-empty array of non-empty strings ("*" for any key). */
static bool pattern_shape(const cJSON *p)
{
    const cJSON *e;

    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) == 0)
        return false;
    cJSON_ArrayForEach(e, p)
        if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
            return false;
    return true;
}

/* Whether two patterns of object keys can name the same path. */
static bool patterns_overlap(const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;

    for (; x && y; x = x->next, y = y->next)
        if (strcmp(x->valuestring, "*") != 0 && strcmp(y->valuestring, "*") != 0 &&
            strcmp(x->valuestring, y->valuestring) != 0)
            return false;
    return !x && !y;
}

/* Counts the values of doc that pattern (from element e on) names through object keys
 * only, and those of them that are lists. */
static void count_lists(const cJSON *node, const cJSON *e, size_t *found, size_t *lists)
{
    const cJSON *child;

    if (!e) {
        (*found)++;
        *lists += cJSON_IsArray(node) ? 1 : 0;
        return;
    }
    if (!cJSON_IsObject(node))
        return;
    if (strcmp(e->valuestring, "*") == 0) {
        cJSON_ArrayForEach(child, node)
            count_lists(child, e->next, found, lists);
    } else if ((child = cJSON_GetObjectItemCaseSensitive(node, e->valuestring))) {
        count_lists(child, e->next, found, lists);
    }
}

/* Whether pattern (from element e on) can name something of doc: object keys walked,
 * "*" any key; inside a list the rest names something of its items, which the template
 * cannot show, so it is taken as named. */
static bool pattern_viable(const cJSON *node, const cJSON *e)
{
    const cJSON *child;

    if (!e || cJSON_IsArray(node))
        return true;
    if (!cJSON_IsObject(node))
        return false;
    if (strcmp(e->valuestring, "*") != 0) {
        child = cJSON_GetObjectItemCaseSensitive(node, e->valuestring);
        return child && pattern_viable(child, e->next);
    }
    cJSON_ArrayForEach(child, node)
        if (pattern_viable(child, e->next))
            return true;
    return false;
}

/* ---- stamps -------------------------------------------------------------------------- */

static int stamp_source_parse(const char *name, template_stamp_source *out)
{
    static const char *const names[] = {"author", "author_role", "author_name", "now"};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (template_stamp_source)i;
            return 0;
        }
    return -1;
}

static int parse_stamp_fields(template_stamp *st, const cJSON *fields, const char *where,
                              auth_error *err)
{
    const cJSON *f;

    if (!cJSON_IsObject(fields) || cJSON_GetArraySize(fields) == 0)
        return auth_fail(err, "%s: \"fields\" must be a non-empty object of field: source",
                         where);
    st->fields = calloc((size_t)cJSON_GetArraySize(fields), sizeof *st->fields);
    if (!st->fields)
        return auth_fail(err, "out of memory");
    cJSON_ArrayForEach(f, fields) {
        template_stamp_field *sf = &st->fields[st->n_fields];
        if (f->string[0] == '\0')
            return auth_fail(err, "%s: a stamped field needs a name", where);
        if (!cJSON_IsString(f) || stamp_source_parse(f->valuestring, &sf->source) != 0)
            return auth_fail(err, "%s: unknown source for \"%.40s\" (known: author, "
                                  "author_role, author_name, now)", where, f->string);
        if (!(sf->name = strdup(f->string)))
            return auth_fail(err, "out of memory");
        st->n_fields++;
    }
    return 0;
}

static int parse_stamp(template_spec *t, const cJSON *entry, size_t index, auth_error *err)
{
    static const char *const fields[] = {"path", "fields", NULL};
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(entry, "path");
    template_stamp *st = &t->stamps[t->n_stamps];
    char where[32], what[PATTERN_TEXT_MAX];
    size_t found = 0, lists = 0;

    snprintf(where, sizeof where, "stamp %zu", index);
    if (!cJSON_IsObject(entry))
        return auth_fail(err, "%s: must be an object {\"path\", \"fields\"}", where);
    if (template_only_fields(entry, fields, where, err) != 0)
        return -1;
    if (!pattern_shape(path))
        return auth_fail(err, "%s: \"path\" must be a non-empty array of object keys (\"*\" "
                              "for any key)", where);
    path_text(path, what);
    count_lists(t->document, path->child, &found, &lists);
    if (found == 0 || lists != found)
        return auth_fail(err, "%s: %s must name lists of the document (through object keys)",
                         where, what);
    if (t->consent_path && patterns_overlap(path, t->consent_path))
        return auth_fail(err, "%s: %s is the consent list: its stamps are fixed (given_by, "
                              "recorded_by, at, and how for the client)", where, what);
    for (size_t i = 0; i < t->n_stamps; i++)
        if (patterns_overlap(path, t->stamps[i].path))
            return auth_fail(err, "%s: %s names a list stamp %zu names already", where, what, i);
    st->path = cJSON_Duplicate(path, 1);
    t->n_stamps++;  /* counted before its fields, so template_free_fields frees them */
    if (!st->path)
        return auth_fail(err, "out of memory");
    return parse_stamp_fields(st, cJSON_GetObjectItemCaseSensitive(entry, "fields"), where, err);
}

int template_parse_stamps(template_spec *t, const cJSON *stamps, auth_error *err)
{
    size_t index = 0;
    const cJSON *e;

    if (!stamps)
        return 0;
    if (!cJSON_IsArray(stamps))
        return auth_fail(err, "template: \"stamps\" must be an array");
    t->stamps = calloc((size_t)cJSON_GetArraySize(stamps) + 1, sizeof *t->stamps);
    if (!t->stamps)
        return auth_fail(err, "out of memory");
    cJSON_ArrayForEach(e, stamps)
        if (parse_stamp(t, e, index++, err) != 0)
            return -1;
    return 0;
}

/* ---- structured strings -------------------------------------------------------------- */

int template_parse_structured(template_spec *t, const cJSON *structured, auth_error *err)
{
    size_t index = 0;
    const cJSON *e;
    char what[PATTERN_TEXT_MAX];

    if (structured && !cJSON_IsArray(structured))
        return auth_fail(err, "template: \"structured\" must be an array of paths");
    cJSON_ArrayForEach(e, structured) {
        if (!pattern_shape(e))
            return auth_fail(err, "structured %zu: must be a non-empty array of object keys "
                                  "(\"*\" for any key)", index);
        if (!pattern_viable(t->document, e->child)) {
            path_text(e, what);
            return auth_fail(err, "structured %zu: %s names nothing in the document", index,
                             what);
        }
        index++;
    }
    t->structured = structured ? cJSON_Duplicate(structured, 1) : cJSON_CreateArray();
    return t->structured ? 0 : auth_fail(err, "out of memory");
}

/* ---- size limits --------------------------------------------------------------------- */

/* Largest byte limit a template may set, and the longest growth window. */
#define LIMIT_BYTES_MAX (1024.0 * 1024 * 1024)
#define LIMIT_WINDOW_MAX (30 * 24 * 3600)

static int limit_value(const cJSON *limits, const char *field, double max, double *out,
                       auth_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(limits, field);

    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > max ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return auth_fail(err, "limits: \"%s\" must be an integer from 1 to %.0f", field, max);
    *out = v->valuedouble;
    return 0;
}

int template_parse_limits(template_spec *t, const cJSON *limits, auth_error *err)
{
    static const char *const fields[] = {"sheet_bytes", "item_bytes", "string_bytes",
                                         "append_bytes", "append_window_secs", NULL};
    double sheet, item, string, append, window;

    if (!limits)
        return 0;
    if (!cJSON_IsObject(limits))
        return auth_fail(err, "template: \"limits\" must be an object");
    if (template_only_fields(limits, fields, "limits", err) != 0 ||
        limit_value(limits, "sheet_bytes", LIMIT_BYTES_MAX, &sheet, err) != 0 ||
        limit_value(limits, "item_bytes", LIMIT_BYTES_MAX, &item, err) != 0 ||
        limit_value(limits, "string_bytes", LIMIT_BYTES_MAX, &string, err) != 0 ||
        limit_value(limits, "append_bytes", LIMIT_BYTES_MAX, &append, err) != 0 ||
        limit_value(limits, "append_window_secs", LIMIT_WINDOW_MAX, &window, err) != 0)
        return -1;
    t->limits.sheet_bytes = (size_t)sheet;
    t->limits.item_bytes = (size_t)item;
    t->limits.string_bytes = (size_t)string;
    t->limits.append_bytes = (size_t)append;
    t->limits.append_window_secs = (int64_t)window;
    return 0;
}
