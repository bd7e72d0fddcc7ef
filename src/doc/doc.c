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
    d->size = 0;
}

void doc_adopt(doc_state *d, int64_t v, cJSON *data)
{
    cJSON_Delete(d->data);
    d->v = v;
    d->data = data;
    d->exists = data != NULL;
    d->size = data ? doc_size_of(data) : 0;
}

void doc_clear(doc_state *d)
{
    cJSON_Delete(d->data);
    doc_init(d);
}

int doc_apply(doc_state *d, doc_op_kind kind, const cJSON *payload, ot_error *err)
{
    return doc_apply_limited(d, kind, payload, NULL, NULL, err);
}

int doc_apply_limited(doc_state *d, doc_op_kind kind, const cJSON *payload,
                      const doc_limits *limits, doc_refusal *why, ot_error *err)
{
    switch (kind) {
    case DOC_OP_CREATE: {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(payload, "data");
        size_t size = data ? doc_size_of(data) : 4;
        cJSON *copy;
        if (d->exists)
            return DOC_EXISTS;
        if (limits && limits->sheet && size > limits->sheet) {
            if (why)
                *why = (doc_refusal){DOC_LIMIT_SHEET, limits->sheet, size, -1};
            return DOC_LIMIT;
        }
        copy = data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull();
        if (!copy)
            return DOC_NOMEM;
        d->data = copy;
        d->exists = 1;
        d->size = size;
        break;
    }
    case DOC_OP_DEL:
        if (!d->exists)
            return DOC_MISSING;
        cJSON_Delete(d->data);
        d->data = NULL;
        d->exists = 0;
        d->size = 0;
        break;
    default: {
        doc_size_watch_state w;
        if (!d->exists)
            return DOC_MISSING;
        memset(&w, 0, sizeof w);
        w.size = d->size;
        w.limits = limits;
        if (ot_apply_watched(&d->data, payload, doc_size_watch, &w, err) != 0) {
            if (!w.why.kind)
                return DOC_OT;
            if (why)
                *why = w.why;
            return DOC_LIMIT;
        }
        d->size = w.size;
        break;
    }
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
