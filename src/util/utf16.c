/*
 * UTF-16 code-unit arithmetic over UTF-8 strings; see utf16.h.
 * Invariant: offsets are only ever translated at code-point boundaries; a request for an
 * offset inside a 4-byte sequence (a surrogate pair in UTF-16) is refused, never rounded.
 */
#include "util/utf16.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* The long-text offset walk has an AVX2 variant, picked at run time (the build targets
 * plain x86-64); KONSIL_UTF16_NO_AVX2 leaves it out (the tests use it to check the SSE2
 * walk on machines that have AVX2). */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__) && !defined(KONSIL_UTF16_NO_AVX2)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

/* Length in bytes of the sequence starting with lead byte c, or 0 if c cannot lead. */
static size_t sequence_length(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

/* Length of the run of ASCII bytes at s (at most len), eight bytes at a time: case-sheet
 * text is mostly ASCII, and these scans run on every text edit. */
static size_t ascii_run(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i + 8 <= len) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        if (word & 0x8080808080808080ULL) break;
        i += 8;
    }
    while (i < len && s[i] < 0x80) i++;
    return i;
}

bool utf16_valid_utf8(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        i += ascii_run(s + i, len - i);
        if (i >= len) break;
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

/* UTF-16 units of eight UTF-8 bytes: one per byte that starts a character (every byte
 * but 10xxxxxx continuations) plus one more per 4-byte lead (11110xxx), which becomes a
 * surrogate pair. Units are counted at the lead byte, wherever the word ends. */
/* Number of bytes whose top bit is set in a word that has no other bits set. */
static size_t count_top_bits(uint64_t m)
{
    return (size_t)(((m >> 7) * 0x0101010101010101ULL) >> 56);
}

static size_t units_in_word(uint64_t w)
{
    const uint64_t top = 0x8080808080808080ULL;
    if (!(w & top)) return 8;
    uint64_t continuation = w & top & ~(w << 1);
    uint64_t four_byte_lead = w & (w << 1) & (w << 2) & (w << 3) & top;
    return 8 - count_top_bits(continuation) + count_top_bits(four_byte_lead);
}

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t utf16_length(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t units = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        units += units_in_word(word);
    }
    for (; i < len; i++)
        if (!is_continuation(s[i])) units += (s[i] >= 0xF0) ? 2 : 1;
    return units;
}

#ifdef __SSE2__
/* The per-byte classes below, sixteen bytes at a time: continuation bytes (10xxxxxx, as
 * signed bytes below -64) and 4-byte leads (>= 0xF0, as in units_in_word). */
static __m128i continuation_mask(__m128i v)
{
    return _mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0));
}

static __m128i four_byte_lead_mask(__m128i v)
{
    return _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)0xF0)), v);
}

/* Sum of the byte lanes of v. */
static size_t lane_sum(__m128i v)
{
    __m128i sums = _mm_sad_epu8(v, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
}

/* units_in_word for sixteen bytes at once. */
static size_t units_in_block(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    if (!_mm_movemask_epi8(v)) return 16;
    /* A matching lane is 0xFF (-1): subtracting it counts one. */
    __m128i continuation = _mm_sub_epi8(_mm_setzero_si128(), continuation_mask(v));
    __m128i four_byte_lead = _mm_sub_epi8(_mm_setzero_si128(), four_byte_lead_mask(v));
    return 16 - lane_sum(continuation) + lane_sum(four_byte_lead);
}

/* Units of `chunks` consecutive 64-byte chunks, with no stop test: per-byte counts add up
 * in vector lanes (at most 4 per lane and chunk, so 63 chunks fit in a byte) and are
 * summed once per 63 chunks. */
static size_t units_in_chunks(const unsigned char *p, size_t chunks)
{
    size_t units = 64 * chunks;
    while (chunks > 0) {
        size_t batch = chunks < 63 ? chunks : 63;
        chunks -= batch;
        __m128i continuation = _mm_setzero_si128(), four_byte_lead = _mm_setzero_si128();
        for (; batch > 0; batch--, p += 64) {
            for (int k = 0; k < 4; k++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
                continuation = _mm_sub_epi8(continuation, continuation_mask(v));
                four_byte_lead = _mm_sub_epi8(four_byte_lead, four_byte_lead_mask(v));
            }
        }
        units = units - lane_sum(continuation) + lane_sum(four_byte_lead);
    }
    return units;
}

#ifdef HAVE_AVX2_PATH
/* units_in_chunks with 32-byte vectors: the same counting in half the instructions. */
__attribute__((target("avx2"))) static size_t units_in_chunks_avx2(const unsigned char *p,
                                                                    size_t chunks)
{
    const __m256i below = _mm256_set1_epi8((char)0xC0), lead4 = _mm256_set1_epi8((char)0xF0);
    size_t units = 64 * chunks;
    while (chunks > 0) {
        size_t batch = chunks < 63 ? chunks : 63;
        chunks -= batch;
        __m256i continuation = _mm256_setzero_si256(), four_byte_lead = _mm256_setzero_si256();
        for (; batch > 0; batch--, p += 64) {
            for (int k = 0; k < 2; k++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * k));
                continuation = _mm256_sub_epi8(continuation, _mm256_cmpgt_epi8(below, v));
                four_byte_lead = _mm256_sub_epi8(
                    four_byte_lead, _mm256_cmpeq_epi8(_mm256_max_epu8(v, lead4), v));
            }
        }
        __m256i sums = _mm256_sub_epi64(_mm256_sad_epu8(four_byte_lead, _mm256_setzero_si256()),
                                        _mm256_sad_epu8(continuation, _mm256_setzero_si256()));
        int64_t lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, sums);
        units += (size_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
    }
    return units;
}
#endif

/* The widest units_in_chunks this processor runs. */
static size_t count_chunks(const unsigned char *p, size_t chunks)
{
#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) return units_in_chunks_avx2(p, chunks);
#endif
    return units_in_chunks(p, chunks);
}
#endif

int utf16_byte_offset(const char *str, size_t len, size_t units, size_t *byte_offset)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, seen = 0;
    /* Whole chunks and blocks while the target lies beyond them; these loops may stop in
     * the middle of a character whose units they already counted. */
#ifdef __SSE2__
    /* Every unit takes at least one byte, so the target lies at least (units - seen)
     * bytes further on: the whole chunks before that are counted without stop tests. */
    for (;;) {
        size_t reach = units - seen < len - i ? units - seen : len - i;
        if (reach < 64) break;
        seen += count_chunks(s + i, reach / 64);
        i += reach / 64 * 64;
    }
    while (i + 16 <= len) {
        size_t u = units_in_block(s + i);
        if (seen + u >= units) break;
        seen += u;
        i += 16;
    }
#endif
    while (i + 8 <= len) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        size_t u = units_in_word(word);
        if (seen + u >= units) break;
        seen += u;
        i += 8;
    }
    for (; i < len; i++) {
        if (is_continuation(s[i])) continue;      /* part of a character already counted */
        if (seen == units) break;
        size_t width = (s[i] >= 0xF0) ? 2 : 1;
        if (seen + width > units) return -1;      /* inside a surrogate pair */
        seen += width;
    }
    if (seen != units) return -1;                 /* beyond the end */
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
