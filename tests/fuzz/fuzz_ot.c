/*
 * libFuzzer target for the json0 engine (src/ot/json0.h) and the `konsil ot` request
 * handler (src/ot/ot_request.h).
 *
 * Input: one selector byte, then up to three JSON texts separated by newlines; the
 * selector decides which text is the document and which two are the ops. The whole input (and each text on its own) also goes to
 * ot_request_handle. Besides crashes, leaks and sanitizer reports, the target aborts
 * when the engine breaks its own contract:
 *   - a request gets no answer, or one that is not {"result": ...} or {"error": "..."};
 *   - a function modifies its inputs;
 *   - a failed ot_apply changes the document;
 *   - an op that applied cannot be inverted, or its inverse does not restore the document;
 *   - two ops that applied one after the other compose into an op that does not give the
 *     same document;
 *   - two ops that each apply to the same document cannot be transformed against each
 *     other (delete payloads are checked when an op is applied, never by transform).
 * Inputs with duplicate object keys (which requests refuse, but cJSON parses) are run
 * for crashes and leaks only; the inverse and compose checks also skip ops with na, whose
 * floating-point sums are not exact. The transform check skips ops with a text0
 * component (json0 does not transform si/sd against text0 on one string, and what it
 * builds then may be refused) and inputs holding a number beyond 1e300 (the sum of two
 * adds, which transform writes into a delete payload, may overflow).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"
#include "util/json_util.h"
#include "ot/ot_request.h"

#define MAX_TEXTS 3

static void contract_broken(const char *what, const cJSON *a, const cJSON *b)
{
    char *ta = a ? cJSON_PrintUnformatted(a) : NULL;
    char *tb = b ? cJSON_PrintUnformatted(b) : NULL;
    fprintf(stderr, "contract broken: %s\n  %s\n  %s\n", what, ta ? ta : "-", tb ? tb : "-");
    free(ta);
    free(tb);
    abort();
}

/* Inputs the engine's exactness promises cover: every string well-formed UTF-8 and no
 * object with a key twice (documents built through checked ops always are). */
static int is_clean(const cJSON *v)
{
    const char *why = NULL;
    return !v || json_check_clean(v, &why) == 0;
}

static int has_number_add(const cJSON *op)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, op) {
        if (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "na"))
            return 1;
    }
    return 0;
}

static void check_answer(const char *text, size_t len)
{
    char *answer = ot_request_handle(text, len);
    if (!answer)
        contract_broken("ot_request_handle gave no answer", NULL, NULL);
    cJSON *parsed = cJSON_Parse(answer);
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(parsed, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(parsed, "error");
    int ok = cJSON_IsObject(parsed) && cJSON_GetArraySize(parsed) == 1 &&
             (result || (cJSON_IsString(error) && error->valuestring[0] != '\0'));
    if (!ok) {
        fprintf(stderr, "answer: %s\n", answer);
        contract_broken("answer is not {\"result\":...} or {\"error\":\"...\"}", NULL, NULL);
    }
    cJSON_Delete(parsed);
    free(answer);
}

/* Applies op to a copy of doc. Returns the new document, or NULL when refused (after
 * checking that the copy was left exactly as it was). */
static cJSON *apply_copy(const cJSON *doc, const cJSON *op)
{
    cJSON *copy = cJSON_Duplicate(doc, 1);
    if (!copy)
        return NULL;
    cJSON *const copy_before = copy;
    char *before = cJSON_PrintUnformatted(copy);
    ot_error err = {{0}};
    if (ot_apply(&copy, op, &err) == 0) {
        free(before);
        return copy;
    }
    char *after = cJSON_PrintUnformatted(copy);
    if (err.message[0] == '\0')
        contract_broken("ot_apply failed without a message", doc, op);
    if (copy != copy_before || !before || !after || strcmp(before, after) != 0)
        contract_broken("failed ot_apply changed the document", doc, op);
    free(before);
    free(after);
    cJSON_Delete(copy);
    return NULL;
}

static void check_transforms(const cJSON *a, const cJSON *b)
{
    ot_error err = {{0}};
    cJSON *left = ot_transform(a, b, OT_LEFT, &err);
    cJSON *right = ot_transform(b, a, OT_RIGHT, &err);
    cJSON_Delete(left);
    cJSON_Delete(right);
    /* The other two combinations, for coverage. */
    cJSON *t = ot_transform(a, b, OT_RIGHT, &err);
    cJSON_Delete(t);
    t = ot_transform(b, a, OT_LEFT, &err);
    cJSON_Delete(t);
}

/* apply(doc, a) and then its inverse gives doc back; apply(apply(doc, a), b) equals
 * apply(doc, compose(a, b)). */
static void check_apply_properties(const cJSON *doc, const cJSON *a, const cJSON *b, int exact)
{
    ot_error err = {{0}};
    cJSON *after_a = apply_copy(doc, a);
    if (!after_a)
        return;
    exact = exact && !has_number_add(a);
    if (exact) {
        cJSON *inverse = ot_invert(a, &err);
        if (!inverse)
            contract_broken("an op that applied cannot be inverted", doc, a);
        cJSON *restored = apply_copy(after_a, inverse);
        if (!restored || !json_equal(restored, doc))
            contract_broken("apply then invert does not restore the document", doc, a);
        cJSON_Delete(restored);
        cJSON_Delete(inverse);
    }
    cJSON *after_ab = b ? apply_copy(after_a, b) : NULL;
    if (after_ab && exact && !has_number_add(b)) {
        cJSON *composed = ot_compose(a, b, &err);
        if (!composed)
            contract_broken("two ops that applied in turn cannot be composed", a, b);
        cJSON *at_once = apply_copy(doc, composed);
        if (!at_once || !json_equal(at_once, after_ab))
            contract_broken("apply of compose differs from applying in turn", a, b);
        cJSON_Delete(at_once);
        cJSON_Delete(composed);
    }
    cJSON_Delete(after_ab);
    cJSON_Delete(after_a);
}

static int has_subtype(const cJSON *op)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, op) {
        if (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "t"))
            return 1;
    }
    return 0;
}

static int has_huge_number(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble > 1e300 || v->valuedouble < -1e300;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
        if (has_huge_number(c))
            return 1;
    return 0;
}

/* Two ops that each apply to doc are concurrent edits of it: transform must take them
 * in all four combinations, whatever their delete payloads say about each other. */
static void check_concurrent(const cJSON *doc, const cJSON *a, const cJSON *b, int exact)
{
    if (!exact || !doc || !a || !b || has_subtype(a) || has_subtype(b) ||
        has_huge_number(doc) || has_huge_number(a) || has_huge_number(b))
        return;
    cJSON *after_a = apply_copy(doc, a), *after_b = apply_copy(doc, b);
    if (after_a && after_b) {
        const cJSON *pairs[2][2] = {{a, b}, {b, a}};
        for (int i = 0; i < 2; i++) {
            for (int side = 0; side < 2; side++) {
                ot_error err = {{0}};
                cJSON *t = ot_transform(pairs[i][0], pairs[i][1], side ? OT_RIGHT : OT_LEFT, &err);
                if (!t) {
                    fprintf(stderr, "transform (%s): %s\n", side ? "right" : "left", err.message);
                    contract_broken("two ops valid on one document do not transform", pairs[i][0],
                                    pairs[i][1]);
                }
                cJSON_Delete(t);
            }
        }
    }
    cJSON_Delete(after_a);
    cJSON_Delete(after_b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_answer((const char *)data, size);
    if (size < 1)
        return 0;
    uint8_t selector = data[0];
    const char *rest = (const char *)data + 1;
    size_t rest_len = size - 1;

    cJSON *texts[MAX_TEXTS] = {NULL};
    char *printed[MAX_TEXTS] = {NULL};
    size_t start = 0;
    for (int i = 0; i < MAX_TEXTS && start <= rest_len; i++) {
        const char *nl = memchr(rest + start, '\n', rest_len - start);
        size_t end = (i == MAX_TEXTS - 1 || !nl) ? rest_len : (size_t)(nl - rest);
        check_answer(rest + start, end - start);
        texts[i] = cJSON_ParseWithLength(rest + start, end - start);
        printed[i] = texts[i] ? cJSON_PrintUnformatted(texts[i]) : NULL;
        start = end + 1;
    }

    /* The selector picks which text is the document and which are the ops. */
    static const int roles[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    const int *r = roles[selector % 6];
    const cJSON *doc = texts[r[0]], *a = texts[r[1]], *b = texts[r[2]];
    int exact = is_clean(doc) && is_clean(a) && is_clean(b);
    ot_error err = {{0}};

    for (int i = 0; i < MAX_TEXTS; i++) {
        if (texts[i])
            ot_check_op(texts[i], &err);
    }
    if (a) {
        cJSON *t = ot_invert(a, &err);
        cJSON_Delete(t);
        t = ot_normalize(a, &err);
        cJSON_Delete(t);
    }
    if (a && b) {
        check_transforms(a, b);
        cJSON *t = ot_compose(a, b, &err);
        cJSON_Delete(t);
    }
    if (doc && a)
        check_apply_properties(doc, a, b, exact);
    check_concurrent(doc, a, b, exact);

    for (int i = 0; i < MAX_TEXTS; i++) {
        if (!texts[i])
            continue;
        char *now = cJSON_PrintUnformatted(texts[i]);
        if (!now || !printed[i] || strcmp(now, printed[i]) != 0)
            contract_broken("an input was modified", texts[i], NULL);
        free(now);
        free(printed[i]);
        cJSON_Delete(texts[i]);
    }
    return 0;
}
