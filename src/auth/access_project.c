/*
 * Projection of snapshots and ops; see access_project.h. The snapshot walk descends only
 * through objects that have rules below them; everything else is copied or dropped
 * whole, so its cost is one copy of what the principal sees plus a scan of the rules per
 * object on a rule path.
 */
#include "auth/access_project.h"

#include "ot/json0.h"

enum { KEEP, OMIT, FAILED };

/* Projects node (the value at path) into *out. path is a scratch array of string
 * references, extended and restored on the way down. */
static int project_node(const access_rules *rules, const auth_principal *who,
                        const cJSON *node, cJSON *path, cJSON **out)
{
    if (!access_rules_has_below(rules, path) || !cJSON_IsObject(node)) {
        if (!access_can_read_all(rules, who, path))
            return OMIT;
        *out = cJSON_Duplicate(node, 1);
        return *out ? KEEP : FAILED;
    }
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return FAILED;
    int status = KEEP;
    for (const cJSON *child = node->child; child && status != FAILED; child = child->next) {
        cJSON *key = cJSON_CreateStringReference(child->string);
        if (!key) {
            status = FAILED;
            break;
        }
        cJSON_AddItemToArray(path, key);
        cJSON *projected = NULL;
        int rc = project_node(rules, who, child, path, &projected);
        cJSON_DeleteItemFromArray(path, cJSON_GetArraySize(path) - 1);
        if (rc == FAILED)
            status = FAILED;
        else if (rc == KEEP && !cJSON_AddItemToObject(obj, child->string, projected)) {
            cJSON_Delete(projected);
            status = FAILED;
        }
    }
    if (status == KEEP && !access_can_read(rules, who, path) &&
        !access_reads_below(rules, who, path))
        status = OMIT;
    if (status != KEEP) {
        cJSON_Delete(obj);
        return status;
    }
    *out = obj;
    return KEEP;
}

cJSON *access_project_snapshot(const access_rules *rules, const auth_principal *who,
                               const cJSON *doc, auth_error *err)
{
    if (!cJSON_IsObject(doc)) {
        auth_fail(err, "a case sheet must be a JSON object");
        return NULL;
    }
    cJSON *path = cJSON_CreateArray();
    cJSON *out = NULL;
    int rc = path ? project_node(rules, who, doc, path, &out) : FAILED;
    cJSON_Delete(path);
    if (rc == OMIT)
        out = cJSON_CreateObject();
    if (!out)
        auth_fail(err, "out of memory");
    return out;
}

cJSON *access_project_op(const access_rules *rules, const auth_principal *who,
                         const cJSON *op, auth_error *err)
{
    ot_error shape = {{0}};
    if (ot_check_op(op, &shape) != 0) {
        auth_fail(err, "malformed op: %s", shape.message);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *c = op->child; out && c; c = c->next) {
        if (!access_can_read_all(rules, who, cJSON_GetObjectItemCaseSensitive(c, "p")))
            continue;
        cJSON *copy = cJSON_Duplicate(c, 1);
        if (!copy || !cJSON_AddItemToArray(out, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(out);
            out = NULL;
        }
    }
    if (!out)
        auth_fail(err, "out of memory");
    return out;
}
