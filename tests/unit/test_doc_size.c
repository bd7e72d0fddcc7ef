/*
 * Document sizes and size limits (src/doc/doc_size.h, doc_apply_limited): the size kept
 * op by op always equals the length of the document's JSON text (random ops of every
 * component kind, escapes and numbers included), and each limit refuses exactly what
 * passes it, changing nothing, with the sizes it names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "doc/doc.h"
#include "unit.h"
#include "util/json_print.h"

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

static size_t printed(const cJSON *v)
{
    char *t = json_print(v);
    size_t n = strlen(t);
    free(t);
    return n;
}

static void test_printed_len(void)
{
    const char *docs[] = {
        "null", "true", "false", "0", "-0", "0.1", "1e300", "123456789012345678",
        "\"\"", "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\"", "\"\xc3\xa4\xf0\x9f\x98\x80\"",
        "[]", "{}", "[1,[2,[3]],{}]", "{\"a\":1,\"b\\n\":[\"x\",null],\"\":{}}",
        "{\"k\\u0000ey\":\"v\"}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cJSON *v = parse(docs[i]);
        CHECK(json_printed_len(v) == printed(v));
        CHECK(doc_size_of(v) == printed(v));
        cJSON_Delete(v);
    }
    CHECK(json_string_len("a\"\n\x01") == 2 + 1 + 2 + 2 + 6);
}

/* A tiny deterministic generator (xorshift). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *texts[] = {"", "a", "xyz", "\"q\"", "\\", "line\nbreak", "\x01", "\xc3\xa4",
                              "tab\there"};

static cJSON *random_value(int depth)
{
    switch (next(depth > 2 ? 4 : 6)) {
    case 0: return cJSON_CreateNumber((double)next(100000) / (next(3) ? 1 : 7));
    case 1: return cJSON_CreateString(texts[next(sizeof texts / sizeof texts[0])]);
    case 2: return next(2) ? cJSON_CreateTrue() : cJSON_CreateNull();
    case 3: return cJSON_CreateString("");
    case 4: {
        cJSON *a = cJSON_CreateArray();
        for (unsigned i = next(3); i > 0; i--)
            cJSON_AddItemToArray(a, random_value(depth + 1));
        return a;
    }
    default: {
        cJSON *o = cJSON_CreateObject();
        for (unsigned i = next(3); i > 0; i--) {
            char k[16];
            snprintf(k, sizeof k, "k%u", next(5));
            if (!cJSON_GetObjectItemCaseSensitive(o, k))
                cJSON_AddItemToObject(o, k, random_value(depth + 1));
        }
        return o;
    }
    }
}

/* A random node of doc (container or not) and its path. */
static cJSON *random_node(cJSON *doc, cJSON *path)
{
    cJSON *cur = doc;
    while ((cJSON_IsArray(cur) || cJSON_IsObject(cur)) && cur->child && next(3)) {
        int n = cJSON_GetArraySize(cur), i = (int)next((unsigned)n);
        cJSON *child = cJSON_GetArrayItem(cur, i);
        if (cJSON_IsArray(cur))
            cJSON_AddItemToArray(path, cJSON_CreateNumber(i));
        else
            cJSON_AddItemToArray(path, cJSON_CreateString(child->string));
        cur = child;
    }
    return cur;
}

/* One random valid component on doc, or NULL. */
static cJSON *random_component(cJSON *doc)
{
    cJSON *path = cJSON_CreateArray();
    cJSON *node = random_node(doc, path), *c = cJSON_CreateObject();
    int n;

    cJSON_AddItemToObject(c, "p", path);
    if (cJSON_IsArray(node)) {
        n = cJSON_GetArraySize(node);
        int i = (int)next((unsigned)n + 1);
        cJSON_AddItemToArray(path, cJSON_CreateNumber(i));
        if (i < n && next(2)) {
            cJSON_AddItemToObject(c, "ld", cJSON_Duplicate(cJSON_GetArrayItem(node, i), 1));
            if (next(2))
                cJSON_AddItemToObject(c, "li", random_value(1));
        } else if (i < n && next(2)) {
            cJSON_AddNumberToObject(c, "lm", next((unsigned)n));
        } else {
            cJSON_AddItemToObject(c, "li", random_value(1));
        }
    } else if (cJSON_IsObject(node)) {
        char k[16];
        snprintf(k, sizeof k, "k%u", next(5));
        cJSON *old = cJSON_GetObjectItemCaseSensitive(node, k);
        cJSON_AddItemToArray(path, cJSON_CreateString(k));
        if (old)
            cJSON_AddItemToObject(c, "od", cJSON_Duplicate(old, 1));
        if (!old || next(2))
            cJSON_AddItemToObject(c, "oi", random_value(1));
    } else if (cJSON_IsString(node)) {
        size_t len = strlen(node->valuestring);
        /* ASCII-only offsets: every text here but the two-byte one is ASCII */
        if (len && next(2) && !strchr(node->valuestring, '\xc3')) {
            size_t at = next((unsigned)len);
            char del[64];
            snprintf(del, sizeof del, "%.*s", (int)(len - at < 3 ? len - at : 3), node->valuestring + at);
            cJSON_AddItemToArray(path, cJSON_CreateNumber((double)at));
            cJSON_AddStringToObject(c, "sd", del);
        } else {
            cJSON_AddItemToArray(path, cJSON_CreateNumber(0));
            cJSON_AddStringToObject(c, "si", texts[next(sizeof texts / sizeof texts[0])]);
        }
    } else if (cJSON_IsNumber(node)) {
        cJSON_AddNumberToObject(c, "na", (double)next(2000) - 1000.5);
    } else {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

static void test_size_follows_ops(void)
{
    doc_state d;
    cJSON *create = parse("{\"type\":\"json0\",\"data\":{\"a\":[],\"b\":{},\"s\":\"\"}}");
    ot_error err = {""};
    int applied = 0, mismatches = 0;

    doc_init(&d);
    CHECK(doc_apply(&d, DOC_OP_CREATE, create, &err) == DOC_OK);
    CHECK(d.size == printed(d.data));
    for (int i = 0; i < 20000; i++) {
        /* one component per op, so that each is valid on the document it meets */
        cJSON *op = cJSON_CreateArray(), *c = random_component(d.data);
        if (c)
            cJSON_AddItemToArray(op, c);
        if (doc_apply(&d, DOC_OP_EDIT, op, &err) == DOC_OK)
            applied++;
        if (d.size != printed(d.data))
            mismatches++;
        cJSON_Delete(op);
        if (d.size > 20000) {   /* keep it small: start over from a fresh object */
            doc_clear(&d);
            CHECK(doc_apply(&d, DOC_OP_CREATE, create, &err) == DOC_OK);
        }
    }
    CHECK(applied > 15000);
    CHECK(mismatches == 0);
    doc_clear(&d);
    cJSON_Delete(create);
}

/* Several components in one op: sizes follow each step, in order. */
static void test_size_multi_component(void)
{
    doc_state d;
    cJSON *create = parse("{\"data\":{\"chat\":[],\"t\":\"ab\",\"n\":9}}");
    cJSON *op = parse("[{\"p\":[\"chat\",0],\"li\":{\"text\":\"\"}},"
                      "{\"p\":[\"chat\",0,\"text\",0],\"si\":\"hi \\\"you\\\"\"},"
                      "{\"p\":[\"chat\",1],\"li\":7},{\"p\":[\"chat\",0],\"ld\":{\"text\":\"hi \\\"you\\\"\"}},"
                      "{\"p\":[\"n\"],\"na\":0.25},{\"p\":[\"t\",1],\"si\":\"\\n\"},"
                      "{\"p\":[\"x\"],\"oi\":[1,2]},{\"p\":[\"t\"],\"od\":\"a\\nb\"}]");
    ot_error err = {""};

    doc_init(&d);
    CHECK(doc_apply(&d, DOC_OP_CREATE, create, &err) == DOC_OK);
    CHECK(doc_apply(&d, DOC_OP_EDIT, op, &err) == DOC_OK);
    CHECK(d.size == printed(d.data));
    doc_clear(&d);
    cJSON_Delete(create);
    cJSON_Delete(op);
}

static void test_limits(void)
{
    doc_state d;
    cJSON *create = parse("{\"data\":{\"chat\":[],\"s\":\"\"}}");
    doc_limits lim = {.sheet = 100, .item = 30, .string = 20};
    doc_refusal why;
    ot_error err = {""};
    cJSON *op;
    size_t before;
    char *text, *after;

    doc_init(&d);
    CHECK(doc_apply(&d, DOC_OP_CREATE, create, &err) == DOC_OK);
    before = d.size;
    text = json_print(d.data);

    /* an item over 30 bytes */
    op = parse("[{\"p\":[\"chat\",0],\"li\":{\"text\":\"01234567890123456789\"}}]");
    memset(&why, 0, sizeof why);
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_ITEM && why.limit == 30 && why.size == 31 && why.component == 0);
    cJSON_Delete(op);
    /* a string over 20 bytes inside a small enough item */
    lim.item = 100;
    op = parse("[{\"p\":[\"chat\",0],\"li\":\"012345678901234567890\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_STRING && why.size == 21);
    cJSON_Delete(op);
    /* a string lengthened past 20 bytes by its second si; the first applied is undone */
    op = parse("[{\"p\":[\"s\",0],\"si\":\"0123456789\"},{\"p\":[\"s\",0],\"si\":\"01234567890\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_STRING && why.size == 21 && why.component == 1);
    cJSON_Delete(op);
    after = json_print(d.data);
    CHECK_STR(after, text);
    free(after);
    CHECK(d.size == before && d.v == 1);
    /* the sheet: 100 bytes; the document is 18, five items of 18 and four commas more */
    op = parse("[{\"p\":[\"chat\",0],\"li\":\"0123456789012345\"},{\"p\":[\"chat\",1],\"li\":\"0123456789012345\"},"
               "{\"p\":[\"chat\",2],\"li\":\"0123456789012345\"},{\"p\":[\"chat\",3],\"li\":\"0123456789012345\"},"
               "{\"p\":[\"chat\",4],\"li\":\"0123456789012345\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_SHEET && why.limit == 100 && why.size == before + 5 * 18 + 4 &&
          why.component == -1);
    CHECK(d.size == before);
    cJSON_Delete(op);
    /* the budget: at most 10 more bytes */
    lim.has_grow = 1;
    lim.grow = 10;
    op = parse("[{\"p\":[\"s\",0],\"si\":\"01234567890\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_GROW && why.limit == 10 && why.size == 11);
    cJSON_Delete(op);
    op = parse("[{\"p\":[\"s\",0],\"si\":\"0123456789\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_OK);
    CHECK(d.size == before + 10);
    cJSON_Delete(op);
    /* shrinking is never refused, not even with no budget left and beyond the sheet */
    lim.grow = 0;
    lim.sheet = 5;
    op = parse("[{\"p\":[\"s\",0],\"sd\":\"01234\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_OK);
    CHECK(d.size == before + 5);
    cJSON_Delete(op);
    /* a create beyond the sheet */
    doc_clear(&d);
    CHECK(doc_apply_limited(&d, DOC_OP_CREATE, create, &lim, &why, &err) == DOC_LIMIT);
    CHECK(why.kind == DOC_LIMIT_SHEET && !d.exists);
    /* the engine's own refusals stay DOC_OT */
    lim.sheet = 0;
    CHECK(doc_apply_limited(&d, DOC_OP_CREATE, create, &lim, &why, &err) == DOC_OK);
    op = parse("[{\"p\":[\"nope\",0],\"si\":\"x\"}]");
    CHECK(doc_apply_limited(&d, DOC_OP_EDIT, op, &lim, &why, &err) == DOC_OT);
    cJSON_Delete(op);
    free(text);
    doc_clear(&d);
    cJSON_Delete(create);
}

static void test_adopt(void)
{
    doc_state d;

    doc_init(&d);
    doc_adopt(&d, 7, parse("{\"a\":\"\\n\",\"b\":[1.5,true]}"));
    CHECK(d.v == 7 && d.exists && d.size == printed(d.data));
    doc_adopt(&d, 8, NULL);
    CHECK(!d.exists && d.size == 0);
    doc_clear(&d);
}

int main(void)
{
    RUN(test_printed_len);
    RUN(test_size_follows_ops);
    RUN(test_size_multi_component);
    RUN(test_limits);
    RUN(test_adopt);
    return unit_finish("test_doc_size");
}
