/*
 * Exact compact JSON printing; see json_print.h.
 * Strings are escaped as JSON.stringify does (quote, backslash, control characters) and
 * otherwise copied byte for byte, so valid UTF-8 stays as it is.
 */
#include "util/json_print.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out_buf {
    char *data;
    size_t len, cap;
    bool failed;
} out_buf;

static void reserve(out_buf *b, size_t more)
{
    if (b->failed || b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return;
    }
    b->data = grown;
    b->cap = cap;
}

static void put(out_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (b->failed) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_char(out_buf *b, char c)
{
    put(b, &c, 1);
}

int json_format_number(double d, char out[32])
{
    if (!isfinite(d)) {
        memcpy(out, "null", 5);
        return 4;
    }
    if (d == 0) {                 /* JSON.stringify(-0) is "0" too */
        memcpy(out, "0", 2);
        return 1;
    }
    int n = 0;
    for (int precision = 15; precision <= 17; precision++) {
        n = snprintf(out, 32, "%.*g", precision, d);
        if (strtod(out, NULL) == d) break;
    }
    return n;
}

static void put_string(out_buf *b, const char *s)
{
    put_char(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(b, run, (size_t)(s - run));
        run = s + 1;
        char esc[8];
        switch (c) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        }
    }
    put(b, run, (size_t)(s - run));
    put_char(b, '"');
}

static void put_value(out_buf *b, const cJSON *v)
{
    char num[32];
    switch (v->type & 0xFF) {
    case cJSON_False: put(b, "false", 5); break;
    case cJSON_True: put(b, "true", 4); break;
    case cJSON_NULL: put(b, "null", 4); break;
    case cJSON_Number: put(b, num, (size_t)json_format_number(v->valuedouble, num)); break;
    case cJSON_String: put_string(b, v->valuestring ? v->valuestring : ""); break;
    case cJSON_Raw: put(b, v->valuestring, strlen(v->valuestring)); break;
    case cJSON_Array:
        put_char(b, '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            put_value(b, c);
            if (c->next) put_char(b, ',');
        }
        put_char(b, ']');
        break;
    case cJSON_Object:
        put_char(b, '{');
        for (const cJSON *c = v->child; c; c = c->next) {
            put_string(b, c->string ? c->string : "");
            put_char(b, ':');
            put_value(b, c);
            if (c->next) put_char(b, ',');
        }
        put_char(b, '}');
        break;
    default:
        put(b, "null", 4);
    }
}

char *json_print_len(const cJSON *v, size_t *len)
{
    out_buf b = {0};
    if (v) put_value(&b, v);
    else put(&b, "null", 4);
    reserve(&b, 0);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    b.data[b.len] = '\0';
    if (len) *len = b.len;
    return b.data;
}

char *json_print(const cJSON *v)
{
    return json_print_len(v, NULL);
}
