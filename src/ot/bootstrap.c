/*
 * The component-wise transform walk; see bootstrap.h.
 * Mirrors bootstrapTransform.js: the left op is rebuilt once per right component, a right
 * component that transforms into one component carries on, into none stops, and into
 * several recurses on the rest of the left op.
 */
#include "ot/bootstrap.h"

#include "ot/ot_error.h"

static int count(const cJSON *first)
{
    int n = 0;
    for (; first; first = first->next) n++;
    return n;
}

static cJSON *copy_list(const cJSON *first)
{
    cJSON *out = cJSON_CreateArray();
    for (; out && first; first = first->next) {
        cJSON *dup = cJSON_Duplicate(first, 1);
        if (!dup) {
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToArray(out, dup);
    }
    return out;
}

static int append_list(const ot_component_type *type, cJSON *dest, const cJSON *first,
                       ot_error *err)
{
    for (; first; first = first->next)
        if (type->append(dest, first, err) != 0) return -1;
    return 0;
}

/* transformX over component lists given by their first node (so "the rest of the left
 * op" needs no copy). */
static int transform_x_list(const ot_component_type *type, const cJSON *left_first,
                            const cJSON *right_first, cJSON **left_out, cJSON **right_out,
                            ot_error *err)
{
    int rc = -1;
    cJSON *new_right = cJSON_CreateArray();
    cJSON *left_owned = NULL;      /* the left op once rebuilt; left_first points into it */
    cJSON *new_left = NULL, *next_c = NULL, *carried = NULL;
    cJSON *sub_left = NULL, *sub_right = NULL;
    if (!new_right) goto out;

    for (const cJSON *rnode = right_first; rnode; rnode = rnode->next) {
        const cJSON *right_c = rnode;
        new_left = cJSON_CreateArray();
        if (!new_left) goto out;
        const cJSON *k = left_first;
        while (k) {
            next_c = cJSON_CreateArray();
            if (!next_c) goto out;
            if (type->transform_component(new_left, k, right_c, OT_LEFT, err) != 0) goto out;
            if (type->transform_component(next_c, right_c, k, OT_RIGHT, err) != 0) goto out;
            k = k->next;
            int produced = count(next_c->child);
            if (produced == 1) {
                cJSON *only = cJSON_DetachItemViaPointer(next_c, next_c->child);
                cJSON_Delete(carried);
                carried = only;
                right_c = carried;
                cJSON_Delete(next_c);
                next_c = NULL;
            } else if (produced == 0) {
                cJSON_Delete(next_c);
                next_c = NULL;
                if (append_list(type, new_left, k, err) != 0) goto out;
                right_c = NULL;
                break;
            } else {
                if (transform_x_list(type, k, next_c->child, &sub_left, &sub_right, err) != 0)
                    goto out;
                cJSON_Delete(next_c);
                next_c = NULL;
                if (append_list(type, new_left, sub_left->child, err) != 0) goto out;
                if (append_list(type, new_right, sub_right->child, err) != 0) goto out;
                cJSON_Delete(sub_left);
                cJSON_Delete(sub_right);
                sub_left = sub_right = NULL;
                right_c = NULL;
                break;
            }
        }
        if (right_c && type->append(new_right, right_c, err) != 0) goto out;
        cJSON_Delete(carried);
        carried = NULL;
        cJSON_Delete(left_owned);
        left_owned = new_left;
        new_left = NULL;
        left_first = left_owned->child;
    }

    if (!left_owned && !(left_owned = copy_list(left_first))) goto out;
    *left_out = left_owned;
    *right_out = new_right;
    left_owned = new_right = NULL;
    rc = 0;
out:
    if (rc != 0 && err && err->message[0] == '\0') ot_fail(err, "out of memory");
    cJSON_Delete(new_right);
    cJSON_Delete(left_owned);
    cJSON_Delete(new_left);
    cJSON_Delete(next_c);
    cJSON_Delete(carried);
    cJSON_Delete(sub_left);
    cJSON_Delete(sub_right);
    return rc;
}

cJSON *ot_bootstrap_transform(const ot_component_type *type, const cJSON *op,
                              const cJSON *other, ot_side side, ot_error *err)
{
    if (!other->child) {
        cJSON *same = cJSON_Duplicate(op, 1);
        if (!same) ot_fail(err, "out of memory");
        return same;
    }
    if (op->child && !op->child->next && !other->child->next) {
        cJSON *dest = cJSON_CreateArray();
        if (!dest) {
            ot_fail(err, "out of memory");
            return NULL;
        }
        if (type->transform_component(dest, op->child, other->child, side, err) != 0) {
            cJSON_Delete(dest);
            return NULL;
        }
        return dest;
    }
    cJSON *l = NULL, *r = NULL;
    int rc = side == OT_LEFT ? transform_x_list(type, op->child, other->child, &l, &r, err)
                             : transform_x_list(type, other->child, op->child, &l, &r, err);
    if (rc != 0) return NULL;
    if (side == OT_LEFT) {
        cJSON_Delete(r);
        return l;
    }
    cJSON_Delete(l);
    return r;
}
