/*
 * text0 operations; see text0.h. A line-by-line counterpart of text0.js, with lengths and
 * positions in UTF-16 code units. Components handed around internally are already
 * checked, so accessors assume their shape.
 */
#include "ot/text0.h"

#include <math.h>
#include <string.h>

#include "ot/bootstrap.h"
#include "ot/ot_error.h"
#include "util/json_util.h"
#include "util/utf16.h"

#define TEXT_MAX_OFFSET 2147483647.0

static size_t pos_of(const cJSON *c)
{
    return (size_t)cJSON_GetObjectItemCaseSensitive(c, "p")->valuedouble;
}

static const char *ins_of(const cJSON *c)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(c, "i");
    return json_is_string(i) ? i->valuestring : NULL;
}

static const char *del_of(const cJSON *c)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "d");
    return json_is_string(d) ? d->valuestring : NULL;
}

static size_t len16(const char *s)
{
    return utf16_length(s, strlen(s));
}

static int check_component(const cJSON *c, ot_error *err)
{
    if (!json_is_object(c)) return ot_fail(err, "text0 component must be an object");
    const cJSON *p = NULL, *i = NULL, *d = NULL;
    for (const cJSON *f = c->child; f; f = f->next) {
        const cJSON **slot = strcmp(f->string, "p") == 0   ? &p
                             : strcmp(f->string, "i") == 0 ? &i
                             : strcmp(f->string, "d") == 0 ? &d
                                                           : NULL;
        if (!slot) return ot_fail(err, "unknown field \"%s\" in text0 component", f->string);
        if (*slot) return ot_fail(err, "field \"%s\" appears twice in a text0 component", f->string);
        *slot = f;
    }
    if (!json_is_number(p)) return ot_fail(err, "text0 component missing position field");
    if (p->valuedouble < 0 || p->valuedouble > TEXT_MAX_OFFSET ||
        p->valuedouble != floor(p->valuedouble))
        return ot_fail(err, "text0 position must be an integer >= 0");
    if ((i != NULL) == (d != NULL)) return ot_fail(err, "text0 component needs an i or d field");
    const cJSON *s = i ? i : d;
    if (!json_is_string(s)) return ot_fail(err, "text0 %s must be a string", i ? "i" : "d");
    return 0;
}

int ot_text0_check_op(const cJSON *op, ot_error *err)
{
    if (!json_is_array(op)) return ot_fail(err, "text0 op must be an array");
    for (const cJSON *c = op->child; c; c = c->next)
        if (check_component(c, err) != 0) return -1;
    return 0;
}

/* A new component {p, key:text}; text is copied. */
static cJSON *make_component(const char *key, const char *text, size_t p)
{
    cJSON *c = cJSON_CreateObject();
    if (!c) return NULL;
    if (!cJSON_AddStringToObject(c, key, text) || !cJSON_AddNumberToObject(c, "p", (double)p)) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

/* Appends c (taking ownership) to dest with text0's merging rules. */
static int append_owned(cJSON *dest, cJSON *c, ot_error *err)
{
    const char *ci = ins_of(c), *cd = del_of(c);
    if ((ci && ci[0] == '\0') || (cd && cd[0] == '\0')) {
        cJSON_Delete(c);
        return 0;
    }
    cJSON *last = dest->child ? dest->child->prev : NULL;
    if (last) {
        const char *li = ins_of(last), *ld = del_of(last);
        size_t lp = pos_of(last), cp = pos_of(c);
        cJSON *merged = NULL;
        if (li && ci && lp <= cp && cp <= lp + len16(li)) {
            char *s = utf16_inject(li, cp - lp, ci);
            if (!s) { cJSON_Delete(c); return ot_fail(err, "cannot merge inserts inside a surrogate pair"); }
            merged = make_component("i", s, lp);
            cJSON_free(s);
        } else if (ld && cd && cp <= lp && lp <= cp + len16(cd)) {
            char *s = utf16_inject(cd, lp - cp, ld);
            if (!s) { cJSON_Delete(c); return ot_fail(err, "cannot merge deletes inside a surrogate pair"); }
            merged = make_component("d", s, cp);
            cJSON_free(s);
        } else {
            cJSON_AddItemToArray(dest, c);
            return 0;
        }
        cJSON_Delete(c);
        if (!merged) return ot_fail(err, "out of memory");
        cJSON_ReplaceItemViaPointer(dest, last, merged);
        return 0;
    }
    cJSON_AddItemToArray(dest, c);
    return 0;
}

int ot_text0_append(cJSON *dest, const cJSON *c, ot_error *err)
{
    cJSON *copy = cJSON_Duplicate(c, 1);
    if (!copy) return ot_fail(err, "out of memory");
    return append_owned(dest, copy, err);
}

cJSON *ot_text0_compose(const cJSON *op1, const cJSON *op2, ot_error *err)
{
    if (ot_text0_check_op(op1, err) != 0 || ot_text0_check_op(op2, err) != 0) return NULL;
    cJSON *out = cJSON_Duplicate(op1, 1);
    if (!out) {
        ot_fail(err, "out of memory");
        return NULL;
    }
    for (const cJSON *c = op2->child; c; c = c->next) {
        if (ot_text0_append(out, c, err) != 0) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

/* transformPosition of text0.js. */
static size_t transform_position(size_t pos, const cJSON *c, int insert_after)
{
    const char *ins = ins_of(c);
    size_t cp = pos_of(c);
    if (ins) {
        if (cp < pos || (cp == pos && insert_after)) return pos + len16(ins);
        return pos;
    }
    size_t dlen = len16(del_of(c));
    if (pos <= cp) return pos;
    if (pos <= cp + dlen) return cp;
    return pos - dlen;
}

static int append_new(cJSON *dest, const char *key, const char *text, size_t p, ot_error *err)
{
    cJSON *c = make_component(key, text, p);
    if (!c) return ot_fail(err, "out of memory");
    return append_owned(dest, c, err);
}

static int transform_component(cJSON *dest, const cJSON *c, const cJSON *other, ot_side side,
                               ot_error *err)
{
    if (check_component(c, err) != 0 || check_component(other, err) != 0) return -1;
    size_t cp = pos_of(c), op = pos_of(other);
    const char *ci = ins_of(c), *oi = ins_of(other);
    if (ci)
        return append_new(dest, "i", ci, transform_position(cp, other, side == OT_RIGHT), err);

    const char *cd = del_of(c);
    size_t cd_len = len16(cd), cd_bytes = strlen(cd);
    if (oi) {
        /* Delete vs insert: split the delete around the inserted text. */
        char *s = NULL, *rest = NULL;
        int rc = 0;
        if (cp < op) {
            char *head = utf16_slice(cd, cd_bytes, 0, (long)(op - cp));
            rest = utf16_slice(cd, cd_bytes, (long)(op - cp), -1);
            if (!head || !rest) {
                cJSON_free(head);
                cJSON_free(rest);
                return ot_fail(err, "cannot split a delete inside a surrogate pair");
            }
            rc = append_new(dest, "d", head, cp, err);
            cJSON_free(head);
            s = rest;
        }
        const char *remaining = s ? s : cd;
        if (rc == 0 && remaining[0] != '\0')
            rc = append_new(dest, "d", remaining, cp + len16(oi), err);
        cJSON_free(s);
        return rc;
    }

    const char *od = del_of(other);
    size_t od_len = len16(od);
    if (cp >= op + od_len) return append_new(dest, "d", cd, cp - od_len, err);
    if (cp + cd_len <= op) return ot_text0_append(dest, c, err);

    /* The deletes overlap: keep only what the other did not delete already. */
    char *head = cJSON_malloc(1), *tail = NULL, *mine = NULL, *theirs = NULL;
    int rc = -1;
    if (!head) return ot_fail(err, "out of memory");
    head[0] = '\0';
    if (cp < op) {
        cJSON_free(head);
        if (!(head = utf16_slice(cd, cd_bytes, 0, (long)(op - cp)))) goto split;
    }
    if (cp + cd_len > op + od_len) {
        if (!(tail = utf16_slice(cd, cd_bytes, (long)(op + od_len - cp), -1))) goto split;
    }
    size_t start = cp > op ? cp : op;
    size_t end = (cp + cd_len < op + od_len) ? cp + cd_len : op + od_len;
    mine = utf16_slice(cd, cd_bytes, (long)(start - cp), (long)(end - cp));
    theirs = utf16_slice(od, strlen(od), (long)(start - op), (long)(end - op));
    if (!mine || !theirs) goto split;
    if (strcmp(mine, theirs) != 0) {
        ot_fail(err, "Delete ops delete different text in the same region of the document");
        goto done;
    }
    size_t hl = strlen(head), tl = tail ? strlen(tail) : 0;
    char *joined = cJSON_malloc(hl + tl + 1);
    if (!joined) {
        ot_fail(err, "out of memory");
        goto done;
    }
    memcpy(joined, head, hl);
    if (tail) memcpy(joined + hl, tail, tl);
    joined[hl + tl] = '\0';
    rc = 0;
    if (joined[0] != '\0') {
        /* transformPosition of a delete against a delete ignores insert_after. */
        rc = append_new(dest, "d", joined, transform_position(cp, other, 0), err);
    }
    cJSON_free(joined);
    goto done;
split:
    ot_fail(err, "cannot split a delete inside a surrogate pair");
done:
    cJSON_free(head);
    cJSON_free(tail);
    cJSON_free(mine);
    cJSON_free(theirs);
    return rc;
}

static const ot_component_type text0_type = {transform_component, ot_text0_append};

cJSON *ot_text0_transform(const cJSON *op, const cJSON *other, ot_side side, ot_error *err)
{
    if (ot_text0_check_op(op, err) != 0 || ot_text0_check_op(other, err) != 0) return NULL;
    return ot_bootstrap_transform(&text0_type, op, other, side, err);
}

cJSON *ot_text0_invert(const cJSON *op, ot_error *err)
{
    if (ot_text0_check_op(op, err) != 0) return NULL;
    cJSON *out = cJSON_CreateArray();
    if (!out) goto oom;
    for (const cJSON *c = op->child ? op->child->prev : NULL; c; c = (c == op->child) ? NULL : c->prev) {
        const char *ins = ins_of(c);
        cJSON *inv = make_component(ins ? "d" : "i", ins ? ins : del_of(c), pos_of(c));
        if (!inv) goto oom;
        cJSON_AddItemToArray(out, inv);
    }
    return out;
oom:
    cJSON_Delete(out);
    ot_fail(err, "out of memory");
    return NULL;
}
