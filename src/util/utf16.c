/*
 * UTF-16 code-unit arithmetic over UTF-8 strings; see utf16.h.
 * Invariant: offsets are only ever translated at code-point boundaries; a request for an
 * offset inside a 4-byte sequence (a surrogate pair in UTF-16) is refused, never rounded.
 */
#include "util/utf16.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Length in bytes of the sequence starting with lead byte c, or 0 if c cannot lead. */
static size_t sequence_length(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

bool utf16_valid_utf8(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = sequence_length(c);
        if (n == 0 || i + n > len) return false;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        if (n == 3) {
            if (c == 0xE0 && s[i + 1] < 0xA0) return false;             /* overlong */
            if (c == 0xED && s[i + 1] >= 0xA0) return false;            /* surrogate */
        } else if (n == 4) {
            if (c == 0xF0 && s[i + 1] < 0x90) return false;             /* overlong */
            if (c == 0xF4 && s[i + 1] >= 0x90) return false;            /* > U+10FFFF */
        }
        i += n;
    }
    return true;
}

size_t utf16_length(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if ((c & 0xC0) != 0x80) units += (c >= 0xF0) ? 2 : 1;
    }
    return units;
}

int utf16_byte_offset(const char *str, size_t len, size_t units, size_t *byte_offset)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, seen = 0;
    while (seen < units) {
        if (i >= len) return -1;
        size_t n = sequence_length(s[i]);
        if (n == 0) n = 1;
        size_t w = (n == 4) ? 2 : 1;
        if (seen + w > units) return -1;                                /* inside a pair */
        seen += w;
        i += n;
    }
    if (i > len) return -1;
    *byte_offset = i;
    return 0;
}

static long clamp(long v, long lo, long hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

char *utf16_slice(const char *s, size_t len, long from, long to)
{
    long total = (long)utf16_length(s, len);
    if (to < 0) to = total;
    from = clamp(from, 0, total);
    to = clamp(to, 0, total);
    if (to < from) to = from;
    size_t b_from, b_to;
    if (utf16_byte_offset(s, len, (size_t)from, &b_from) != 0 ||
        utf16_byte_offset(s, len, (size_t)to, &b_to) != 0)
        return NULL;
    char *out = cJSON_malloc(b_to - b_from + 1);
    if (!out) return NULL;
    memcpy(out, s + b_from, b_to - b_from);
    out[b_to - b_from] = '\0';
    return out;
}

char *utf16_inject(const char *s1, size_t pos, const char *s2)
{
    size_t len1 = strlen(s1), len2 = strlen(s2);
    size_t total = utf16_length(s1, len1);
    if (pos > total) pos = total;
    size_t at;
    if (utf16_byte_offset(s1, len1, pos, &at) != 0) return NULL;
    char *out = cJSON_malloc(len1 + len2 + 1);
    if (!out) return NULL;
    memcpy(out, s1, at);
    memcpy(out + at, s2, len2);
    memcpy(out + at + len2, s1 + at, len1 - at);
    out[len1 + len2] = '\0';
    return out;
}
