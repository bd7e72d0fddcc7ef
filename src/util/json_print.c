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

static void put_char(strbuf *b, char c)
{
    strbuf_put(b, &c, 1);
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

void json_print_string(strbuf *b, const char *s)
{
    put_char(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        strbuf_put(b, run, (size_t)(s - run));
        run = s + 1;
        char esc[8];
        switch (c) {
        case '"': strbuf_put(b, "\\\"", 2); break;
        case '\\': strbuf_put(b, "\\\\", 2); break;
        case '\b': strbuf_put(b, "\\b", 2); break;
        case '\f': strbuf_put(b, "\\f", 2); break;
        case '\n': strbuf_put(b, "\\n", 2); break;
        case '\r': strbuf_put(b, "\\r", 2); break;
        case '\t': strbuf_put(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            strbuf_put(b, esc, 6);
        }
    }
    strbuf_put(b, run, (size_t)(s - run));
    put_char(b, '"');
}

static void put_value(strbuf *b, const cJSON *v)
{
    char num[32];
    switch (v->type & 0xFF) {
    case cJSON_False: strbuf_put(b, "false", 5); break;
    case cJSON_True: strbuf_put(b, "true", 4); break;
    case cJSON_NULL: strbuf_put(b, "null", 4); break;
    case cJSON_Number: strbuf_put(b, num, (size_t)json_format_number(v->valuedouble, num)); break;
    case cJSON_String: json_print_string(b, v->valuestring ? v->valuestring : ""); break;
    case cJSON_Raw: strbuf_put(b, v->valuestring, strlen(v->valuestring)); break;
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
            json_print_string(b, c->string ? c->string : "");
            put_char(b, ':');
            put_value(b, c);
            if (c->next) put_char(b, ',');
        }
        put_char(b, '}');
        break;
    default:
        strbuf_put(b, "null", 4);
    }
}

void json_print_to(strbuf *b, const cJSON *v)
{
    if (v) put_value(b, v);
    else strbuf_put(b, "null", 4);
}

char *json_print_len(const cJSON *v, size_t *len)
{
    strbuf b = {0};
    json_print_to(&b, v);
    return strbuf_finish(&b, len);
}

char *json_print(const cJSON *v)
{
    return json_print_len(v, NULL);
}

/* Bytes each byte of a string takes in the printed literal (json_print_string). */
static size_t escaped_len(unsigned char c)
{
    switch (c) {
    case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t':
        return 2;
    default:
        return c < 0x20 ? 6 : 1;
    }
}

size_t json_string_len(const char *s)
{
    size_t n = 2;

    for (; *s; s++)
        n += escaped_len((unsigned char)*s);
    return n;
}

size_t json_printed_len(const cJSON *v)
{
    char num[32];
    size_t n;

    if (!v)
        return 4;
    switch (v->type & 0xFF) {
    case cJSON_False: return 5;
    case cJSON_True: return 4;
    case cJSON_Number: return (size_t)json_format_number(v->valuedouble, num);
    case cJSON_String: return json_string_len(v->valuestring ? v->valuestring : "");
    case cJSON_Raw: return strlen(v->valuestring);
    case cJSON_Array:
    case cJSON_Object:
        n = 2;
        for (const cJSON *c = v->child; c; c = c->next) {
            if ((v->type & 0xFF) == cJSON_Object)
                n += json_string_len(c->string ? c->string : "") + 1;
            n += json_printed_len(c) + (c->next ? 1 : 0);
        }
        return n;
    default:
        return 4;
    }
}
