/*
 * libFuzzer target for the ShareDB message parser and builders (src/proto): arbitrary
 * bytes as one client message. Besides crashes, leaks and sanitizer reports, the target
 * aborts when the parser breaks its contract:
 *   - an accepted message lacks a field its action needs, or has a version, seq or
 *     timestamp outside [0, 2^53), or an edit op the json0 engine would not accept;
 *   - a refusal has no ShareDB error code, or its error reply is not a JSON object
 *     carrying error.code and error.message;
 *   - a reply built from a message that was valid UTF-8 is not valid UTF-8 (browsers
 *     close the socket on that);
 *   - a name the parser accepted does not survive proto_buf_str() unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"
#include "proto/proto.h"

static void broken(const char *what, const char *text)
{
    fprintf(stderr, "contract broken: %s\n  %s\n", what, text ? text : "-");
    abort();
}

static int valid_utf8(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    int same;

    if (!copy)
        return 1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    proto_utf8_repair(copy);
    same = strlen(copy) == len && memcmp(copy, s, len) == 0;
    free(copy);
    return same;
}

static void check_reply(proto_buf *b, int utf8_input)
{
    const char *text = proto_buf_text(b);
    cJSON *parsed;

    if (!proto_buf_ok(b))
        return;
    parsed = cJSON_Parse(text);
    if (!parsed || !cJSON_IsObject(parsed))
        broken("a reply is not a JSON object", text);
    if (utf8_input && !valid_utf8(text, strlen(text)))
        broken("a reply is not valid UTF-8", text);
    cJSON_Delete(parsed);
}

static void check_name(const char *name)
{
    proto_buf b;
    cJSON *back;

    if (!name)
        return;
    proto_buf_init(&b, 16);
    proto_buf_str(&b, name);
    back = cJSON_Parse(proto_buf_text(&b));
    if (proto_buf_ok(&b) && (!cJSON_IsString(back) || strcmp(back->valuestring, name) != 0))
        broken("a name does not survive proto_buf_str", proto_buf_text(&b));
    cJSON_Delete(back);
    proto_buf_release(&b);
}

static void check_accepted(const proto_msg *m, int utf8_input)
{
    proto_buf b;
    ot_error oerr = {""};

    switch (m->action) {
    case PROTO_F: case PROTO_S: case PROTO_U: case PROTO_OP: case PROTO_NF: case PROTO_NT:
        if (!m->c || !m->d)
            broken("a document request without c or d", NULL);
        break;
    case PROTO_BF: case PROTO_BS: case PROTO_BU:
        if (!m->c || !m->bulk)
            broken("a bulk request without c or b", NULL);
        break;
    case PROTO_P: case PROTO_PS: case PROTO_PU: case PROTO_PR:
        if (!m->ch)
            broken("a presence message without a channel", NULL);
        break;
    default:
        break;
    }
    if ((m->has_v && (m->v < 0 || m->v > PROTO_MAX_SAFE)) || m->seq < 0 ||
        m->seq >= PROTO_MAX_SAFE || (m->has_ts && m->ts < 0))
        broken("a number out of range", NULL);
    if (m->action == PROTO_OP && m->kind == PROTO_EDIT && ot_check_op(m->op, &oerr) != 0)
        broken("an accepted edit the engine refuses", oerr.message);
    check_name(m->c);
    check_name(m->d);
    check_name(m->src);
    check_name(m->ch);
    if (m->action == PROTO_OP) {
        char *op = m->kind == PROTO_EDIT ? cJSON_PrintUnformatted(m->op) : strdup("{}");
        proto_buf_init(&b, 16);
        proto_emit_op(&b, m->c, m->d, m->has_v ? m->v : 0, m->src ? m->src : "s", m->seq,
                      m->kind, op);
        check_reply(&b, utf8_input);
        proto_buf_release(&b);
        free(op);
    }
    if (m->action == PROTO_P) {
        proto_buf_init(&b, 16);
        proto_emit_presence(&b, m->ch, "src", m->presence_id, m->presence, m->pv, "dev");
        check_reply(&b, utf8_input);
        proto_buf_release(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const proto_limits lim = {64, 8};
    int utf8_input = valid_utf8((const char *)data, size) && !memchr(data, 0, size);
    proto_msg msg;
    proto_error err = {NULL, ""};
    proto_buf b;

    if (proto_parse((const char *)data, size, &lim, &msg, &err) == 0) {
        check_accepted(&msg, utf8_input);
        err.code = PROTO_ERR_REJECTED;
        snprintf(err.message, sizeof err.message, "fuzz");
    } else if (!err.code || strncmp(err.code, "ERR_", 4) != 0) {
        broken("a refusal without an error code", err.message);
    }
    proto_buf_init(&b, 16);
    proto_emit_error(&b, msg.root, &err);
    check_reply(&b, utf8_input);
    if (proto_buf_ok(&b)) {
        cJSON *reply = cJSON_Parse(proto_buf_text(&b));
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")))
            broken("an error reply without error.code and error.message", proto_buf_text(&b));
        cJSON_Delete(reply);
    }
    proto_buf_release(&b);
    proto_msg_free(&msg);
    return 0;
}
