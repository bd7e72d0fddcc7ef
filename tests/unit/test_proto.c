/*
 * Unit tests for src/proto: parsing and validating client messages, building server
 * messages, the output buffer and UTF-8 repair.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "unit.h"

static const proto_limits lim = {64, 4};

static int parse(const char *text, proto_msg *m, proto_error *err)
{
    memset(err, 0, sizeof *err);
    return proto_parse(text, strlen(text), &lim, m, err);
}

/* Parses text expecting a refusal with code; frees everything. */
static void refused(const char *text, const char *code)
{
    proto_msg m;
    proto_error err;

    CHECK(parse(text, &m, &err) == -1);
    CHECK_STR(err.code, code);
    CHECK(strlen(err.message) > 0);
    proto_msg_free(&m);
}

static void test_handshake(void)
{
    proto_msg m;
    proto_error err;

    CHECK(parse("{\"a\":\"hs\",\"id\":null,\"protocol\":1,\"protocolMinor\":2}", &m, &err) == 0);
    CHECK(m.action == PROTO_HS);
    CHECK(m.hs_id == NULL);
    proto_msg_free(&m);
    CHECK(parse("{\"a\":\"hs\",\"id\":\"abc\",\"protocol\":\"1\"}", &m, &err) == 0);
    CHECK_STR(m.hs_id, "abc");
    proto_msg_free(&m);
    refused("{\"a\":\"hs\",\"id\":5}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"hs\",\"protocol\":{}}", PROTO_ERR_BADLY_FORMED);
}

static void test_documents(void)
{
    proto_msg m;
    proto_error err;

    CHECK(parse("{\"a\":\"s\",\"c\":\"cases\",\"d\":\"x\",\"v\":7}", &m, &err) == 0);
    CHECK(m.action == PROTO_S && m.has_v && m.v == 7);
    CHECK_STR(m.c, "cases");
    CHECK_STR(m.d, "x");
    proto_msg_free(&m);
    CHECK(parse("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\",\"v\":null}", &m, &err) == 0);
    CHECK(!m.has_v);
    proto_msg_free(&m);
    refused("{\"a\":\"f\",\"c\":\"cases\"}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"\"}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"constructor\"}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\",\"v\":-1}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\",\"v\":2.5}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\",\"v\":1e300}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"f\",\"c\":\"cases\",\"d\":"
            "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
            PROTO_ERR_BADLY_FORMED);
}

static void test_ops(void)
{
    proto_msg m;
    proto_error err;

    CHECK(parse("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"v\":3,\"seq\":4,\"src\":\"s\","
                "\"op\":[{\"p\":[\"t\",0],\"si\":\"a\"}]}", &m, &err) == 0);
    CHECK(m.kind == PROTO_EDIT && m.seq == 4 && m.v == 3);
    CHECK_STR(m.src, "s");
    CHECK(cJSON_IsArray(m.op));
    proto_msg_free(&m);
    CHECK(parse("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,"
                "\"create\":{\"type\":\"http://sharejs.org/types/JSONv0\"}}", &m, &err) == 0);
    CHECK(m.kind == PROTO_CREATE && !m.has_v && m.create_data == NULL);
    proto_msg_free(&m);
    CHECK(parse("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"v\":0,\"seq\":1,\"del\":true}", &m,
                &err) == 0);
    CHECK(m.kind == PROTO_DEL);
    proto_msg_free(&m);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"v\":0,\"op\":[]}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":9007199254740991,\"op\":[]}",
            PROTO_ERR_SEQ_OVERFLOW);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"op\":{}}", PROTO_ERR_OT_BADLY_FORMED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"op\":[{\"p\":[{}],\"si\":\"a\"}]}",
            PROTO_ERR_REJECTED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"src\":3,\"op\":[]}",
            PROTO_ERR_OT_BADLY_FORMED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"create\":{\"type\":\"text\"}}",
            PROTO_ERR_TYPE_UNKNOWN);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"create\":{}}",
            PROTO_ERR_OT_BADLY_FORMED);
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"seq\":1,\"del\":\"yes\"}",
            PROTO_ERR_OT_BADLY_FORMED);
}

static void test_nul_is_refused(void)
{
    /* cJSON would cut "Z\u0000Y" to "Z": the server and the clients would disagree. */
    refused("{\"a\":\"op\",\"c\":\"cases\",\"d\":\"x\",\"v\":1,\"seq\":1,"
            "\"op\":[{\"p\":[\"s\",0],\"si\":\"Z\\u0000Y\"}]}", "ERR_MESSAGE_BADLY_FORMED");
}

static void test_other_actions(void)
{
    proto_msg m;
    proto_error err;

    CHECK(parse("{\"a\":\"bs\",\"c\":\"cases\",\"b\":{\"x\":1,\"y\":null}}", &m, &err) == 0);
    CHECK(cJSON_IsObject(m.bulk));
    proto_msg_free(&m);
    refused("{\"a\":\"bs\",\"c\":\"cases\",\"b\":[\"x\",\"x\"]}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"bf\",\"c\":\"cases\",\"b\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", PROTO_ERR_LIMIT);
    refused("{\"a\":\"bu\",\"c\":\"cases\",\"b\":{\"x\":1}}", PROTO_ERR_BADLY_FORMED);
    CHECK(parse("{\"a\":\"nt\",\"id\":3,\"c\":\"cases\",\"d\":\"x\",\"ts\":1700}", &m, &err) == 0);
    CHECK(m.has_ts && m.ts == 1700 && cJSON_IsNumber(m.req_id));
    proto_msg_free(&m);
    refused("{\"a\":\"nf\",\"c\":\"cases\",\"d\":\"x\"}", PROTO_ERR_BADLY_FORMED);
    CHECK(parse("{\"a\":\"p\",\"ch\":\"x\",\"id\":\"me\",\"p\":{\"i\":1},\"pv\":2}", &m, &err) == 0);
    CHECK(!m.doc_presence && cJSON_IsObject(m.presence));
    proto_msg_free(&m);
    refused("{\"a\":\"p\",\"ch\":\"x\",\"id\":\"me\",\"p\":1}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"ps\",\"ch\":\"x\"}", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"qf\",\"id\":\"1\",\"c\":\"cases\"}", PROTO_ERR_BADLY_FORMED);
    refused("not json", PROTO_ERR_BADLY_FORMED);
    refused("[]", PROTO_ERR_BADLY_FORMED);
    refused("{\"a\":\"nope\"}", PROTO_ERR_BADLY_FORMED);
}

static void test_emit(void)
{
    proto_buf b;
    proto_error err = {PROTO_ERR_NEWER, "too new"};
    proto_msg m;
    cJSON *pv = cJSON_CreateNumber(3);

    proto_buf_init(&b, 16);
    proto_emit_init(&b, 1, "id1");
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"hs\",\"protocol\":1,\"protocolMinor\":2,\"id\":\"id1\","
                                  "\"type\":\"http://sharejs.org/types/JSONv0\"}");
    proto_buf_release(&b);

    proto_emit_op(&b, "cases", "d", 4, "s", 9, PROTO_EDIT, "[{\"p\":[\"n\"],\"na\":1}]");
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":4,\"src\":\"s\","
                                  "\"seq\":9,\"op\":[{\"p\":[\"n\"],\"na\":1}]}");
    proto_buf_release(&b);
    proto_emit_op(&b, "cases", "d", 5, "s", 10, PROTO_DEL, NULL);
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":5,\"src\":\"s\","
                                  "\"seq\":10,\"del\":true}");
    proto_buf_release(&b);
    proto_emit_ack(&b, "cases", "d", "s", 9, 4);
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"src\":\"s\",\"seq\":9,\"v\":4}");
    proto_buf_release(&b);
    proto_emit_snapshot_reply(&b, PROTO_S, "cases", "d", 2, 1, "{\"x\":1}");
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\",\"data\":{\"v\":2,\"data\":{\"x\":1}}}");
    proto_buf_release(&b);
    proto_emit_snapshot_reply(&b, PROTO_F, "cases", "d", 0, 0, NULL);
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\",\"data\":{\"v\":0,\"type\":null}}");
    proto_buf_release(&b);
    proto_emit_presence(&b, "ch", "src", "me", NULL, pv, "alice");
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"p\",\"ch\":\"ch\",\"src\":\"src\",\"id\":\"me\",\"p\":null,\"pv\":3,"
                                  "\"u\":{\"id\":\"alice\"}}");
    proto_buf_release(&b);
    proto_emit_bulk_open(&b, PROTO_BF, "cases");
    proto_emit_bulk_item(&b, 1, "a", 1, 1, "2");
    proto_emit_bulk_item_error(&b, 0, "b", &err);
    proto_emit_bulk_close(&b);
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"bf\",\"c\":\"cases\",\"data\":{\"a\":{\"v\":1,\"data\":2},"
                                  "\"b\":{\"error\":{\"code\":\"ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT\","
                                  "\"message\":\"too new\"}}}}");
    proto_buf_release(&b);

    /* An error echoes the request with error set, replacing one the client sent. */
    CHECK(parse("{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\",\"error\":1}", &m, &err) == 0);
    err.code = PROTO_ERR_FORBIDDEN;
    strcpy(err.message, "no");
    proto_emit_error(&b, m.root, &err);
    CHECK_STR(proto_buf_text(&b), "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x\","
                                  "\"error\":{\"code\":\"ERR_FORBIDDEN\",\"message\":\"no\"}}");
    proto_buf_release(&b);
    proto_msg_free(&m);
    proto_emit_error(&b, NULL, &err);
    CHECK_STR(proto_buf_text(&b), "{\"error\":{\"code\":\"ERR_FORBIDDEN\",\"message\":\"no\"}}");
    proto_buf_release(&b);
    cJSON_Delete(pv);
}

static void test_buffer(void)
{
    proto_buf b;
    char *mem;
    long len;

    proto_buf_init(&b, 16);
    proto_buf_str(&b, "q\"b\\s\n\x01 ä😀");
    CHECK_STR(proto_buf_text(&b), "\"q\\\"b\\\\s\\n\\u0001 ä😀\"");
    proto_buf_i64(&b, -42);
    len = proto_buf_take(&b, 8, &mem);
    CHECK(len == (long)strlen("\"q\\\"b\\\\s\\n\\u0001 ä😀\"-42"));
    CHECK(memcmp(mem + 8 + 16, "\"q\\\"", 4) == 0);
    CHECK(mem[8 + 16 + len] == '\0');
    free(mem);
    CHECK(proto_buf_text(&b)[0] == '\0');
    proto_buf_init(&b, 0);
    proto_buf_i64(&b, 0);
    proto_buf_lit(&b, " ");
    proto_buf_i64(&b, 9007199254740991);
    proto_buf_lit(&b, " ");
    proto_buf_i64(&b, INT64_MIN);
    proto_buf_lit(&b, " ");
    proto_buf_i64(&b, INT64_MAX);
    CHECK_STR(proto_buf_text(&b),
              "0 9007199254740991 -9223372036854775808 9223372036854775807");
    proto_buf_release(&b);
}

static void test_utf8_repair(void)
{
    char cut[] = "ab\xf0\x9f\x98";          /* an emoji cut off after three bytes */
    char bad[] = "a\xff" "b\xc0\x80" "c";   /* a stray byte and an overlong NUL */
    char surrogate[] = "\xed\xa0\x80x";     /* an encoded UTF-16 surrogate */
    char fine[] = "ä😀";

    proto_utf8_repair(cut);
    CHECK_STR(cut, "ab");
    proto_utf8_repair(bad);
    CHECK_STR(bad, "a?b??c");
    proto_utf8_repair(surrogate);
    CHECK_STR(surrogate, "???x");
    proto_utf8_repair(fine);
    CHECK_STR(fine, "ä😀");
}

int main(void)
{
    RUN(test_handshake);
    RUN(test_documents);
    RUN(test_ops);
    RUN(test_nul_is_refused);
    RUN(test_other_actions);
    RUN(test_emit);
    RUN(test_buffer);
    RUN(test_utf8_repair);
    return unit_finish("test_proto");
}
