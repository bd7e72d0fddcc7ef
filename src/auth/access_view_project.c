/*
 * Projection of snapshots and ops for a view (see access_view.h).
 *
 * A snapshot walk descends only through objects that have rules below them; everything
 * else is taken or left whole (and, for views that transform text, copied string by
 * string). An op is projected component by component, each under the frame in force
 * when it applies: a component the view may not read whole is left out; a string edit
 * the view sees masked is masked in place (a mask keeps offsets); a string edit the view
 * sees with names replaced becomes the difference between the view's string before and
 * after it; a component that changes the consent state is followed by the difference
 * between the view of the document under the old and under the new state. Because each
 * step appends exactly what turns the view's copy into the view of the next state, the
 * invariant holds by construction (test_access_view checks it over random ops).
 */
#include "auth/access_view_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ot/json0.h"
#include "util/json_util.h"

enum { KEEP, OMIT, FAILED };

/* ---- snapshots ------------------------------------------------------------------------- */

static int project_node(const view_ctx *c, const cJSON *node, cJSON *path, cJSON **out)
{
    int status = KEEP;
    cJSON *obj;

    if ((c->v.flags & ACCESS_VIEW_EVERYTHING) || !json_is_object(node) ||
        !access_rules_has_below(c->rules, path)) {
        if (!view_reads_all(c, path))
            return OMIT;
        *out = view_value(c, node, path);
        return *out ? KEEP : FAILED;
    }
    if (!view_reads(c, path) && !view_may_read_below(c, path))
        return OMIT;
    if (!(obj = cJSON_CreateObject()))
        return FAILED;
    for (const cJSON *child = node->child; child && status != FAILED; child = child->next) {
        cJSON *projected = NULL;
        int rc;
        if (view_push_key(path, child->string) != 0) {
            status = FAILED;
            break;
        }
        rc = project_node(c, child, path, &projected);
        view_pop(path);
        if (rc == FAILED)
            status = FAILED;
        else if (rc == KEEP && !cJSON_AddItemToObject(obj, child->string, projected)) {
            cJSON_Delete(projected);
            status = FAILED;
        }
    }
    if (status != KEEP) {
        cJSON_Delete(obj);
        return status;
    }
    *out = obj;
    return KEEP;
}

static cJSON *snapshot_ctx(const view_ctx *c, const cJSON *doc, auth_error *err)
{
    cJSON *path = cJSON_CreateArray(), *out = NULL;
    int rc;

    if (!json_is_object(doc)) {
        cJSON_Delete(path);
        auth_fail(err, "a case sheet must be a JSON object");
        return NULL;
    }
    rc = path ? project_node(c, doc, path, &out) : FAILED;
    cJSON_Delete(path);
    if (rc == OMIT)
        out = cJSON_CreateObject();
    if (!out)
        auth_fail(err, "out of memory");
    return out;
}

cJSON *access_view_snapshot(const template_spec *t, const access_view *v,
                            const access_frame *f, const cJSON *doc, auth_error *err)
{
    view_ctx c;

    view_ctx_init(&c, t, v, f->consents, f->names);
    return snapshot_ctx(&c, doc, err);
}

/* ---- components ---------------------------------------------------------------------------- */

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int append_copy(cJSON *out, const cJSON *comp)
{
    cJSON *copy = cJSON_Duplicate(comp, 1);
    if (!copy || !cJSON_AddItemToArray(out, copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* A copy of comp with the value under key replaced by value (taken). */
static int set_value(cJSON *comp, const char *key, cJSON *value)
{
    if (!value)
        return -1;
    if (!cJSON_ReplaceItemInObjectCaseSensitive(comp, key, value)) {
        cJSON_Delete(value);
        return -1;
    }
    return 0;
}

/* The identity path p is at or below, or NULL (pseudonymised views only). */
static const cJSON *identity_over(const view_ctx *c, const cJSON *p)
{
    const cJSON *ip;

    if (!(c->v.flags & ACCESS_VIEW_PSEUDONYMISED))
        return NULL;
    cJSON_ArrayForEach(ip, template_identity(c->t)) {
        const cJSON *k = ip->child, *e = p->child;
        for (; k && e; k = k->next, e = e->next)
            if (!json_is_string(e) || strcmp(e->valuestring, k->valuestring) != 0)
                break;
        if (!k)
            return ip;
    }
    return NULL;
}

/* A component on (or inside) an identity path: the value always reads the pseudonym, so
 * edits and replacements vanish; creating or removing the key carries the pseudonym. */
static int project_identity(const cJSON *ip, const cJSON *comp, cJSON *out)
{
    const cJSON *p = field(comp, "p");
    bool oi = field(comp, "oi") != NULL, od = field(comp, "od") != NULL;
    cJSON *copy;

    if (cJSON_GetArraySize(p) > cJSON_GetArraySize(ip) || oi == od)
        return 0;
    if (!(copy = cJSON_Duplicate(comp, 1)) ||
        set_value(copy, oi ? "oi" : "od", cJSON_CreateString(ACCESS_PSEUDONYM)) != 0 ||
        !cJSON_AddItemToArray(out, copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* The value at path in doc, or NULL. */
static const cJSON *value_at(const cJSON *doc, const cJSON *path)
{
    const cJSON *v = doc, *e;

    cJSON_ArrayForEach(e, path) {
        if (json_is_string(e))
            v = json_is_object(v) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
        else
            v = json_is_array(v) ? cJSON_GetArrayItem(v, e->valueint) : NULL;
        if (!v)
            return NULL;
    }
    return v;
}

/* The string after comp (a string edit: si, sd or t) applied to before; NULL with *err. */
static char *string_after(const char *before, const cJSON *comp, bool with_offset,
                          auth_error *err)
{
    cJSON *doc = cJSON_CreateObject(), *op = cJSON_CreateArray(), *c = cJSON_Duplicate(comp, 1);
    cJSON *p = cJSON_CreateArray();
    ot_error oerr = {{0}};
    char *after = NULL;
    const cJSON *x;

    if (doc && op && c && p && cJSON_AddStringToObject(doc, "x", before) &&
        cJSON_AddItemToArray(p, cJSON_CreateString("x"))) {
        if (with_offset)
            cJSON_AddItemToArray(p, cJSON_Duplicate(cJSON_GetArrayItem(field(comp, "p"),
                                     cJSON_GetArraySize(field(comp, "p")) - 1), 1));
        if (cJSON_ReplaceItemInObjectCaseSensitive(c, "p", p)) {
            p = NULL;
            if (cJSON_AddItemToArray(op, c)) {
                c = NULL;
                if (ot_apply(&doc, op, &oerr) != 0)
                    auth_fail(err, "the op does not apply: %s", oerr.message);
                else if (json_is_string(x = field(doc, "x")))
                    after = strdup(x->valuestring);
            }
        }
    }
    if (!after)
        auth_fail(err, "out of memory");
    cJSON_Delete(p);
    cJSON_Delete(c);
    cJSON_Delete(op);
    cJSON_Delete(doc);
    return after;
}

/* A string edit seen through a transformation that may change lengths: the difference
 * between the view's string before and after. */
static int project_string_diff(const view_ctx *c, view_class cls, const cJSON *spath,
                               const cJSON *comp, bool with_offset, const cJSON *doc,
                               cJSON *out, auth_error *err)
{
    const cJSON *s = value_at(doc, spath);
    char *after, *a = NULL, *b = NULL;
    int rc = -1;

    if (!json_is_string(s))
        return auth_fail(err, "the op does not apply: no string at a string edit's path");
    if (!(after = string_after(s->valuestring, comp, with_offset, err)))
        return -1;
    if (view_string(c, cls, s->valuestring, &a) >= 0 && view_string(c, cls, after, &b) >= 0)
        rc = !a && !b ? append_copy(out, comp)   /* nothing replaced: the edit as it is */
                      : view_string_diff(a ? a : s->valuestring, b ? b : after, spath, out);
    if (rc != 0)
        auth_fail(err, "out of memory");
    free(a);
    free(b);
    free(after);
    return rc;
}

/* A string edit seen masked: the same edit, its text masked. */
static int project_masked(const cJSON *comp, const char *key, cJSON *out)
{
    char *mask = view_mask(field(comp, key)->valuestring);
    cJSON *copy = mask ? cJSON_Duplicate(comp, 1) : NULL;
    int rc = -1;

    if (copy && set_value(copy, key, cJSON_CreateString(mask)) == 0 &&
        cJSON_AddItemToArray(out, copy)) {
        copy = NULL;
        rc = 0;
    }
    cJSON_Delete(copy);
    free(mask);
    return rc;
}

/* Appends what the view receives of comp, applied to doc (NULL when not needed). */
static int project_component(const view_ctx *c, const cJSON *comp, const cJSON *doc,
                             cJSON *out, auth_error *err)
{
    static const char *const values[] = {"oi", "od", "li", "ld"};
    const cJSON *p = field(comp, "p"), *ip;
    bool si = field(comp, "si") != NULL, sd = field(comp, "sd") != NULL;
    bool t = field(comp, "t") != NULL;
    cJSON *copy, *spath;
    view_class cls;
    view_shown shown;
    int rc;

    if (!view_reads_all(c, p))
        return 0;
    if (!view_transforms(&c->v))
        return append_copy(out, comp) == 0 ? 0 : auth_fail(err, "out of memory");
    if ((ip = identity_over(c, p)))
        return project_identity(ip, comp, out) == 0 ? 0 : auth_fail(err, "out of memory");
    if (si || sd || t) {
        if (!(spath = cJSON_Duplicate(p, 1)))
            return auth_fail(err, "out of memory");
        if (!t)
            view_pop(spath);
        cls = view_classify(c, spath);
        shown = view_shown_as(c, cls);
        if (shown == VIEW_AS_IS)
            rc = append_copy(out, comp);
        else if (shown == VIEW_MASKED && !t)
            rc = project_masked(comp, si ? "si" : "sd", out);
        else if (!doc)
            rc = auth_fail(err, "the document is needed to project this op");
        else
            rc = project_string_diff(c, cls, spath, comp, !t, doc, out, err);
        cJSON_Delete(spath);
        return rc == 0 ? 0 : auth_fail(err, "out of memory");
    }
    if (!(copy = cJSON_Duplicate(comp, 1)) || !(spath = cJSON_Duplicate(p, 1))) {
        cJSON_Delete(copy);
        return auth_fail(err, "out of memory");
    }
    rc = 0;
    for (size_t i = 0; i < 4 && rc == 0; i++)
        if (field(comp, values[i]))
            rc = set_value(copy, values[i], view_value(c, field(comp, values[i]), spath));
    cJSON_Delete(spath);
    if (rc != 0 || !cJSON_AddItemToArray(out, copy)) {
        cJSON_Delete(copy);
        return auth_fail(err, "out of memory");
    }
    return 0;
}

/* Appends the difference between doc seen through from and through to. */
static int transition(const view_ctx *from, const view_ctx *to, const cJSON *doc, cJSON *out,
                      auth_error *err)
{
    cJSON *a = snapshot_ctx(from, doc, err), *b = a ? snapshot_ctx(to, doc, err) : NULL;
    cJSON *path = cJSON_CreateArray();
    int rc = a && b && path ? view_diff(a, b, path, out) : -1;

    cJSON_Delete(path);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc == 0 ? 0 : auth_fail(err, "out of memory");
}

/* ---- ops ----------------------------------------------------------------------------------- */

static bool touches_path(const cJSON *p, const cJSON *path)
{
    const cJSON *x = p->child, *y = path->child;

    for (; x && y; x = x->next, y = y->next)
        if (!json_is_string(x) || strcmp(x->valuestring, y->valuestring) != 0)
            return false;
    return true;
}

static bool string_edit_needs_doc(const view_ctx *c, const cJSON *comp)
{
    const cJSON *p = field(comp, "p");
    bool t = field(comp, "t") != NULL;
    cJSON *spath;
    view_shown shown;

    if (!t && !field(comp, "si") && !field(comp, "sd"))
        return false;
    if (identity_over(c, p) || !(spath = cJSON_Duplicate(p, 1)))
        return false;
    if (!t)
        view_pop(spath);
    shown = view_shown_as(c, view_classify(c, spath));
    cJSON_Delete(spath);
    return shown == VIEW_REDACTED || (shown == VIEW_MASKED && t);
}

bool access_view_op_needs_doc(const template_spec *t, const access_view *v,
                              const access_frame *f, const access_names *names_after,
                              const cJSON *op)
{
    const cJSON *comp;
    view_ctx c;

    if (!f->consents_fixed && access_view_touches_consents(t, op) &&
        access_view_consent_mask(t, v))
        return true;
    if (!view_transforms(v))
        return false;
    if ((v->flags & ACCESS_VIEW_PSEUDONYMISED) && names_after &&
        !access_names_same(f->names, names_after))
        return true;
    view_ctx_init(&c, t, v, f->consents, names_after ? names_after : f->names);
    cJSON_ArrayForEach(comp, op)
        if (string_edit_needs_doc(&c, comp))
            return true;
    return false;
}

bool access_view_op_whole(const template_spec *t, const access_view *v, const access_frame *f,
                          const cJSON *op)
{
    const cJSON *comp;
    view_ctx c;

    if (view_transforms(v) || !json_is_array(op))
        return false;
    if (!f->consents_fixed && access_view_touches_consents(t, op) &&
        access_view_consent_mask(t, v))
        return false;
    view_ctx_init(&c, t, v, f->consents, f->names);
    cJSON_ArrayForEach(comp, op)
        if (!view_reads_all(&c, field(comp, "p")))
            return false;
    return true;
}

/* Applies one component to *doc. */
static int apply_one(cJSON **doc, const cJSON *comp, auth_error *err)
{
    cJSON *op = cJSON_CreateArray();
    ot_error oerr = {{0}};
    int rc;

    if (!op || !cJSON_AddItemReferenceToArray(op, (cJSON *)comp)) {
        cJSON_Delete(op);
        return auth_fail(err, "out of memory");
    }
    rc = ot_apply(doc, op, &oerr);
    cJSON_Delete(op);
    return rc == 0 ? 0 : auth_fail(err, "the op does not apply: %s", oerr.message);
}

cJSON *access_view_op(const template_spec *t, const access_view *v, const access_frame *f,
                      const access_names *names_after, const cJSON *doc_before,
                      const cJSON *op, auth_error *err)
{
    const cJSON *consent_path = template_consent_path(t), *comp;
    bool touches = !f->consents_fixed && access_view_touches_consents(t, op);
    access_consents mask = touches ? access_view_consent_mask(t, v) : 0;
    bool follow = touches && mask;
    bool renamed = (v->flags & ACCESS_VIEW_PSEUDONYMISED) && names_after &&
                   !access_names_same(f->names, names_after);
    ot_error shape = {{0}};
    cJSON *out = NULL, *sim = NULL;
    const cJSON *doc = doc_before;
    view_ctx c, next;

    if (ot_check_op(op, &shape) != 0) {
        auth_fail(err, "malformed op: %s", shape.message);
        return NULL;
    }
    if (!names_after)
        names_after = f->names;
    view_ctx_init(&c, t, v, f->consents, f->names);
    if ((follow || renamed) && !doc_before) {
        auth_fail(err, "the document is needed to project this op");
        return NULL;
    }
    if (!(out = cJSON_CreateArray()))
        goto memory;
    if (doc_before && (follow || (view_transforms(v) && cJSON_GetArraySize(op) > 1 &&
                                  access_view_op_needs_doc(t, v, f, names_after, op)))) {
        if (!(sim = cJSON_Duplicate(doc_before, 1)))
            goto memory;
        doc = sim;
    }
    if (renamed) {
        view_ctx_init(&next, t, v, f->consents, names_after);
        if (transition(&c, &next, doc, out, err) != 0)
            goto fail;
    }
    c.names = names_after;
    cJSON_ArrayForEach(comp, op) {
        if (project_component(&c, comp, doc, out, err) != 0)
            goto fail;
        if (!sim)
            continue;
        if (apply_one(&sim, comp, err) != 0)
            goto fail;
        doc = sim;
        if (follow && touches_path(field(comp, "p"), consent_path)) {
            access_consents now = access_view_consents(t, sim);
            if ((now ^ c.consents) & mask) {
                next = c;
                next.consents = now;
                if (transition(&c, &next, sim, out, err) != 0)
                    goto fail;
            }
            c.consents = now;
        }
    }
    cJSON_Delete(sim);
    return out;
memory:
    auth_fail(err, "out of memory");
fail:
    cJSON_Delete(sim);
    cJSON_Delete(out);
    return NULL;
}
