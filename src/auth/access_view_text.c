/*
 * How a view shows the strings it reads (see access_view.h, "Reading modes"): which kind
 * of string a path holds, masks, names replaced, and the json0 components that turn one
 * view of a document into another. String offsets are UTF-16 code units, as json0
 * counts them; a mask has one BMP character per code unit, so masking never moves an
 * offset, and a difference is always cut at a character boundary.
 */
#include "auth/access_view_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/json_util.h"
#include "util/utf16.h"

void view_ctx_init(view_ctx *c, const template_spec *t, const access_view *v,
                   access_consents consents, const access_names *names)
{
    c->t = t;
    c->rules = template_rules(t);
    c->v = *v;
    c->consents = consents;
    c->names = names;
}

bool view_transforms(const access_view *v)
{
    return (v->flags & (ACCESS_VIEW_PSEUDONYMISED | ACCESS_VIEW_SUPERVISION)) != 0;
}

bool view_reads_all(const view_ctx *c, const cJSON *path)
{
    if (c->v.flags & ACCESS_VIEW_EVERYTHING)
        return access_path_valid(path);
    return access_read_all_under(c->rules, c->v.roles, c->consents, path);
}

bool view_may_read_below(const view_ctx *c, const cJSON *path)
{
    if (c->v.flags & ACCESS_VIEW_EVERYTHING)
        return true;
    return access_may_read_below(c->rules, c->v.roles, path);
}

bool view_reads(const view_ctx *c, const cJSON *path)
{
    if (c->v.flags & ACCESS_VIEW_EVERYTHING)
        return access_path_valid(path);
    return access_rule_reads_under(access_rules_match(c->rules, path), c->v.roles, c->consents);
}

/* ---- paths ------------------------------------------------------------------------- */

int view_push_key(cJSON *path, const char *key)
{
    cJSON *k = cJSON_CreateStringReference(key);
    if (!k || !cJSON_AddItemToArray(path, k)) {
        cJSON_Delete(k);
        return -1;
    }
    return 0;
}

int view_push_index(cJSON *path, int index)
{
    cJSON *k = cJSON_CreateNumber(index);
    if (!k || !cJSON_AddItemToArray(path, k)) {
        cJSON_Delete(k);
        return -1;
    }
    return 0;
}

void view_pop(cJSON *path)
{
    cJSON_DeleteItemFromArray(path, cJSON_GetArraySize(path) - 1);
}

static bool is_key(const cJSON *e, const char *key)
{
    return json_is_string(e) && strcmp(e->valuestring, key) == 0;
}

/* How path relates to the keys of the object-key path keys: 0 not under it, 1 equal, 2
 * below it. */
static int under_keys(const cJSON *keys, const cJSON *path)
{
    const cJSON *k = keys->child, *e = path->child;

    for (; k; k = k->next, e = e->next)
        if (!e || !json_is_string(e) || strcmp(e->valuestring, k->valuestring) != 0)
            return 0;
    return e ? 2 : 1;
}

/* Whether path starts with a list named by pattern (object keys, "*" any key), an index,
 * and then a key; *field is that key. */
static bool item_field(const cJSON *pattern, const cJSON *path, const char **field)
{
    const cJSON *k = pattern->child, *e = path->child;

    for (; k; k = k->next, e = e->next)
        if (!e || !json_is_string(e) ||
            (strcmp(k->valuestring, "*") != 0 && strcmp(e->valuestring, k->valuestring) != 0))
            return false;
    if (!e || !json_is_number(e) || !e->next || !json_is_string(e->next))
        return false;
    *field = e->next->valuestring;
    return true;
}

/* Whether pattern is a prefix of path's object keys (list indices left out). */
static bool structured_prefix(const cJSON *pattern, const cJSON *path)
{
    const cJSON *k = pattern->child, *e = path->child;

    for (; k; e = e->next) {
        if (!e)
            return false;
        if (json_is_number(e))
            continue;
        if (strcmp(k->valuestring, "*") != 0 && !is_key(e, k->valuestring))
            return false;
        k = k->next;
    }
    return true;
}

view_class view_classify(const view_ctx *c, const cJSON *path)
{
    const cJSON *p, *consent_path = template_consent_path(c->t);
    const template_stamp *stamps;
    const char *field;
    size_t n;

    cJSON_ArrayForEach(p, template_identity(c->t)) {
        int rel = under_keys(p, path);
        if (rel)
            return rel == 1 ? VIEW_IDENTITY : VIEW_INSIDE_IDENTITY;
    }
    if (consent_path && item_field(consent_path, path, &field))
        return access_consent_field_controlled(field) ? VIEW_CONTROLLED :
               access_consent_field_structured(field) ? VIEW_STRUCTURED : VIEW_FREE;
    stamps = template_stamps(c->t, &n);
    for (size_t i = 0; i < n; i++)
        if (item_field(stamps[i].path, path, &field))
            for (size_t k = 0; k < stamps[i].n_fields; k++)
                if (strcmp(stamps[i].fields[k].name, field) == 0)
                    return stamps[i].fields[k].source == TEMPLATE_STAMP_AUTHOR_ROLE ||
                           stamps[i].fields[k].source == TEMPLATE_STAMP_NOW ?
                           VIEW_CONTROLLED : VIEW_STRUCTURED;
    cJSON_ArrayForEach(p, template_structured(c->t))
        if (structured_prefix(p, path))
            return VIEW_STRUCTURED;
    return VIEW_FREE;
}

view_shown view_shown_as(const view_ctx *c, view_class cls)
{
    bool pseudo = (c->v.flags & ACCESS_VIEW_PSEUDONYMISED) != 0;
    bool text = !(c->v.flags & ACCESS_VIEW_SUPERVISION) ||
                (c->consents & ACCESS_CONSENT_SUPERVISION_BIT);

    switch (cls) {
    case VIEW_IDENTITY:
    case VIEW_INSIDE_IDENTITY:
        return pseudo ? VIEW_PSEUDONYM : VIEW_AS_IS;
    case VIEW_CONTROLLED:
        return VIEW_AS_IS;
    case VIEW_STRUCTURED:
        return pseudo && access_names_count(c->names) ? VIEW_REDACTED : VIEW_AS_IS;
    default:
        if (!text)
            return VIEW_MASKED;
        return pseudo && access_names_count(c->names) ? VIEW_REDACTED : VIEW_AS_IS;
    }
}

/* ---- strings ------------------------------------------------------------------------ */

char *view_mask(const char *s)
{
    size_t units = utf16_length(s, strlen(s)), ml = sizeof ACCESS_VIEW_MASK - 1;
    char *out = malloc(units * ml + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < units; i++)
        memcpy(out + i * ml, ACCESS_VIEW_MASK, ml);
    out[units * ml] = '\0';
    return out;
}

int view_string(const view_ctx *c, view_class cls, const char *s, char **out)
{
    *out = NULL;
    switch (view_shown_as(c, cls)) {
    case VIEW_PSEUDONYM:
        if (strcmp(s, ACCESS_PSEUDONYM) == 0)
            return 0;
        *out = strdup(ACCESS_PSEUDONYM);
        return *out ? 1 : -1;
    case VIEW_MASKED:
        *out = view_mask(s);
        return *out ? 1 : -1;
    case VIEW_REDACTED:
        return access_names_redact(c->names, s, out);
    default:
        return 0;
    }
}

static cJSON *value_at(const view_ctx *c, const cJSON *value, cJSON *path)
{
    view_class cls = view_classify(c, path);
    cJSON *out;
    const cJSON *e;
    char *s;
    int i = 0, rc;

    if (cls == VIEW_IDENTITY && view_shown_as(c, cls) == VIEW_PSEUDONYM)
        return cJSON_CreateString(ACCESS_PSEUDONYM);
    if (json_is_string(value)) {
        if ((rc = view_string(c, cls, value->valuestring, &s)) <= 0)
            return rc < 0 ? NULL : cJSON_CreateString(value->valuestring);
        out = cJSON_CreateString(s);
        free(s);
        return out;
    }
    if (!json_is_object(value) && !json_is_array(value))
        return cJSON_Duplicate(value, 0);
    out = json_is_object(value) ? cJSON_CreateObject() : cJSON_CreateArray();
    for (e = value->child; out && e; e = e->next, i++) {
        cJSON *child = NULL;
        if ((json_is_object(value) ? view_push_key(path, e->string) : view_push_index(path, i)) != 0) {
            cJSON_Delete(out);
            return NULL;
        }
        child = value_at(c, e, path);
        view_pop(path);
        if (!child || !(json_is_object(value) ? cJSON_AddItemToObject(out, e->string, child)
                                               : cJSON_AddItemToArray(out, child))) {
            cJSON_Delete(child);
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

cJSON *view_value(const view_ctx *c, const cJSON *value, cJSON *path)
{
    if (!view_transforms(&c->v))
        return cJSON_Duplicate(value, 1);
    return value_at(c, value, path);
}

/* ---- differences ---------------------------------------------------------------------- */

static bool continuation(const char *s, size_t at, size_t len)
{
    return at < len && ((unsigned char)s[at] & 0xC0) == 0x80;
}

static int add_string_component(cJSON *out, const cJSON *path, size_t offset, const char *key,
                                const char *s, size_t len)
{
    cJSON *c = cJSON_CreateObject(), *p = cJSON_Duplicate(path, 1);
    char *text = strndup(s, len);
    bool ok = c && p && text && cJSON_AddItemToArray(p, cJSON_CreateNumber((double)offset)) &&
              cJSON_AddItemToObject(c, "p", p);

    if (ok)
        p = NULL;
    ok = ok && cJSON_AddStringToObject(c, key, text) && cJSON_AddItemToArray(out, c);
    free(text);
    cJSON_Delete(p);
    if (!ok) {
        cJSON_Delete(c);
        return -1;
    }
    return 0;
}

int view_string_diff(const char *a, const char *b, const cJSON *path, cJSON *out)
{
    size_t la = strlen(a), lb = strlen(b), pre = 0, suf = 0, offset;

    if (la == lb && memcmp(a, b, la) == 0)
        return 0;
    while (pre < la && pre < lb && a[pre] == b[pre])
        pre++;
    while (pre > 0 && (continuation(a, pre, la) || continuation(b, pre, lb)))
        pre--;
    while (suf < la - pre && suf < lb - pre && a[la - 1 - suf] == b[lb - 1 - suf])
        suf++;
    while (suf > 0 && (continuation(a, la - suf, la) || continuation(b, lb - suf, lb)))
        suf--;
    offset = utf16_length(a, pre);
    if (la - suf > pre && add_string_component(out, path, offset, "sd", a + pre, la - suf - pre) != 0)
        return -1;
    if (lb - suf > pre && add_string_component(out, path, offset, "si", b + pre, lb - suf - pre) != 0)
        return -1;
    return 0;
}

static bool leaf_equal(const cJSON *a, const cJSON *b)
{
    if (json_is_object(a) || json_is_array(a) || json_is_object(b) || json_is_array(b))
        return false;
    return json_equal(a, b);
}

/* od+oi (object key) or ld+li (list index) at path: a is replaced by b; either may be
 * NULL (b appears, a disappears). */
static int replace(const cJSON *a, const cJSON *b, const cJSON *path, cJSON *out)
{
    const cJSON *last = cJSON_GetArrayItem(path, cJSON_GetArraySize(path) - 1);
    bool in_list = json_is_number(last);
    cJSON *c = cJSON_CreateObject(), *item;

    if (!c || !last)
        goto fail;
    item = cJSON_Duplicate(path, 1);
    if (!item || !cJSON_AddItemToObject(c, "p", item))
        goto fail_item;
    if (a) {
        item = cJSON_Duplicate(a, 1);
        if (!item || !cJSON_AddItemToObject(c, in_list ? "ld" : "od", item))
            goto fail_item;
    }
    if (b) {
        item = cJSON_Duplicate(b, 1);
        if (!item || !cJSON_AddItemToObject(c, in_list ? "li" : "oi", item))
            goto fail_item;
    }
    if (!cJSON_AddItemToArray(out, c))
        goto fail;
    return 0;
fail_item:
    cJSON_Delete(item);
fail:
    cJSON_Delete(c);
    return -1;
}

int view_diff(const cJSON *a, const cJSON *b, cJSON *path, cJSON *out)
{
    const cJSON *e, *other;
    int i = 0;

    if (json_is_object(a) && json_is_object(b)) {
        for (e = a->child; e; e = e->next) {
            int rc;
            if (view_push_key(path, e->string) != 0)
                return -1;
            other = cJSON_GetObjectItemCaseSensitive(b, e->string);
            rc = other ? view_diff(e, other, path, out) : replace(e, NULL, path, out);
            view_pop(path);
            if (rc != 0)
                return -1;
        }
        for (e = b->child; e; e = e->next) {
            int rc = 0;
            if (cJSON_GetObjectItemCaseSensitive(a, e->string))
                continue;
            if (view_push_key(path, e->string) != 0)
                return -1;
            rc = replace(NULL, e, path, out);
            view_pop(path);
            if (rc != 0)
                return -1;
        }
        return 0;
    }
    if (json_is_array(a) && json_is_array(b) &&
        cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        for (e = a->child, other = b->child; e; e = e->next, other = other->next, i++) {
            int rc;
            if (view_push_index(path, i) != 0)
                return -1;
            rc = view_diff(e, other, path, out);
            view_pop(path);
            if (rc != 0)
                return -1;
        }
        return 0;
    }
    if (json_is_string(a) && json_is_string(b))
        return view_string_diff(a->valuestring, b->valuestring, path, out);
    if (leaf_equal(a, b))
        return 0;
    if (cJSON_GetArraySize(path) == 0)
        return -1;  /* two views of one document are both objects at the root */
    return replace(a, b, path, out);
}
