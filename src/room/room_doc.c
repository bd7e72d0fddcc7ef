/*
 * Document state and the create/edit/delete semantics (see room_doc.h). Deleting keeps
 * the version, so a document can be created again later at a higher version.
 */
#include "room/room_doc.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "util/json_print.h"

void room_doc_init(room_doc *d)
{
    d->v = 0;
    d->exists = 0;
    d->data = NULL;
}

void room_doc_clear(room_doc *d)
{
    cJSON_Delete(d->data);
    room_doc_init(d);
}

int room_doc_apply(room_doc *d, int kind, const cJSON *payload, ot_error *err)
{
    switch (kind) {
    case PROTO_CREATE: {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(payload, "data");
        cJSON *copy;
        if (d->exists)
            return ROOM_DOC_EXISTS;
        copy = data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull();
        if (!copy)
            return ROOM_DOC_NOMEM;
        d->data = copy;
        d->exists = 1;
        break;
    }
    case PROTO_DEL:
        if (!d->exists)
            return ROOM_DOC_MISSING;
        cJSON_Delete(d->data);
        d->data = NULL;
        d->exists = 0;
        break;
    default:
        if (!d->exists)
            return ROOM_DOC_MISSING;
        if (ot_apply(&d->data, payload, err) != 0)
            return ROOM_DOC_OT;
        break;
    }
    d->v++;
    return ROOM_DOC_OK;
}

char *room_doc_text(const room_doc *d)
{
    if (!d->exists)
        return strdup("null");
    return json_print(d->data);
}
