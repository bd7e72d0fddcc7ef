/*
 * A very small unit-test harness: TEST(name) functions registered in main(), CHECK
 * assertions that record a failure and go on, and a closing "N passed, N failed" line.
 * A test passes when none of its CHECKs failed.
 */
#ifndef KONSIL_UNIT_H
#define KONSIL_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed;
static int unit_failed;

#define CHECK(cond) do { \
        if (!(cond)) { \
            unit_failed_checks++; \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define CHECK_STR(a, b) do { \
        const char *unit_a_ = (a), *unit_b_ = (b); \
        if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) { \
            unit_failed_checks++; \
            fprintf(stderr, "  %s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
                    unit_b_ ? unit_b_ : "(null)", unit_a_ ? unit_a_ : "(null)"); \
        } \
    } while (0)

static inline void unit_run(const char *name, void (*fn)(void))
{
    int before = unit_failed_checks;
    fn();
    if (unit_failed_checks == before) {
        unit_passed++;
    } else {
        unit_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}

#define RUN(fn) unit_run(#fn, fn)

/* A whole file as a NUL-terminated malloc'ed buffer (length in *len_out), or NULL. */
static inline char *unit_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static inline int unit_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
    return unit_failed == 0 ? 0 : 1;
}

#endif
