/*
 * Document sizes and size limits (see doc_size.h). The size of a document is the length
 * of json_print()'s text of it; each component changes it by exactly what it inserts or
 * removes, commas included:
 *
 *   li / oi alone   + the value (and for oi its key: "key":), + a comma when the
 *                   container now holds more than the new child
 *   ld / od alone   - the same, the comma when the container still holds a child
 *   li+ld, oi+od    + the new value - the old one (the key and commas stay)
 *   si / sd, text0  +/- the inserted or deleted text as it prints (escapes included)
 *   na              the printed length of the number after - before
 *   lm              nothing
 *
 * Delete payloads are exactly what they delete (the engine compares them), so their size
 * is the size removed. Invariant: after every applied op, size == json_printed_len(doc).
 */
#include "doc/doc_size.h"

#include <stdio.h>
#include <string.h>

#include "util/json_print.h"

size_t doc_size_of(const cJSON *v)
{
    return json_printed_len(v);
}

/* The longest string in v (values and keys), in bytes. */
static size_t longest_string(const cJSON *v)
{
    size_t n = 0, m;

    if (cJSON_IsString(v) && v->valuestring)
        return strlen(v->valuestring);
    for (const cJSON *c = v->child; c; c = c->next) {
        m = longest_string(c);
        if (c->string && strlen(c->string) > m)
            m = strlen(c->string);
        if (m > n)
            n = m;
    }
    return n;
}

static int refuse(doc_size_watch_state *w, doc_limit_kind kind, size_t limit, size_t size,
                  ot_error *err)
{
    w->why.kind = kind;
    w->why.limit = limit;
    w->why.size = size;
    w->why.component = kind == DOC_LIMIT_SHEET || kind == DOC_LIMIT_GROW ? -1 : w->index;
    snprintf(err->message, sizeof err->message, "size limit");
    return -1;
}

static const cJSON *field(const cJSON *c, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(c, name);
}

/* The printed length of a string's text without its quotes. */
static int64_t text_len(const cJSON *s)
{
    return cJSON_IsString(s) ? (int64_t)json_string_len(s->valuestring) - 2 : 0;
}

/* 1 when the container holds at least n children. */
static int holds(const cJSON *container, int n)
{
    const cJSON *c = container ? container->child : NULL;

    for (; c && n > 0; c = c->next)
        n--;
    return n == 0;
}

/* A value inserted by a component: within the item and string limits; its size. */
static int inserted(doc_size_watch_state *w, const cJSON *value, int64_t *size, ot_error *err)
{
    const doc_limits *lim = w->limits;
    size_t n = doc_size_of(value), longest;

    if (lim && lim->item && n > lim->item)
        return refuse(w, DOC_LIMIT_ITEM, lim->item, n, err);
    if (lim && lim->string && (longest = longest_string(value)) > lim->string)
        return refuse(w, DOC_LIMIT_STRING, lim->string, longest, err);
    *size = (int64_t)n;
    return 0;
}

/* The last element of the component's path: the key of an oi/od. */
static const char *key_of(const cJSON *c)
{
    const cJSON *p = field(c, "p");
    const cJSON *last = p && p->child ? p->child->prev : NULL;

    return cJSON_IsString(last) ? last->valuestring : NULL;
}

static int component(doc_size_watch_state *w, const ot_applied *a, ot_error *err)
{
    const cJSON *c = a->component;
    const cJSON *li = field(c, "li"), *ld = field(c, "ld"), *oi = field(c, "oi"),
                *od = field(c, "od");
    const doc_limits *lim = w->limits;
    int64_t in = 0, out = 0, d = 0;

    if (li || oi) {
        if (inserted(w, li ? li : oi, &in, err) != 0)
            return -1;
    }
    if (ld || od)
        out = (int64_t)doc_size_of(ld ? ld : od);
    if (li || ld) {
        d = in - out;
        if (li && !ld)
            d += holds(a->container, 2);
        else if (ld && !li)
            d -= holds(a->container, 1);
    } else if (oi || od) {
        const char *key = key_of(c);
        int64_t k = key ? (int64_t)json_string_len(key) + 1 : 0;
        d = in - out;
        if (oi && !od)
            d += k + holds(a->container, 2);
        else if (od && !oi)
            d -= k + holds(a->container, 1);
    } else if (field(c, "si") || field(c, "sd")) {
        d = field(c, "si") ? text_len(field(c, "si")) : -text_len(field(c, "sd"));
    } else if (field(c, "t")) {
        const cJSON *tc;
        cJSON_ArrayForEach(tc, field(c, "o"))
            d += field(tc, "i") ? text_len(field(tc, "i")) : -text_len(field(tc, "d"));
    } else if (field(c, "na") && cJSON_IsNumber(a->value)) {
        char num[32];
        d = (int64_t)json_format_number(a->value->valuedouble, num) -
            (int64_t)json_format_number(a->number_before, num);
    }
    /* A string an edit lengthened stays within the string limit. */
    if (d > 0 && lim && lim->string && cJSON_IsString(a->value) &&
        strlen(a->value->valuestring) > lim->string)
        return refuse(w, DOC_LIMIT_STRING, lim->string, strlen(a->value->valuestring), err);
    w->delta += d;
    return 0;
}

int doc_size_watch(void *arg, const ot_applied *applied, ot_error *err)
{
    doc_size_watch_state *w = arg;
    const doc_limits *lim = w->limits;
    size_t after;

    if (applied->component) {
        int rc = component(w, applied, err);
        w->index++;
        return rc;
    }
    after = (size_t)((int64_t)w->size + w->delta);
    if (w->delta > 0 && lim) {
        if (lim->sheet && after > lim->sheet)
            return refuse(w, DOC_LIMIT_SHEET, lim->sheet, after, err);
        if (lim->has_grow && (uint64_t)w->delta > lim->grow)
            return refuse(w, DOC_LIMIT_GROW, lim->grow, (size_t)w->delta, err);
    }
    w->size = after;
    return 0;
}
