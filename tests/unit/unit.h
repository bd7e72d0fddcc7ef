/*
 * A very small unit-test harness: TEST(name) functions registered in main(), CHECK
 * assertions that record a failure and go on, and a closing "N passed, N failed" line.
 * A test passes when none of its CHECKs failed.
 */
#ifndef KONSIL_UNIT_H
#define KONSIL_UNIT_H

#include <stdio.h>
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

static inline int unit_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
    return unit_failed == 0 ? 0 : 1;
}

#endif
