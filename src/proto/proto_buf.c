/*
 * Output buffer with transport headroom, on util/strbuf (see proto_buf.h).
 * Invariant: once sb.data is allocated it starts with `headroom` bytes of scratch space,
 * and the text follows them up to sb.len.
 */
#include "proto/proto_buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_print.h"

void proto_buf_init(proto_buf *b, size_t headroom)
{
    b->sb = (strbuf){0};
    b->headroom = headroom;
}

void proto_buf_release(proto_buf *b)
{
    free(b->sb.data);
    b->sb.data = NULL;
    b->sb.len = 0;
    b->sb.cap = 0;
}

int proto_buf_ok(const proto_buf *b)
{
    return !b->sb.failed;
}

const char *proto_buf_text(const proto_buf *b)
{
    return b->sb.data ? b->sb.data + b->headroom : "";
}

/* One allocation holds the headroom and at least 256 bytes of text: most messages
 * (ops, acks, replies) never grow the buffer. */
void proto_buf_start(proto_buf *b)
{
    if (strbuf_reserve(&b->sb, b->headroom + 256))
        strbuf_extend(&b->sb, b->headroom);
}

long proto_buf_take(proto_buf *b, size_t prefix, char **mem)
{
    size_t len;
    char *data, *grown;

    *mem = NULL;
    if (!b->sb.data)
        proto_buf_start(b);
    data = strbuf_finish(&b->sb, &len);     /* frees the memory when an append failed */
    if (!data)
        return -1;
    /* One realloc both gives back the slack of the doubling (or grows by the prefix)
     * and makes room in front. */
    grown = realloc(data, prefix + len + 1);
    if (!grown) {
        free(data);
        return -1;
    }
    memmove(grown + prefix, grown, len + 1);
    *mem = grown;
    return (long)(len - b->headroom);
}

void proto_buf_lit(proto_buf *b, const char *s)
{
    proto_buf_raw(b, s, strlen(s));
}

void proto_buf_str(proto_buf *b, const char *s)
{
    if (!b->sb.data)
        proto_buf_start(b);
    json_print_string(&b->sb, s);
}

/* Every op, ack and reply carries versions and seqs: digits by hand, not snprintf. */
void proto_buf_i64(proto_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    proto_buf_raw(b, p, (size_t)(tmp + sizeof tmp - p));
}

void proto_buf_json(proto_buf *b, const cJSON *v)
{
    if (!b->sb.data)
        proto_buf_start(b);
    json_print_to(&b->sb, v);
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if invalid, -1 if cut off by NUL. */
static int utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    int n;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if (p[i] == 0)
            return -1;
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void proto_utf8_repair(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p) {
        int n = utf8_seq(p);
        if (n < 0) {
            *p = '\0';
            return;
        }
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}
