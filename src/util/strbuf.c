/* Growable strings; see strbuf.h. Invariant: data, when allocated, holds len bytes and a
 * terminating NUL (cap > len). */
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

void strbuf_put(strbuf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
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
