/* Growable strings; see strbuf.h. Invariant: data, when allocated, holds len bytes and a
 * terminating NUL (cap > len). */
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* The slow path of every append: more room (doubling from 256), or `failed`. */
static bool grow(strbuf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

bool strbuf_reserve(strbuf *b, size_t n)
{
    if (b->failed) return false;
    return b->cap - b->len > n || grow(b, n);
}

char *strbuf_extend(strbuf *b, size_t n)
{
    if (!strbuf_reserve(b, n)) return NULL;
    char *at = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return at;
}

/* The hot one (every piece of every message): no call on the way to the copy. */
void strbuf_put(strbuf *b, const char *s, size_t n)
{
    if (b->failed || (b->cap - b->len <= n && !grow(b, n))) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s)
{
    strbuf_put(b, s, strlen(s));
}

char *strbuf_finish(strbuf *b, size_t *len)
{
    strbuf_put(b, "", 0);       /* allocates an empty string if nothing was put */
    char *out = b->failed ? NULL : b->data;
    if (b->failed) free(b->data);
    if (out && len) *len = b->len;
    *b = (strbuf){0};
    return out;
}
