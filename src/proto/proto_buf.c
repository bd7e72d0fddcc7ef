/*
 * Growable output buffer with transport headroom (see proto_buf.h).
 * Invariant: when mem != NULL, mem[headroom + len] == '\0'.
 */
#include "proto/proto_buf.h"
#include "util/json_print.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void proto_buf_init(proto_buf *b, size_t headroom)
{
    b->mem = NULL;
    b->headroom = headroom;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void proto_buf_release(proto_buf *b)
{
    free(b->mem);
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
}

int proto_buf_ok(const proto_buf *b)
{
    return !b->failed;
}

const char *proto_buf_text(const proto_buf *b)
{
    return b->mem ? b->mem + b->headroom : "";
}

long proto_buf_take(proto_buf *b, char **mem)
{
    long len;

    *mem = NULL;
    if (b->failed) {
        proto_buf_release(b);
        b->failed = 0;
        return -1;
    }
    if (!b->mem) {
        proto_buf_raw(b, "", 0);
        if (b->failed)
            return proto_buf_take(b, mem);
    }
    *mem = b->mem;
    len = (long)b->len;
    /* Messages live on in queues and tails: give back the slack of the doubling. */
    if (b->cap > b->len + 1) {
        char *fit = realloc(b->mem, b->headroom + b->len + 1);
        if (fit)
            *mem = fit;
    }
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
    return len;
}

static int reserve(proto_buf *b, size_t extra)
{
    size_t need, cap;
    char *mem;

    if (b->failed)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap && b->mem)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    mem = realloc(b->mem, b->headroom + cap);
    if (!mem) {
        b->failed = 1;
        return -1;
    }
    b->mem = mem;
    b->cap = cap;
    return 0;
}

void proto_buf_raw(proto_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->mem + b->headroom + b->len, s, n);
    b->len += n;
    b->mem[b->headroom + b->len] = '\0';
}

void proto_buf_lit(proto_buf *b, const char *s)
{
    proto_buf_raw(b, s, strlen(s));
}

void proto_buf_str(proto_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;

    proto_buf_raw(b, "\"", 1);
    /* Copy runs of plain bytes at once; escape only what JSON requires. */
    for (;; p++) {
        unsigned char ch = *p;
        if (ch != 0 && ch >= 0x20 && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        proto_buf_raw(b, (const char *)p - run, run);
        run = 0;
        if (ch == 0)
            break;
        switch (ch) {
        case '"': proto_buf_raw(b, "\\\"", 2); break;
        case '\\': proto_buf_raw(b, "\\\\", 2); break;
        case '\n': proto_buf_raw(b, "\\n", 2); break;
        case '\r': proto_buf_raw(b, "\\r", 2); break;
        case '\t': proto_buf_raw(b, "\\t", 2); break;
        case '\b': proto_buf_raw(b, "\\b", 2); break;
        case '\f': proto_buf_raw(b, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            proto_buf_raw(b, esc, 6);
        }
        }
    }
    proto_buf_raw(b, "\"", 1);
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
    char *text;

    if (!v) {
        proto_buf_lit(b, "null");
        return;
    }
    text = json_print(v);
    if (!text) {
        b->failed = 1;
        return;
    }
    proto_buf_lit(b, text);
    free(text);
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
