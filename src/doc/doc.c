/*
 * Document state and the create/edit/delete semantics (see doc.h). Deleting keeps the
 * version, so a document can be created again later at a higher version.
 */
#include "doc/doc.h"

#include <stdlib.h>
#include <string.h>

#include "util/json_print.h"

void doc_init(doc_state *d)
{
    d->v = 0;
    d->exists = 0;
    d->data = NULL;
}

void doc_clear(doc_state *d)
{
    cJSON_Delete(d->data);
    doc_init(d);
}

int doc_apply(doc_state *d, doc_op_kind kind, const cJSON *payload, ot_error *err)
{
    switch (kind) {
    case DOC_OP_CREATE: {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(payload, "data");
        cJSON *copy;
        if (d->exists)
            return DOC_EXISTS;
        copy = data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull();
        if (!copy)
            return DOC_NOMEM;
        d->data = copy;
        d->exists = 1;
        break;
    }
    case DOC_OP_DEL:
        if (!d->exists)
            return DOC_MISSING;
        cJSON_Delete(d->data);
        d->data = NULL;
        d->exists = 0;
        break;
    default:
        if (!d->exists)
            return DOC_MISSING;
        if (ot_apply(&d->data, payload, err) != 0)
            return DOC_OT;
        break;
    }
    d->v++;
    return DOC_OK;
}

cJSON *doc_create_payload(const cJSON *data)
{
    cJSON *p = cJSON_CreateObject(), *copy;

    if (!p || !cJSON_AddStringToObject(p, "type", DOC_TYPE_URI))
        goto fail;
    copy = data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull();
    if (!copy)
        goto fail;
    if (!cJSON_AddItemToObject(p, "data", copy)) {
        cJSON_Delete(copy);
        goto fail;
    }
    return p;
fail:
    cJSON_Delete(p);
    return NULL;
}

char *doc_text(const doc_state *d)
{
    if (!d->exists)
        return strdup("null");
    return json_print(d->data);
}
