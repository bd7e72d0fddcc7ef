/*
 * cJSON helpers; see json_util.h.
 * Duplicate-key detection stays O(n log n) per object so a large hostile object cannot
 * turn a check into a quadratic scan.
 */
#include "util/json_util.h"

#include "util/utf16.h"

#include <stdlib.h>
#include <string.h>

static int count_children(const cJSON *v)
{
    int n = 0;
    for (const cJSON *c = v->child; c; c = c->next) n++;
    return n;
}

bool json_equal(const cJSON *a, const cJSON *b)
{
    if (a == b) return true;
    if (!a || !b) return false;
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb) return false;
    switch (ta) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
        return true;
    case cJSON_Number:
        return a->valuedouble == b->valuedouble;
    case cJSON_String:
        return a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!json_equal(x, y)) return false;
        return x == NULL && y == NULL;
    }
    case cJSON_Object: {
        if (count_children(a) != count_children(b)) return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !json_equal(x, y)) return false;
        }
        return true;
    }
    default:
        return false;
    }
}

static int compare_keys(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return strcmp(a->string ? a->string : "", b->string ? b->string : "");
}

static bool object_has_duplicate_keys(const cJSON *obj)
{
    int n = count_children(obj);
    if (n < 2) return false;
    if (n <= 16) {
        for (const cJSON *x = obj->child; x; x = x->next)
            for (const cJSON *y = x->next; y; y = y->next)
                if (x->string && y->string && strcmp(x->string, y->string) == 0) return true;
        return false;
    }
    const cJSON **keys = malloc(sizeof *keys * (size_t)n);
    if (!keys) return true; /* cannot prove it unambiguous: refuse */
    int i = 0;
    for (const cJSON *x = obj->child; x; x = x->next) keys[i++] = x;
    qsort(keys, (size_t)n, sizeof *keys, compare_keys);
    bool dup = false;
    for (i = 1; i < n && !dup; i++) dup = compare_keys(&keys[i - 1], &keys[i]) == 0;
    free(keys);
    return dup;
}

int json_depth(const cJSON *v)
{
    if (!v || !(json_is_object(v) || json_is_array(v))) return 0;
    int deepest = 0;
    for (const cJSON *c = v->child; c; c = c->next) {
        int d = json_depth(c);
        if (d > deepest) deepest = d;
    }
    return deepest + 1;
}

static bool valid_text(const char *s)
{
    return s && utf16_valid_utf8(s, strlen(s));
}

int json_check_clean(const cJSON *v, const char **why)
{
    if (!v) return 0;
    if (json_is_string(v) && !valid_text(v->valuestring)) {
        *why = "a string is not valid UTF-8";
        return -1;
    }
    if (json_is_object(v)) {
        if (object_has_duplicate_keys(v)) {
            *why = "an object has the same key twice";
            return -1;
        }
        for (const cJSON *c = v->child; c; c = c->next) {
            if (!valid_text(c->string)) {
                *why = "an object key is not valid UTF-8";
                return -1;
            }
        }
    }
    if (json_is_object(v) || json_is_array(v))
        for (const cJSON *c = v->child; c; c = c->next)
            if (json_check_clean(c, why) != 0) return -1;
    return 0;
}

bool json_text_has_nul(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0') return true;
        if (text[i] != '\\' || i + 1 >= len) continue;
        if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0) return true;
        i++;    /* skip the escaped character, so an escaped backslash is just text */
    }
    return false;
}
