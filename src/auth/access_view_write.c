/*
 * What a principal may submit, and the server's stamping op (see access_view.h).
 *
 * The write check is access_write.h's (rules, structure, append-only lists) followed by
 * what the template's consents and stamps add. The stamping op follows each item the
 * client's op inserted through the rest of that op (inserts, deletes and moves before
 * it shift its index; a delete or a replacement of it or of a container above it ends
 * it), so it fills exactly the items that op left in the document, never an older item
 * that lacks a field. It reads the document after the op (the hub has just applied it),
 * so it costs nothing in proportion to the document.
 */
#include "auth/access_view_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_write.h"
#include "util/json_util.h"

#define PATH_TEXT_MAX 120

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void path_text(const cJSON *path, char out[PATH_TEXT_MAX])
{
    char *text = cJSON_PrintUnformatted(path);
    snprintf(out, PATH_TEXT_MAX, "%s", text ? text : "?");
    cJSON_free(text);
}

/* The principal a view writes as (its id and name do not matter to the check). */
static auth_principal author_of(const access_view *v)
{
    auth_principal who;

    memset(&who, 0, sizeof who);
    memcpy(who.id, "author", sizeof "author");
    memcpy(who.display_name, "author", sizeof "author");
    who.role = AUTH_ROLE_ADMIN;
    if (v->roles & ACCESS_CLIENT) {
        who.role = AUTH_ROLE_CLIENT;
    } else if (v->roles & ACCESS_COUNSELLOR) {
        who.role = AUTH_ROLE_COUNSELLOR;
        who.is_lead = (v->roles & ACCESS_LEAD) != 0;
        for (int s = AUTH_SPECIALTY_DEBT; s < AUTH_SPECIALTY_COUNT; s++)
            if (v->roles & ACCESS_COUNSELLOR_OF(s))
                who.specialty = (auth_specialty)s;
    } else if (v->roles & ACCESS_SUPERVISOR) {
        who.role = AUTH_ROLE_SUPERVISOR;
    }
    return who;
}

/* ---- list patterns ------------------------------------------------------------------- */

/* A stamped list: a stamp of the template, or its consent list (stamp NULL). */
typedef struct stamped_list {
    const cJSON *pattern;
    const template_stamp *stamp;
} stamped_list;

/* The template's stamped lists (*n of them; free with free), or NULL when memory runs
 * out (*n is then 0 too only when there are none). */
static stamped_list *stamped_lists(const template_spec *t, size_t *n)
{
    size_t n_stamps;
    const template_stamp *stamps = template_stamps(t, &n_stamps);
    stamped_list *out = calloc(n_stamps + 1, sizeof *out);

    *n = 0;
    if (!out)
        return NULL;
    if (template_consent_path(t))
        out[(*n)++] = (stamped_list){template_consent_path(t), NULL};
    for (size_t i = 0; i < n_stamps; i++)
        out[(*n)++] = (stamped_list){stamps[i].path, &stamps[i]};
    return out;
}

static bool key_matches(const char *pattern_key, const char *key)
{
    return strcmp(pattern_key, "*") == 0 || strcmp(pattern_key, key) == 0;
}

/* How p relates to the lists pattern names: 1 when p is an item of one (keys, then an
 * index), 2 when p is a container on the way to one or one itself (*rest: the pattern's
 * keys below p), 3 when p is inside an item (*item_field: the item's key), else 0. */
static int list_relation(const cJSON *pattern, const cJSON *p, const cJSON **rest,
                         const char **item_field)
{
    const cJSON *k = pattern->child, *e = p->child;

    for (; k && e; k = k->next, e = e->next)
        if (!json_is_string(e) || !key_matches(k->valuestring, e->valuestring))
            return 0;
    *rest = k;
    if (k || !e)
        return 2;
    if (!json_is_number(e))
        return 0;
    if (!e->next)
        return 1;
    if (!json_is_string(e->next))
        return 0;
    *item_field = e->next->valuestring;
    return 3;
}

static bool stamped_field(const stamped_list *l, const char *name)
{
    if (!l->stamp)
        return strcmp(name, "given_by") == 0 || strcmp(name, "recorded_by") == 0 ||
               strcmp(name, "at") == 0 || strcmp(name, "how") == 0;
    for (size_t i = 0; i < l->stamp->n_fields; i++)
        if (strcmp(l->stamp->fields[i].name, name) == 0)
            return true;
    return false;
}

/* ---- the write check --------------------------------------------------------------------- */

typedef struct check {
    const template_spec *t;
    bool by_client;
    int k;          /* the component */
    auth_error *err;
} check;

/* item, a new item of the list at list_path. */
static int check_item(const check *ck, const stamped_list *l, const cJSON *item,
                      const cJSON *list_path)
{
    char where[PATH_TEXT_MAX];
    const cJSON *v;

    if (!l->stamp)
        return access_consent_check_record(item, template_consent_kinds(ck->t), ck->by_client,
                                           ck->k, ck->err);
    path_text(list_path, where);
    if (!json_is_object(item))
        return auth_fail(ck->err, "component %d: the items of %s are objects (the server "
                                  "stamps fields of them)", ck->k, where);
    for (size_t i = 0; i < l->stamp->n_fields; i++) {
        v = field(item, l->stamp->fields[i].name);
        if (v && !cJSON_IsNull(v))
            return auth_fail(ck->err, "component %d: \"%s\" of a new item of %s is stamped by "
                                      "the server: leave it out or null", ck->k,
                             l->stamp->fields[i].name, where);
    }
    return 0;
}

/* value, inserted at path (a container on the way to lists l names, rest: the pattern
 * below it): every item of those lists. */
static int check_inside(const check *ck, const stamped_list *l, const cJSON *value,
                        const cJSON *rest, cJSON *path)
{
    const cJSON *e;
    int rc = 0;

    if (!rest) {
        if (!json_is_array(value))
            return 0;
        cJSON_ArrayForEach(e, value)
            if (check_item(ck, l, e, path) != 0)
                return -1;
        return 0;
    }
    if (!json_is_object(value))
        return 0;
    cJSON_ArrayForEach(e, value) {
        if (!key_matches(rest->valuestring, e->string))
            continue;
        if (view_push_key(path, e->string) != 0)
            return auth_fail(ck->err, "out of memory");
        rc = check_inside(ck, l, e, rest->next, path);
        view_pop(path);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int check_component(const check *ck, const stamped_list *lists, size_t n,
                           const cJSON *comp)
{
    const cJSON *p = field(comp, "p"), *rest = NULL, *inserted;
    const char *item_key = NULL;
    char where[PATH_TEXT_MAX];

    if (field(comp, "t"))
        return auth_fail(ck->err, "component %d: subtype components (t, e.g. text0) are not "
                                  "accepted: json0 cannot transform them against si/sd; use "
                                  "si/sd for strings", ck->k);
    inserted = field(comp, "li") ? field(comp, "li") : field(comp, "oi");
    for (size_t i = 0; i < n; i++) {
        int rel = list_relation(lists[i].pattern, p, &rest, &item_key);
        cJSON *path;
        int rc;
        if (rel == 3 && stamped_field(&lists[i], item_key)) {
            cJSON *at = cJSON_Duplicate(p, 1);
            while (at && cJSON_GetArraySize(at) > cJSON_GetArraySize(lists[i].pattern) + 2)
                view_pop(at);
            path_text(at, where);
            cJSON_Delete(at);
            return auth_fail(ck->err, "component %d: %s is stamped by the server: it cannot "
                                      "be set, changed or removed", ck->k, where);
        }
        if (!inserted || (rel != 1 && rel != 2))
            continue;
        if (!(path = cJSON_Duplicate(p, 1)))
            return auth_fail(ck->err, "out of memory");
        if (rel == 1) {
            view_pop(path);
            rc = check_item(ck, &lists[i], inserted, path);
        } else {
            rc = check_inside(ck, &lists[i], inserted, rest, path);
        }
        cJSON_Delete(path);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int access_view_check_write(const template_spec *t, const access_view *author,
                            const cJSON *op, const cJSON *doc, auth_error *err)
{
    auth_principal who = author_of(author);
    check ck = {.t = t, .by_client = who.role == AUTH_ROLE_CLIENT, .k = 0, .err = err};
    stamped_list *lists;
    const cJSON *comp;
    size_t n;
    int rc = 0;

    if (access_check_write(template_rules(t), &who, op, doc, err) != 0)
        return -1;
    if (!(lists = stamped_lists(t, &n)))
        return auth_fail(err, "out of memory");
    cJSON_ArrayForEach(comp, op) {
        if ((rc = check_component(&ck, lists, n, comp)) != 0)
            break;
        ck.k++;
    }
    free(lists);
    return rc;
}

/* ---- stamping ------------------------------------------------------------------------------- */

typedef struct tracked {
    cJSON *path;                /* the item's path now, or NULL when it is gone */
    const stamped_list *list;
} tracked;

typedef struct tracker {
    tracked *items;
    size_t n, cap;
} tracker;

static int track(tracker *tr, const cJSON *path, const stamped_list *l)
{
    cJSON *copy = cJSON_Duplicate(path, 1);

    if (!copy)
        return -1;
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 8;
        tracked *grown = realloc(tr->items, cap * sizeof *grown);
        if (!grown) {
            cJSON_Delete(copy);
            return -1;
        }
        tr->items = grown;
        tr->cap = cap;
    }
    tr->items[tr->n++] = (tracked){copy, l};
    return 0;
}

static bool same_element(const cJSON *a, const cJSON *b)
{
    if (json_is_string(a) && json_is_string(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    return json_is_number(a) && json_is_number(b) && a->valuedouble == b->valuedouble;
}

/* Moves path (an item's) through comp, applied after the item was inserted; false when
 * comp removes the item. */
static bool shift(cJSON *path, const cJSON *comp)
{
    const cJSON *p = field(comp, "p"), *x = p->child, *last;
    cJSON *y = path->child;

    if (!x)
        return !field(comp, "od");   /* the whole document replaced */
    for (; x->next && y; x = x->next, y = y->next)
        if (!same_element(x, y))
            return true;
    if (x->next || !y)
        return true;    /* comp is inside the item */
    last = x;
    if (json_is_string(last))
        return !same_element(last, y) || !field(comp, "od");
    if (!json_is_number(y))
        return true;
    double k = last->valuedouble, at = y->valuedouble;
    bool li = field(comp, "li") != NULL, ld = field(comp, "ld") != NULL;
    const cJSON *lm = field(comp, "lm");
    if (li && ld)
        return at != k;
    if (li && k <= at)
        at += 1;
    else if (ld && k == at)
        return false;
    else if (ld && k < at)
        at -= 1;
    else if (lm && at == k)
        at = lm->valuedouble;
    else if (lm) {
        if (k < at)
            at -= 1;
        if (lm->valuedouble <= at)
            at += 1;
    }
    cJSON_SetNumberValue(y, at);
    return true;
}

/* The items of the lists below value (inserted at path; rest: the pattern below it). */
static int track_below(tracker *tr, const stamped_list *l, const cJSON *value,
                       const cJSON *rest, cJSON *path)
{
    const cJSON *e;
    int i = 0, rc = 0;

    if (!rest) {
        if (!json_is_array(value))
            return 0;
        for (e = value->child; e && rc == 0; e = e->next, i++) {
            if (view_push_index(path, i) != 0)
                return -1;
            rc = track(tr, path, l);
            view_pop(path);
        }
        return rc;
    }
    if (!json_is_object(value))
        return 0;
    for (e = value->child; e && rc == 0; e = e->next) {
        if (!key_matches(rest->valuestring, e->string))
            continue;
        if (view_push_key(path, e->string) != 0)
            return -1;
        rc = track_below(tr, l, e, rest->next, path);
        view_pop(path);
    }
    return rc;
}

/* Tracks the items comp inserts into the stamped lists. */
static int track_inserted(tracker *tr, const stamped_list *lists, size_t n, const cJSON *comp)
{
    const cJSON *p = field(comp, "p"), *rest = NULL, *value;
    const char *item_key = NULL;
    int rc = 0;

    value = field(comp, "li") ? field(comp, "li") : field(comp, "oi");
    for (size_t i = 0; value && i < n && rc == 0; i++) {
        int rel = list_relation(lists[i].pattern, p, &rest, &item_key);
        cJSON *path;
        if (rel == 1) {
            rc = track(tr, p, &lists[i]);
        } else if (rel == 2) {
            if (!(path = cJSON_Duplicate(p, 1)))
                return -1;
            rc = track_below(tr, &lists[i], value, rest, path);
            cJSON_Delete(path);
        }
    }
    return rc;
}

/* The value of a stamp source. */
static cJSON *source_value(template_stamp_source source, const auth_principal *author,
                           int64_t now_ms)
{
    switch (source) {
    case TEMPLATE_STAMP_AUTHOR:
        return cJSON_CreateString(author->id);
    case TEMPLATE_STAMP_AUTHOR_ROLE:
        return cJSON_CreateString(auth_role_name(author->role));
    case TEMPLATE_STAMP_AUTHOR_NAME:
        return cJSON_CreateString(author->display_name);
    default:
        return cJSON_CreateNumber((double)now_ms);
    }
}

/* Appends the component that sets item[name] (at path) to value (taken), unless the
 * field holds a value already. */
static int set_field(cJSON *out, const cJSON *item, const cJSON *path, const char *name,
                     cJSON *value)
{
    const cJSON *cur = field(item, name);
    cJSON *c = cJSON_CreateObject(), *p = cJSON_Duplicate(path, 1);
    bool ok;

    if (cur && !cJSON_IsNull(cur)) {
        cJSON_Delete(value);
        cJSON_Delete(c);
        cJSON_Delete(p);
        return 0;
    }
    ok = c && p && value && cJSON_AddItemToArray(p, cJSON_CreateString(name)) &&
         cJSON_AddItemToObject(c, "p", p);
    if (ok)
        p = NULL;
    if (ok && cur)
        ok = cJSON_AddNullToObject(c, "od") != NULL;
    if (ok && cJSON_AddItemToObject(c, "oi", value))
        value = NULL;
    else
        ok = false;
    ok = ok && cJSON_AddItemToArray(out, c);
    cJSON_Delete(p);
    cJSON_Delete(value);
    if (!ok)
        cJSON_Delete(c);
    return ok ? 0 : -1;
}

static int stamp_item(cJSON *out, const cJSON *item, const tracked *it,
                      const auth_principal *author, int64_t now_ms)
{
    const template_stamp *st = it->list->stamp;
    bool client = author->role == AUTH_ROLE_CLIENT;

    if (!json_is_object(item))
        return 0;
    if (st) {
        for (size_t i = 0; i < st->n_fields; i++)
            if (set_field(out, item, it->path, st->fields[i].name,
                          source_value(st->fields[i].source, author, now_ms)) != 0)
                return -1;
        return 0;
    }
    if (set_field(out, item, it->path, "given_by",
                  cJSON_CreateString(client ? author->id : "client")) != 0 ||
        set_field(out, item, it->path, "recorded_by", cJSON_CreateString(author->id)) != 0 ||
        set_field(out, item, it->path, "at", cJSON_CreateNumber((double)now_ms)) != 0)
        return -1;
    if (client && set_field(out, item, it->path, "how",
                            cJSON_CreateString(ACCESS_CONSENT_HOW_SELF)) != 0)
        return -1;
    return 0;
}

static const cJSON *at_path(const cJSON *doc, const cJSON *path)
{
    const cJSON *v = doc, *e;

    cJSON_ArrayForEach(e, path) {
        v = json_is_string(e) ? (json_is_object(v) ? field(v, e->valuestring) : NULL)
                              : (json_is_array(v) ? cJSON_GetArrayItem(v, e->valueint) : NULL);
        if (!v)
            return NULL;
    }
    return v;
}

int access_view_stamp(const template_spec *t, const auth_principal *author, int64_t now_ms,
                      const cJSON *doc_after, const cJSON *op, cJSON **out, auth_error *err)
{
    size_t n;
    stamped_list *lists = stamped_lists(t, &n);
    tracker tr = {0};
    cJSON *stamps = NULL;
    const cJSON *comp, *item;
    int rc = -1;

    *out = NULL;
    if (!lists)
        return auth_fail(err, "out of memory");
    if (n == 0 || !json_is_array(op)) {
        free(lists);
        return 0;
    }
    cJSON_ArrayForEach(comp, op) {
        if (!json_is_array(cJSON_GetObjectItemCaseSensitive(comp, "p"))) {
            auth_fail(err, "malformed op: a component without a path");
            goto done;
        }
        for (size_t i = 0; i < tr.n; i++)
            if (tr.items[i].path && !shift(tr.items[i].path, comp)) {
                cJSON_Delete(tr.items[i].path);
                tr.items[i].path = NULL;
            }
        if (track_inserted(&tr, lists, n, comp) != 0)
            goto memory;
    }
    if (!(stamps = cJSON_CreateArray()))
        goto memory;
    for (size_t i = 0; i < tr.n; i++) {
        if (!tr.items[i].path)
            continue;
        item = at_path(doc_after, tr.items[i].path);
        if (!json_is_object(item)) {
            auth_fail(err, "the document does not hold an item the op inserted (stamping "
                           "takes the document after the op)");
            goto done;
        }
        if (stamp_item(stamps, item, &tr.items[i], author, now_ms) != 0)
            goto memory;
    }
    if (cJSON_GetArraySize(stamps) > 0) {
        *out = stamps;
        stamps = NULL;
    }
    rc = 0;
    goto done;
memory:
    auth_fail(err, "out of memory");
done:
    for (size_t i = 0; i < tr.n; i++)
        cJSON_Delete(tr.items[i].path);
    free(tr.items);
    free(lists);
    cJSON_Delete(stamps);
    return rc;
}
