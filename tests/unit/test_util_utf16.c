/*
 * UTF-16 offsets over UTF-8 (src/util/utf16.c) against a plain code-point-by-code-point
 * reference, on random texts long enough to reach every vector path: umlauts, accents,
 * 3-byte characters and emoji mixed with ASCII, and long runs of each. Every offset of
 * every text is checked, including those inside a surrogate pair and beyond the end.
 *
 * The library picks its widest walk at run time (AVX2 where the processor has it); the
 * same source is compiled here a second time without that walk, under other names, so
 * the SSE2 walk is checked on every machine too.
 */
#include <stdint.h>

#include "unit.h"
#include "util/utf16.h"

#define utf16_valid_utf8 sse2_utf16_valid_utf8
#define utf16_length sse2_utf16_length
#define utf16_byte_offset sse2_utf16_byte_offset
#define utf16_slice sse2_utf16_slice
#define utf16_inject sse2_utf16_inject
#define KONSIL_UTF16_NO_AVX2
#include "../../src/util/utf16.c"
#undef utf16_valid_utf8
#undef utf16_length
#undef utf16_byte_offset
#undef utf16_slice
#undef utf16_inject

typedef int (*byte_offset_fn)(const char *, size_t, size_t, size_t *);

static uint64_t rng_state = 0x4b6f6e73696cULL;

static uint32_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* A random text of about `chars` characters in buf (NUL-terminated); returns its byte
 * length. `mix` selects the character classes: 0 mixed, 1 ASCII only, 2 umlauts only,
 * 3 emoji only, 4 mixed with long ASCII runs. */
static size_t random_text(char *buf, size_t chars, int mix)
{
    static const char *const pieces[] = {"a", "Z", " ", "7", "\n", "ä", "ö", "ß", "é",
                                         "\xcc\x81" /* combining acute */, "€", "中",
                                         "😀", "👩"};
    size_t n = 0;
    for (size_t c = 0; c < chars; c++) {
        size_t pick;
        switch (mix) {
        case 1: pick = next_random() % 5; break;
        case 2: pick = 5 + next_random() % 4; break;
        case 3: pick = 12 + next_random() % 2; break;
        case 4: pick = next_random() % 16 < 14 ? next_random() % 5
                                                : next_random() % (sizeof pieces / sizeof *pieces); break;
        default: pick = next_random() % (sizeof pieces / sizeof *pieces); break;
        }
        size_t len = strlen(pieces[pick]);
        memcpy(buf + n, pieces[pick], len);
        n += len;
    }
    buf[n] = '\0';
    return n;
}

/* Reference: byte offset of each UTF-16 offset, or SIZE_MAX inside a surrogate pair.
 * Returns the text's length in units. */
static size_t reference_offsets(const char *s, size_t len, size_t *byte_at_unit)
{
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t width = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        byte_at_unit[units++] = i;
        if (width == 4) byte_at_unit[units++] = SIZE_MAX;
        i += width;
    }
    byte_at_unit[units] = len;
    return units;
}

static int check_text(const char *s, size_t len, byte_offset_fn byte_offset, size_t *expected)
{
    int wrong = 0;
    size_t total = reference_offsets(s, len, expected);
    if (utf16_length(s, len) != total || sse2_utf16_length(s, len) != total) wrong++;
    for (size_t u = 0; u <= total + 2; u++) {
        size_t got = 12345;
        int rc = byte_offset(s, len, u, &got);
        bool valid = u <= total && expected[u] != SIZE_MAX;
        if (valid ? (rc != 0 || got != expected[u]) : rc != -1) {
            if (wrong++ < 3)
                fprintf(stderr, "  offset %zu of a %zu-byte text: rc %d, byte %zu, expected %s%zu\n",
                        u, len, rc, got, valid ? "" : "refusal, not ", valid ? expected[u] : 0);
        }
    }
    return wrong;
}

static void offsets_match_reference(byte_offset_fn byte_offset)
{
    enum { MAX_CHARS = 1800 };
    char *text = malloc(MAX_CHARS * 4 + 1);
    size_t *expected = malloc((MAX_CHARS * 2 + 1) * sizeof *expected);
    CHECK(text && expected);
    if (!text || !expected) goto done;
    int wrong = 0;
    for (int round = 0; round < 150 && wrong == 0; round++) {
        size_t chars = round < 20 ? (size_t)round * 7 : 1 + next_random() % MAX_CHARS;
        size_t len = random_text(text, chars, round % 5);
        wrong += check_text(text, len, byte_offset, expected);
    }
    CHECK(wrong == 0);
done:
    free(text);
    free(expected);
}

static void best_walk_matches_reference(void)
{
    offsets_match_reference(utf16_byte_offset);
}

static void sse2_walk_matches_reference(void)
{
    offsets_match_reference(sse2_utf16_byte_offset);
}

int main(void)
{
    RUN(best_walk_matches_reference);
    RUN(sse2_walk_matches_reference);
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
