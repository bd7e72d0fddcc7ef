/*
 * Builders for every server message (see proto.h). Field order and presence follow
 * ShareDB's Agent: replies carry a, then c/d (or id), then the payload. A json0
 * snapshot leaves `type` out, a missing document says type:null and has no data.
 */
#include "proto/proto.h"

#include <stdbool.h>
#include <string.h>

#include "doc/doc.h"

static void open_action(proto_buf *b, proto_action a)
{
    proto_buf_lit(b, "{\"a\":");
    proto_buf_str(b, proto_action_name(a));
}

static void field_str(proto_buf *b, const char *key, const char *value)
{
    proto_buf_lit(b, ",\"");
    proto_buf_lit(b, key);
    proto_buf_lit(b, "\":");
    proto_buf_str(b, value);
}

static void field_i64(proto_buf *b, const char *key, int64_t value)
{
    proto_buf_lit(b, ",\"");
    proto_buf_lit(b, key);
    proto_buf_lit(b, "\":");
    proto_buf_i64(b, value);
}

void proto_emit_init(proto_buf *b, int handshake, const char *id)
{
    proto_buf_lit(b, "{\"a\":");
    proto_buf_str(b, handshake ? "hs" : "init");
    field_i64(b, "protocol", PROTO_MAJOR);
    field_i64(b, "protocolMinor", PROTO_MINOR);
    field_str(b, "id", id);
    field_str(b, "type", DOC_TYPE_URI);
    proto_buf_lit(b, "}");
}

void proto_emit_error(proto_buf *b, cJSON *request, const proto_error *in)
{
    proto_error copy = *in;
    const proto_error *err = &copy;
    cJSON *e;

    proto_utf8_repair(copy.message);
    if (!request || !cJSON_IsObject(request)) {
        proto_buf_lit(b, "{\"error\":{\"code\":");
        proto_buf_str(b, err->code);
        proto_buf_lit(b, ",\"message\":");
        proto_buf_str(b, err->message);
        proto_buf_lit(b, "}}");
        return;
    }
    /* ShareDB echoes the request object itself with `error` set on it. */
    cJSON_DeleteItemFromObjectCaseSensitive(request, "error");
    e = cJSON_AddObjectToObject(request, "error");
    if (!e || !cJSON_AddStringToObject(e, "code", err->code) ||
        !cJSON_AddStringToObject(e, "message", err->message)) {
        b->sb.failed = true;
        return;
    }
    proto_buf_json(b, request);
}

void proto_emit_op(proto_buf *b, const char *c, const char *d, int64_t v, const char *src,
                   int64_t seq, proto_op_kind kind, const char *op_json)
{
    proto_buf_lit(b, "{\"a\":\"op\"");
    field_str(b, "c", c);
    field_str(b, "d", d);
    field_i64(b, "v", v);
    field_str(b, "src", src);
    field_i64(b, "seq", seq);
    switch (kind) {
    case PROTO_EDIT:
        proto_buf_lit(b, ",\"op\":");
        proto_buf_lit(b, op_json);
        break;
    case PROTO_CREATE:
        proto_buf_lit(b, ",\"create\":");
        proto_buf_lit(b, op_json);
        break;
    case PROTO_DEL:
        proto_buf_lit(b, ",\"del\":true");
        break;
    }
    proto_buf_lit(b, "}");
}

void proto_emit_ack(proto_buf *b, const char *c, const char *d, const char *src, int64_t seq,
                    int64_t v)
{
    proto_buf_lit(b, "{\"a\":\"op\"");
    field_str(b, "c", c);
    field_str(b, "d", d);
    field_str(b, "src", src);
    field_i64(b, "seq", seq);
    field_i64(b, "v", v);
    proto_buf_lit(b, "}");
}

static void snapshot_object(proto_buf *b, int64_t v, int exists, const char *data_json)
{
    proto_buf_lit(b, "{\"v\":");
    proto_buf_i64(b, v);
    if (exists) {
        proto_buf_lit(b, ",\"data\":");
        proto_buf_lit(b, data_json);
    } else {
        proto_buf_lit(b, ",\"type\":null");
    }
    proto_buf_lit(b, "}");
}

void proto_emit_snapshot_reply(proto_buf *b, proto_action a, const char *c, const char *d,
                               int64_t v, int exists, const char *data_json)
{
    open_action(b, a);
    field_str(b, "c", c);
    field_str(b, "d", d);
    proto_buf_lit(b, ",\"data\":");
    snapshot_object(b, v, exists, data_json);
    proto_buf_lit(b, "}");
}

void proto_emit_doc_reply(proto_buf *b, proto_action a, const char *c, const char *d)
{
    open_action(b, a);
    field_str(b, "c", c);
    field_str(b, "d", d);
    proto_buf_lit(b, "}");
}

void proto_emit_snapshot_fetch(proto_buf *b, proto_action a, const cJSON *req_id, int64_t v,
                               int exists, const char *data_json)
{
    open_action(b, a);
    proto_buf_lit(b, ",\"id\":");
    proto_buf_json(b, req_id);
    field_i64(b, "v", v);
    if (exists) {
        field_str(b, "type", DOC_TYPE_URI);
        proto_buf_lit(b, ",\"data\":");
        proto_buf_lit(b, data_json);
    } else {
        proto_buf_lit(b, ",\"type\":null");
    }
    proto_buf_lit(b, "}");
}

void proto_emit_bulk_open(proto_buf *b, proto_action a, const char *c)
{
    open_action(b, a);
    field_str(b, "c", c);
    proto_buf_lit(b, ",\"data\":{");
}

void proto_emit_bulk_item(proto_buf *b, int first, const char *id, int64_t v, int exists,
                          const char *data_json)
{
    if (!first)
        proto_buf_lit(b, ",");
    proto_buf_str(b, id);
    proto_buf_lit(b, ":");
    snapshot_object(b, v, exists, data_json);
}

void proto_emit_bulk_item_error(proto_buf *b, int first, const char *id,
                                const proto_error *in)
{
    proto_error copy = *in;
    const proto_error *err = &copy;

    proto_utf8_repair(copy.message);
    if (!first)
        proto_buf_lit(b, ",");
    proto_buf_str(b, id);
    proto_buf_lit(b, ":{\"error\":{\"code\":");
    proto_buf_str(b, err->code);
    proto_buf_lit(b, ",\"message\":");
    proto_buf_str(b, err->message);
    proto_buf_lit(b, "}}");
}

void proto_emit_bulk_close(proto_buf *b)
{
    proto_buf_lit(b, "}}");
}

void proto_emit_bulk_ack(proto_buf *b, proto_action a, const char *c, const cJSON *bulk)
{
    open_action(b, a);
    field_str(b, "c", c);
    proto_buf_lit(b, ",\"b\":");
    proto_buf_json(b, bulk);
    proto_buf_lit(b, "}");
}

void proto_emit_pong(proto_buf *b)
{
    proto_buf_lit(b, "{\"a\":\"pp\"}");
}

void proto_emit_presence(proto_buf *b, const char *ch, const char *src, const char *id,
                         const cJSON *value, const cJSON *pv, const char *principal)
{
    proto_buf_lit(b, "{\"a\":\"p\"");
    field_str(b, "ch", ch);
    field_str(b, "src", src);
    field_str(b, "id", id);
    proto_buf_lit(b, ",\"p\":");
    proto_buf_json(b, value);
    proto_buf_lit(b, ",\"pv\":");
    proto_buf_json(b, pv);
    proto_buf_lit(b, ",\"u\":{\"id\":");
    proto_buf_str(b, principal);
    proto_buf_lit(b, "}}");
}

void proto_emit_presence_sub(proto_buf *b, proto_action a, const char *ch, int64_t seq)
{
    open_action(b, a);
    field_str(b, "ch", ch);
    field_i64(b, "seq", seq);
    proto_buf_lit(b, "}");
}

void proto_emit_presence_request(proto_buf *b, const char *ch)
{
    proto_buf_lit(b, "{\"a\":\"pr\"");
    if (ch)
        field_str(b, "ch", ch);
    proto_buf_lit(b, "}");
}
