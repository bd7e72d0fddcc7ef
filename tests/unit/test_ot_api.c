/*
 * Direct tests of the json0 C API (src/ot/json0.h, src/ot/ot_request.h) for what the
 * table-driven vectors cannot express: apply is all or nothing, the root can be
 * replaced, inputs are never modified and results never share nodes with them,
 * UTF-16 offsets around 4-byte UTF-8
 * characters, invalid UTF-8 and duplicate keys are refused, and every error carries a
 * message.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"
#include "ot/ot_request.h"
#include "unit.h"
#include "util/json_util.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* UTF-8 spellings of characters outside the Basic Multilingual Plane (two UTF-16 units). */
#define GRINNING "\xF0\x9F\x98\x80" /* U+1F600 */
#define G_CLEF   "\xF0\x9D\x84\x9E" /* U+1D11E */

/* Parses JSON text that the test itself wrote; a typo fails the test instead of crashing. */
static cJSON *parse(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!v) {
        fprintf(stderr, "  test input is not JSON: %s\n", text);
        unit_failed_checks++;
        v = cJSON_CreateNull();
    }
    return v;
}

static char *print(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

/* Applies op (JSON text) to doc (JSON text); returns the printed result or NULL on error. */
static char *apply_text(const char *doc_text, const char *op_text, ot_error *err)
{
    cJSON *doc = parse(doc_text);
    cJSON *op = parse(op_text);
    char *out = NULL;
    if (ot_apply(&doc, op, err) == 0)
        out = print(doc);
    cJSON_Delete(doc);
    cJSON_Delete(op);
    return out;
}

/* Sends raw bytes to ot_request_handle; returns the parsed answer (caller frees). */
static cJSON *request(const char *bytes, size_t len)
{
    char *answer = ot_request_handle(bytes, len);
    CHECK(answer != NULL);
    cJSON *parsed = answer ? cJSON_Parse(answer) : NULL;
    if (answer && !parsed)
        fprintf(stderr, "  answer is not JSON: %s\n", answer);
    CHECK(parsed != NULL);
    free(answer);
    return parsed;
}

/* 1 when the answer is {"error": non-empty string} and nothing else. */
static int is_error_answer(const cJSON *answer)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
    return cJSON_IsObject(answer) && cJSON_GetArraySize(answer) == 1 && cJSON_IsString(e) &&
           e->valuestring[0] != '\0';
}

static void check_request_refused(const char *bytes, size_t len)
{
    cJSON *answer = request(bytes, len);
    if (!is_error_answer(answer)) {
        char *got = print(answer);
        fprintf(stderr, "  expected an error for request %.*s\n  got %s\n", (int)len, bytes,
                got ? got : "(nothing)");
        free(got);
        unit_failed_checks++;
    }
    cJSON_Delete(answer);
}

#define REFUSED(literal) check_request_refused(literal, sizeof(literal) - 1)

/* ---- apply is all or nothing ----------------------------------------------------- */

#define LONG_TEXT "Schuldnerberatung: Gläubigerliste prüfen, Pfändungsschutzkonto beantragen, " \
                  "Haushaltsplan mit der Klientin aufstellen 😀 und Termine abstimmen."

static void apply_failing_on_third_component_changes_nothing(void)
{
    static const char *doc_text =
        "{\"n\":1,\"s\":\"ab\",\"l\":[1,2],\"o\":{\"k\":\"v\",\"a\":[true]},\"z\":null}";
    static const char *ops[] = {
        /* payload mismatch in the third component */
        "[{\"p\":[\"n\"],\"na\":1},{\"p\":[\"s\",0],\"si\":\"x\"},{\"p\":[\"s\",0],\"sd\":\"zz\"}]",
        /* index out of range after a list insert and delete */
        "[{\"p\":[\"l\",0],\"li\":\"a\"},{\"p\":[\"l\",0],\"ld\":\"a\"},{\"p\":[\"l\",5],\"ld\":1}]",
        /* oi on an existing key without od, after an insert and a delete */
        "[{\"p\":[\"new\"],\"oi\":1},{\"p\":[\"o\"],\"od\":{\"k\":\"v\",\"a\":[true]}},"
        "{\"p\":[\"n\"],\"oi\":2}]",
        /* na on a string after a move and a nested edit */
        "[{\"p\":[\"l\",0],\"lm\":1},{\"p\":[\"o\",\"a\",0],\"ld\":true,\"li\":false},"
        "{\"p\":[\"o\",\"k\"],\"na\":1}]",
        /* root replaced first, then an invalid component */
        "[{\"p\":[],\"od\":{\"n\":1,\"s\":\"ab\",\"l\":[1,2],\"o\":{\"k\":\"v\",\"a\":[true]},"
        "\"z\":null},\"oi\":[1]},{\"p\":[0],\"na\":1},{\"p\":[5],\"ld\":1}]",
        /* a malformed third component */
        "[{\"p\":[\"n\"],\"na\":1},{\"p\":[\"z\"],\"od\":null},{\"p\":[\"s\",0],\"si\":\"x\",\"q\":1}]",
        /* a text0 op whose third text component does not match */
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\"},{\"p\":3,\"i\":\"y\"},"
        "{\"p\":0,\"d\":\"q\"}]}]",
        /* a long delete, then a shorter insert into the same string, then a refusal: undoing
         * the delete needs the string's original room back */
        "[{\"p\":[\"s\",0],\"sd\":\"ab\"},{\"p\":[\"s\",0],\"si\":\"c\"},{\"p\":[\"s\",9],\"si\":\"d\"}]",
        /* a string grown in place by a long insert (the buffer moves), then edited again
         * (delete, insert: a new buffer), then a refusal */
        "[{\"p\":[\"s\",1],\"si\":\"" LONG_TEXT "\"},{\"p\":[\"s\",0],\"sd\":\"a\"},"
        "{\"p\":[\"s\",3],\"si\":\"q\"},{\"p\":[\"n\"],\"oi\":3}]",
        /* an insert, then a longer delete across it, then a refusal */
        "[{\"p\":[\"s\",1],\"si\":\"xy\"},{\"p\":[\"s\",0],\"sd\":\"axyb\"},{\"p\":[\"l\",9],\"li\":0}]",
    };
    for (size_t i = 0; i < COUNT(ops); i++) {
        cJSON *doc = parse(doc_text);
        cJSON *const before_ptr = doc;
        char *before = print(doc);
        cJSON *op = parse(ops[i]);
        ot_error err = {{0}};
        CHECK(ot_apply(&doc, op, &err) == -1);
        CHECK(err.message[0] != '\0');
        CHECK(doc == before_ptr);
        char *after = print(doc);
        CHECK_STR(after, before);
        free(before);
        free(after);
        cJSON_Delete(op);
        cJSON_Delete(doc);
    }
}

static void apply_can_replace_the_root(void)
{
    ot_error err = {{0}};
    char *out = apply_text("{\"a\":1}", "[{\"p\":[],\"od\":{\"a\":1},\"oi\":[1,2]}]", &err);
    CHECK_STR(out, "[1,2]");
    free(out);
    out = apply_text("\"abc\"", "[{\"p\":[1],\"si\":\"X\"}]", &err);
    CHECK_STR(out, "\"aXbc\"");
    free(out);
    out = apply_text("5", "[{\"p\":[],\"na\":2}]", &err);
    CHECK_STR(out, "7");
    free(out);
    out = apply_text("[1]", "[{\"p\":[],\"od\":[1],\"oi\":null},{\"p\":[],\"od\":null,\"oi\":{}}]",
                     &err);
    CHECK_STR(out, "{}");
    free(out);
}

/* ---- inputs are never modified, results never alias inputs --------------------------- */

static const char *const sample_ops[] = {
    "[]",
    "[{\"p\":[\"s\",1],\"si\":\"ab\"},{\"p\":[\"s\",2],\"si\":\"c\"}]",
    "[{\"p\":[\"s\",0],\"sd\":\"ab\"},{\"p\":[\"s\",0],\"sd\":\"c\"}]",
    "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\"},{\"p\":2,\"d\":\"b\"}]}]",
    "[{\"p\":[\"l\",1],\"lm\":0},{\"p\":[\"l\",0],\"ld\":\"b\",\"li\":{\"x\":[1]}}]",
    "[{\"p\":[\"n\"],\"na\":1},{\"p\":[\"n\"],\"na\":2}]",
    "[{\"p\":[\"o\",\"k\"],\"od\":\"v\"},{\"p\":[\"o\",\"k\"],\"oi\":\"w\"}]",
    "[{\"p\":[\"l\",0],\"li\":\"q\"},{\"p\":[\"l\",0],\"ld\":\"q\"}]",
    "[{\"p\":[\"o\"],\"od\":{\"k\":\"v\"}}]",
    "[{\"p\":[\"l\",0],\"ld\":\"a\"}]",
};

static void check_unchanged(const char *what, const cJSON *v, const char *before)
{
    char *after = print(v);
    if (!after || strcmp(after, before) != 0) {
        fprintf(stderr, "  %s modified its input: %s -> %s\n", what, before, after ? after : "?");
        unit_failed_checks++;
    }
    free(after);
}

static void no_function_modifies_its_inputs(void)
{
    for (size_t i = 0; i < COUNT(sample_ops); i++) {
        for (size_t j = 0; j < COUNT(sample_ops); j++) {
            cJSON *a = parse(sample_ops[i]);
            cJSON *b = parse(sample_ops[j]);
            char *a_text = print(a);
            char *b_text = print(b);
            ot_error err = {{0}};
            cJSON *r;

            ot_check_op(a, &err);
            check_unchanged("ot_check_op", a, a_text);
            r = ot_transform(a, b, OT_LEFT, &err);
            cJSON_Delete(r);
            check_unchanged("ot_transform left (op)", a, a_text);
            check_unchanged("ot_transform left (other)", b, b_text);
            r = ot_transform(a, b, OT_RIGHT, &err);
            cJSON_Delete(r);
            check_unchanged("ot_transform right (op)", a, a_text);
            check_unchanged("ot_transform right (other)", b, b_text);
            r = ot_compose(a, b, &err);
            cJSON_Delete(r);
            check_unchanged("ot_compose (op1)", a, a_text);
            check_unchanged("ot_compose (op2)", b, b_text);
            r = ot_invert(a, &err);
            cJSON_Delete(r);
            check_unchanged("ot_invert", a, a_text);
            r = ot_normalize(a, &err);
            cJSON_Delete(r);
            check_unchanged("ot_normalize", a, a_text);

            cJSON *doc = parse("{\"s\":\"abc\",\"l\":[\"a\",\"b\"],\"n\":0,\"o\":{\"k\":\"v\"}}");
            ot_apply(&doc, a, &err);
            cJSON_Delete(doc);
            check_unchanged("ot_apply (op)", a, a_text);

            free(a_text);
            free(b_text);
            cJSON_Delete(a);
            cJSON_Delete(b);
        }
    }
}

/* Results are trees of their own: changing or freeing them leaves the inputs intact. */
static void results_share_no_nodes_with_inputs(void)
{
    for (size_t i = 0; i < COUNT(sample_ops); i++) {
        cJSON *a = parse(sample_ops[i]);
        cJSON *empty = parse("[]");
        char *a_text = print(a);
        ot_error err = {{0}};
        cJSON *results[] = {
            ot_transform(a, empty, OT_LEFT, &err),
            ot_transform(empty, a, OT_RIGHT, &err),
            ot_compose(a, empty, &err),
            ot_compose(empty, a, &err),
            ot_normalize(a, &err),
            ot_invert(a, &err),
        };
        for (size_t k = 0; k < COUNT(results); k++) {
            CHECK(results[k] != NULL);
            CHECK(results[k] != a && results[k] != empty);
            if (results[k]) {
                /* Scribble over the result: every string and number it holds. */
                for (cJSON *c = results[k]->child; c; c = c->next) {
                    cJSON_DeleteItemFromObjectCaseSensitive(c, "p");
                    cJSON_AddStringToObject(c, "scribbled", "yes");
                }
                cJSON_AddItemToArray(results[k], cJSON_CreateNumber(42));
            }
            cJSON_Delete(results[k]);
        }
        check_unchanged("a result", a, a_text);
        check_unchanged("a result", empty, "[]");
        free(a_text);
        cJSON_Delete(a);
        cJSON_Delete(empty);
    }
}

/* ---- UTF-16 offsets over UTF-8 storage ---------------------------------------------- */

static void check_apply(const char *doc, const char *op, const char *expected /* NULL: refused */)
{
    ot_error err = {{0}};
    char *out = apply_text(doc, op, &err);
    if (expected) {
        if (!out || strcmp(out, expected) != 0)
            fprintf(stderr, "  apply(%s, %s): %s\n", doc, op, out ? out : err.message);
        CHECK_STR(out, expected);
    } else {
        if (out)
            fprintf(stderr, "  apply(%s, %s) should be refused, gave %s\n", doc, op, out);
        CHECK(out == NULL);
        CHECK(err.message[0] != '\0');
    }
    free(out);
}

static void utf16_offsets_around_four_byte_characters(void)
{
    /* "😀a𝄞": 9 UTF-8 bytes, 5 UTF-16 units; offsets 1 and 4 fall inside pairs. */
    const char *doc = "{\"s\":\"" GRINNING "a" G_CLEF "\"}";
    check_apply(doc, "[{\"p\":[\"s\",0],\"si\":\"x\"}]", "{\"s\":\"x" GRINNING "a" G_CLEF "\"}");
    check_apply(doc, "[{\"p\":[\"s\",1],\"si\":\"x\"}]", NULL);
    check_apply(doc, "[{\"p\":[\"s\",2],\"si\":\"x\"}]", "{\"s\":\"" GRINNING "xa" G_CLEF "\"}");
    check_apply(doc, "[{\"p\":[\"s\",3],\"si\":\"x\"}]", "{\"s\":\"" GRINNING "ax" G_CLEF "\"}");
    check_apply(doc, "[{\"p\":[\"s\",4],\"si\":\"x\"}]", NULL);
    check_apply(doc, "[{\"p\":[\"s\",5],\"si\":\"x\"}]", "{\"s\":\"" GRINNING "a" G_CLEF "x\"}");
    check_apply(doc, "[{\"p\":[\"s\",6],\"si\":\"x\"}]", NULL);
    check_apply(doc, "[{\"p\":[\"s\",0],\"sd\":\"" GRINNING "\"}]", "{\"s\":\"a" G_CLEF "\"}");
    check_apply(doc, "[{\"p\":[\"s\",2],\"sd\":\"a" G_CLEF "\"}]", "{\"s\":\"" GRINNING "\"}");
    check_apply(doc, "[{\"p\":[\"s\",3],\"sd\":\"" G_CLEF "\"}]", "{\"s\":\"" GRINNING "a\"}");
    check_apply(doc, "[{\"p\":[\"s\",1],\"sd\":\"a\"}]", NULL);
    check_apply(doc, "[{\"p\":[\"s\",3],\"sd\":\"" G_CLEF "x\"}]", NULL);
    check_apply(doc, "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":5,\"i\":\"!\"},{\"p\":0,\"d\":\""
                GRINNING "\"}]}]", "{\"s\":\"a" G_CLEF "!\"}");
    check_apply(doc, "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":4,\"i\":\"!\"}]}]", NULL);
    /* The same offsets written as JSON escapes of the pairs. */
    check_apply("{\"s\":\"\\ud83d\\ude00\"}", "[{\"p\":[\"s\",2],\"si\":\"\\ud834\\udd1e\"}]",
                "{\"s\":\"" GRINNING G_CLEF "\"}");
    /* Two- and three-byte characters count one unit each: "ü€\uFFFD". */
    check_apply("{\"s\":\"\xC3\xBC\xE2\x82\xAC\xEF\xBF\xBD\"}", "[{\"p\":[\"s\",2],\"si\":\"|\"}]",
                "{\"s\":\"\xC3\xBC\xE2\x82\xAC|\xEF\xBF\xBD\"}");
    check_apply("{\"s\":\"\xC3\xBC\xE2\x82\xAC\xEF\xBF\xBD\"}", "[{\"p\":[\"s\",3],\"si\":\"|\"}]",
                "{\"s\":\"\xC3\xBC\xE2\x82\xAC\xEF\xBF\xBD|\"}");
    check_apply("{\"s\":\"\xC3\xBC\xE2\x82\xAC\xEF\xBF\xBD\"}", "[{\"p\":[\"s\",4],\"si\":\"|\"}]",
                NULL);
    /* Transform counts the inserted emoji as two units. */
    cJSON *op = parse("[{\"p\":[\"s\",5],\"si\":\"x\"}]");
    cJSON *other = parse("[{\"p\":[\"s\",0],\"si\":\"" GRINNING G_CLEF "\"}]");
    ot_error err = {{0}};
    cJSON *t = ot_transform(op, other, OT_LEFT, &err);
    char *t_text = print(t);
    CHECK_STR(t_text, "[{\"p\":[\"s\",9],\"si\":\"x\"}]");
    free(t_text);
    cJSON_Delete(t);
    cJSON_Delete(op);
    cJSON_Delete(other);
}

/* ---- invalid UTF-8 ------------------------------------------------------------------- */

static void invalid_utf8_in_strings_is_refused(void)
{
    /* In the inserted text: a stray byte, an overlong "/", an encoded surrogate, a
     * truncated four-byte sequence, a code point above U+10FFFF. */
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"\xFF\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"\xC0\xAF\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"\xED\xA0\x80\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"\xF0\x9F\x98\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"\xF4\x90\x80\x80\"}]]}");
    /* In the string being edited, in an inserted value, in a key, in a delete payload. */
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"a\xFE\"},[{\"p\":[\"s\",0],\"si\":\"x\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{},[{\"p\":[\"k\"],\"oi\":\"\x80\"}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{},[{\"p\":[\"k\xC3\"],\"oi\":1}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[[],[{\"p\":[0],\"li\":[\"\xE2\x82\"]}]]}");
    REFUSED("{\"fn\":\"transform\",\"args\":[[{\"p\":[\"s\",0],\"si\":\"\xFF\"}],[],\"left\"]}");
    REFUSED("{\"fn\":\"invert\",\"args\":[[{\"p\":[\"s\",0],\"sd\":\"\xC0\x80\"}]]}");
    REFUSED("{\"fn\":\"compose\",\"args\":[[],[{\"p\":[\"s\",0],\"si\":\"\xED\xBF\xBF\"}]]}");

    /* Directly through the API: the document is left alone. */
    cJSON *doc = parse("{\"s\":\"ab\"}");
    cJSON *op = cJSON_Parse("[{\"p\":[\"s\",1],\"si\":\"\xC3\x28\"}]");
    CHECK(op != NULL); /* cJSON itself does not check UTF-8 */
    ot_error err = {{0}};
    CHECK(ot_apply(&doc, op, &err) == -1);
    CHECK(err.message[0] != '\0');
    char *after = print(doc);
    CHECK_STR(after, "{\"s\":\"ab\"}");
    free(after);
    cJSON_Delete(op);
    cJSON_Delete(doc);
}

/* ---- requests ------------------------------------------------------------------------ */

static void duplicate_keys_in_a_request_are_refused(void)
{
    REFUSED("{\"fn\":\"invert\",\"fn\":\"apply\",\"args\":[[]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"a\":1,\"a\":2},[{\"p\":[\"a\"],\"od\":1}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"a\":1},[{\"p\":[\"b\"],\"oi\":1,\"oi\":2}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"a\":1},[{\"p\":[\"b\"],\"p\":[\"c\"],\"oi\":1}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{},[{\"p\":[\"b\"],\"oi\":{\"x\":1,\"y\":{\"z\":1,\"z\":1}}}]]}");
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"a\"},[{\"p\":[\"s\"],\"t\":\"text0\","
            "\"o\":[{\"p\":0,\"i\":\"x\",\"i\":\"y\"}]}]]}");
    REFUSED("{\"fn\":\"transform\",\"args\":[[{\"p\":[0],\"li\":1,\"li\":2}],[],\"left\"]}");
    REFUSED("{\"fn\":\"compose\",\"args\":[[{\"p\":[\"n\"],\"na\":1,\"na\":1}],[]]}");
    /* A NUL would cut the string short in C: refused, escaped or raw. */
    REFUSED("{\"fn\":\"apply\",\"args\":[{\"s\":\"ab\"},[{\"p\":[\"s\",0],\"si\":\"Z\\u0000Y\"}]]}");
    /* The same requests without the duplicate are answered. */
    cJSON *answer = request("{\"fn\":\"apply\",\"args\":[{\"a\":1},[{\"p\":[\"b\"],\"oi\":1}]]}",
                            strlen("{\"fn\":\"apply\",\"args\":[{\"a\":1},[{\"p\":[\"b\"],\"oi\":1}]]}"));
    CHECK(cJSON_GetObjectItemCaseSensitive(answer, "result") != NULL);
    cJSON_Delete(answer);
}

static void every_request_gets_one_answer(void)
{
    static const char *refused[] = {
        "", " ", "nul", "{", "[]", "{}", "\"apply\"", "42",
        "{\"fn\":\"apply\"}",
        "{\"args\":[]}",
        "{\"fn\":\"nope\",\"args\":[]}",
        "{\"fn\":7,\"args\":[1,[]]}",
        "{\"fn\":\"apply\",\"args\":{}}",
        "{\"fn\":\"apply\",\"args\":[1]}",
        "{\"fn\":\"apply\",\"args\":[1,[],3]}",
        "{\"fn\":\"transform\",\"args\":[[],[]]}",
        "{\"fn\":\"transform\",\"args\":[[],[],\"middle\"]}",
        "{\"fn\":\"transform\",\"args\":[[],[],1]}",
        "{\"fn\":\"compose\",\"args\":[[]]}",
        "{\"fn\":\"invert\",\"args\":[]}",
        "{\"fn\":\"invert\",\"args\":[{}]}",
        "{\"fn\":\"apply\",\"args\":[{},[{\"p\":[\"a\"],\"oi\":\"\\ud800\"}]]}",
        "{\"fn\":\"apply\",\"args\":[{},[{\"p\":[\"a\"],\"oi\":1}]]} trailing",
    };
    for (size_t i = 0; i < COUNT(refused); i++)
        check_request_refused(refused[i], strlen(refused[i]));

    /* Deep nesting is refused, not a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    CHECK(deep != NULL);
    if (deep) {
        size_t n = (size_t)sprintf(deep, "{\"fn\":\"apply\",\"args\":[");
        for (size_t i = 0; i < depth; i++)
            deep[n++] = '[';
        for (size_t i = 0; i < depth; i++)
            deep[n++] = ']';
        n += (size_t)sprintf(deep + n, ",[]]}");
        check_request_refused(deep, n);
        free(deep);
    }

    /* The length is respected: bytes after len are not read. */
    const char *text = "{\"fn\":\"invert\",\"args\":[[]]}GARBAGE";
    cJSON *answer = request(text, strlen(text) - strlen("GARBAGE"));
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(answer, "result");
    CHECK(cJSON_IsArray(result) && cJSON_GetArraySize(result) == 0);
    CHECK(cJSON_GetArraySize(answer) == 1);
    cJSON_Delete(answer);
}

/* ---- errors carry a message ------------------------------------------------------------ */

static void errors_carry_a_message(void)
{
    cJSON *bad = parse("[{\"p\":[\"a\"],\"oi\":1,\"x\":1}]");
    cJSON *not_op = parse("{\"p\":[]}");
    cJSON *good = parse("[{\"p\":[\"a\"],\"oi\":1}]");
    ot_error err;

    memset(&err, 0, sizeof err);
    CHECK(ot_check_op(bad, &err) == -1 && err.message[0] != '\0');
    memset(&err, 0, sizeof err);
    CHECK(ot_check_op(not_op, &err) == -1 && err.message[0] != '\0');
    memset(&err, 0, sizeof err);
    CHECK(ot_check_op(good, &err) == 0);

    cJSON *doc = parse("{}");
    memset(&err, 0, sizeof err);
    CHECK(ot_apply(&doc, bad, &err) == -1 && err.message[0] != '\0');
    cJSON_Delete(doc);

    cJSON *results[] = {NULL, NULL, NULL, NULL, NULL, NULL};
    ot_error errs[6];
    memset(errs, 0, sizeof errs);
    results[0] = ot_transform(bad, good, OT_LEFT, &errs[0]);
    results[1] = ot_transform(good, bad, OT_RIGHT, &errs[1]);
    results[2] = ot_compose(good, bad, &errs[2]);
    results[3] = ot_invert(bad, &errs[3]);
    results[4] = ot_normalize(not_op, &errs[4]);
    cJSON *doc_copy = cJSON_Duplicate(good, 1);
    CHECK(ot_apply(&doc_copy, bad, &errs[5]) == -1);
    cJSON_Delete(doc_copy);
    for (int i = 0; i < 6; i++) {
        CHECK(results[i] == NULL);
        CHECK(errs[i].message[0] != '\0');
        CHECK(memchr(errs[i].message, '\0', OT_ERROR_MAX) != NULL);
        cJSON_Delete(results[i]);
    }
    cJSON_Delete(bad);
    cJSON_Delete(not_op);
    cJSON_Delete(good);
}

static void check_op_accepts_valid_and_refuses_malformed_ops(void)
{
    static const char *valid[] = {
        "[]",
        "[{\"p\":[],\"na\":1}]",
        "[{\"p\":[\"a\",0,\"b\"],\"oi\":{\"x\":[1]}}]",
        "[{\"p\":[0],\"ld\":1,\"li\":2},{\"p\":[1],\"lm\":0}]",
        "[{\"p\":[\"a\"],\"od\":null,\"oi\":false}]",
        "[{\"p\":[\"s\",0],\"si\":\"x\"},{\"p\":[\"s\",0],\"sd\":\"x\"}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\"},{\"p\":1,\"d\":\"y\"}]}]",
    };
    static const char *malformed[] = {
        "{}", "null", "[1]", "[[]]",
        "[{\"oi\":1}]",
        "[{\"p\":\"a\",\"oi\":1}]",
        "[{\"p\":[\"a\"]}]",
        "[{\"p\":[\"a\"],\"oi\":1,\"x\":1}]",
        "[{\"p\":[\"a\"],\"oi\":1,\"li\":1}]",
        "[{\"p\":[\"a\"],\"na\":1,\"od\":1}]",
        "[{\"p\":[\"0\"],\"li\":1}]",
        "[{\"p\":[0],\"oi\":1}]",
        "[{\"p\":[-1],\"li\":1}]",
        "[{\"p\":[1.5],\"ld\":1}]",
        "[{\"p\":[0],\"lm\":-1}]",
        "[{\"p\":[0],\"lm\":\"1\"}]",
        "[{\"p\":[\"n\"],\"na\":\"1\"}]",
        "[{\"p\":[\"s\",\"1\"],\"si\":\"x\"}]",
        "[{\"p\":[\"s\",0],\"si\":1}]",
        "[{\"p\":[\"s\",0],\"si\":\"x\",\"sd\":\"y\"}]",
        "[{\"p\":[\"s\"],\"t\":\"rich-text\",\"o\":[]}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":{}}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":-1,\"i\":\"x\"}]}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0}]}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\",\"d\":\"y\"}]}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\",\"q\":1}]}]",
        "[{\"p\":[\"__proto__\"],\"oi\":1}]",
        "[{\"p\":[\"a\",\"constructor\",\"b\"],\"oi\":1}]",
        "[{\"p\":[\"prototype\",0],\"li\":1}]",
    };
    for (size_t i = 0; i < COUNT(valid); i++) {
        cJSON *op = parse(valid[i]);
        ot_error err = {{0}};
        if (ot_check_op(op, &err) != 0) {
            fprintf(stderr, "  ot_check_op refuses %s: %s\n", valid[i], err.message);
            unit_failed_checks++;
        }
        cJSON_Delete(op);
    }
    for (size_t i = 0; i < COUNT(malformed); i++) {
        cJSON *op = parse(malformed[i]);
        ot_error err = {{0}};
        if (ot_check_op(op, &err) != -1 || err.message[0] == '\0') {
            fprintf(stderr, "  ot_check_op accepts %s\n", malformed[i]);
            unit_failed_checks++;
        }
        cJSON_Delete(op);
    }
}

/* ---- apply then invert restores the document ------------------------------------------ */

static void apply_then_invert_restores_the_document(void)
{
    static const char *doc_text =
        "{\"s\":\"Gr\xC3\xBC\xC3\x9F" "e " GRINNING "\",\"l\":[\"a\",{\"k\":[1]},\"c\"],\"n\":3,"
        "\"o\":{\"x\":null}}";
    static const char *ops[] = {
        "[{\"p\":[\"s\",5],\"sd\":\"" " " GRINNING "\"},{\"p\":[\"s\",0],\"si\":\"\xC3\x84\"}]",
        "[{\"p\":[\"l\",1,\"k\",0],\"ld\":1},{\"p\":[\"l\",0],\"lm\":2},{\"p\":[\"l\",3],\"li\":[]}]",
        "[{\"p\":[\"o\",\"x\"],\"od\":null},{\"p\":[\"o\",\"y\"],\"oi\":{\"z\":\"\"}},"
        "{\"p\":[\"o\",\"y\",\"z\",0],\"si\":\"q\"}]",
        "[{\"p\":[\"s\"],\"t\":\"text0\",\"o\":[{\"p\":8,\"i\":\"!\"},{\"p\":0,\"d\":\"Gr\"}]}]",
        "[{\"p\":[],\"od\":{\"s\":\"Gr\xC3\xBC\xC3\x9F" "e " GRINNING "\",\"l\":[\"a\",{\"k\":[1]},"
        "\"c\"],\"n\":3,\"o\":{\"x\":null}},\"oi\":\"neu\"},{\"p\":[3],\"si\":\"!\"}]",
    };
    for (size_t i = 0; i < COUNT(ops); i++) {
        cJSON *doc = parse(doc_text);
        cJSON *original = parse(doc_text);
        cJSON *op = parse(ops[i]);
        ot_error err = {{0}};
        if (ot_apply(&doc, op, &err) != 0) {
            fprintf(stderr, "  apply(%s): %s\n", ops[i], err.message);
            unit_failed_checks++;
        } else {
            cJSON *inverse = ot_invert(op, &err);
            CHECK(inverse != NULL);
            CHECK(inverse && ot_apply(&doc, inverse, &err) == 0);
            if (!json_equal(doc, original)) {
                char *got = print(doc);
                fprintf(stderr, "  apply+invert of %s gives %s\n", ops[i], got);
                free(got);
                unit_failed_checks++;
            }
            cJSON_Delete(inverse);
        }
        cJSON_Delete(op);
        cJSON_Delete(doc);
        cJSON_Delete(original);
    }
}

int main(void)
{
    RUN(apply_failing_on_third_component_changes_nothing);
    RUN(apply_can_replace_the_root);
    RUN(no_function_modifies_its_inputs);
    RUN(results_share_no_nodes_with_inputs);
    RUN(utf16_offsets_around_four_byte_characters);
    RUN(invalid_utf8_in_strings_is_refused);
    RUN(duplicate_keys_in_a_request_are_refused);
    RUN(every_request_gets_one_answer);
    RUN(errors_carry_a_message);
    RUN(check_op_accepts_valid_and_refuses_malformed_ops);
    RUN(apply_then_invert_restores_the_document);
    int status = unit_finish("test_ot_api");
    fflush(stdout); /* keep the closing line even if LeakSanitizer ends the process */
    return status;
}
