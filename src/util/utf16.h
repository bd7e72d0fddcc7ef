/*
 * UTF-16 code-unit arithmetic over UTF-8 strings.
 *
 * json0 counts string offsets in UTF-16 code units (what JavaScript strings index by);
 * Konsil stores text as UTF-8. These helpers translate between the two and refuse what
 * would corrupt text: invalid UTF-8, and offsets that fall inside a surrogate pair
 * (the middle of a 4-byte UTF-8 sequence). Pure functions, no allocation unless stated.
 */
#ifndef KONSIL_UTIL_UTF16_H
#define KONSIL_UTIL_UTF16_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool utf16_valid_utf8(const char *s, size_t len);

/* Length of well-formed UTF-8 s in UTF-16 code units. */
size_t utf16_length(const char *s, size_t len);

/* Byte offset of UTF-16 offset `units` in well-formed UTF-8 s. Returns 0 and sets
 * *byte_offset, or -1 when units > length or when it falls inside a surrogate pair. */
int utf16_byte_offset(const char *s, size_t len, size_t units, size_t *byte_offset);

/* JavaScript's s.slice(from, to) in UTF-16 units, with its clamping (to < 0 means "to
 * the end"). Returns a new NUL-terminated string (caller frees with cJSON_free), or NULL
 * when a cut falls inside a surrogate pair or memory runs out. */
char *utf16_slice(const char *s, size_t len, long from, long to);

/* s1 with s2 inserted at UTF-16 offset pos (JavaScript strInject, with clamping). New
 * string freed by the caller with cJSON_free, or NULL (pair split or no memory). */
char *utf16_inject(const char *s1, size_t pos, const char *s2);

#endif
