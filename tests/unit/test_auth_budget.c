/*
 * Budgets per key and window (src/auth/budget.h): what a key has left, fixed windows
 * that start with the first use and end on time, one key never touching another, the
 * table bounded (the oldest window forgotten first), and take() for unit budgets.
 */
#include <stdint.h>

#include "auth/budget.h"
#include "unit.h"

static void test_window(void)
{
    auth_budget *b = auth_budget_new(10);
    int64_t retry = -1;

    CHECK(auth_budget_left(b, "a", 100, 0, &retry) == 100 && retry == 0);
    CHECK(auth_budget_use(b, "a", 30, 1000, 0) == 0);
    CHECK(auth_budget_use(b, "a", 50, 1000, 400) == 0);
    CHECK(auth_budget_left(b, "a", 100, 500, &retry) == 20 && retry == 500);
    CHECK(auth_budget_left(b, "b", 100, 500, NULL) == 100);
    CHECK(auth_budget_use(b, "a", 40, 1000, 999) == 0);
    CHECK(auth_budget_left(b, "a", 100, 999, &retry) == 0 && retry == 1);
    /* the window began at 0: at 1000 it is over, whatever was used */
    CHECK(auth_budget_left(b, "a", 100, 1000, &retry) == 100 && retry == 0);
    CHECK(auth_budget_use(b, "a", 10, 1000, 1500) == 0);
    CHECK(auth_budget_left(b, "a", 100, 2400, &retry) == 90 && retry == 100);
    auth_budget_free(b);
}

static void test_bounded(void)
{
    auth_budget *b = auth_budget_new(3);
    char key[16];

    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(auth_budget_use(b, key, 5, 60000, i) == 0);
        CHECK(auth_budget_keys(b) <= 3);
    }
    /* the newest three are remembered, the older ones start afresh */
    CHECK(auth_budget_left(b, "k99", 10, 100, NULL) == 5);
    CHECK(auth_budget_left(b, "k97", 10, 100, NULL) == 5);
    CHECK(auth_budget_left(b, "k96", 10, 100, NULL) == 10);
    /* keys whose window ended leave the table as it is used */
    CHECK(auth_budget_use(b, "late", 1, 10, 70000) == 0);
    CHECK(auth_budget_keys(b) == 1);
    auth_budget_free(b);
}

static void test_take(void)
{
    auth_budget *b = auth_budget_new(10);
    int64_t retry = 0;
    int ok = 0;

    for (int i = 0; i < 5; i++)
        ok += auth_budget_take(b, "creator", 3, 60000, 1000 + i, &retry) == 0;
    CHECK(ok == 3);
    CHECK(auth_budget_take(b, "creator", 3, 60000, 2000, &retry) == -1 && retry == 59000);
    CHECK(auth_budget_take(b, "other", 3, 60000, 2000, &retry) == 0);
    CHECK(auth_budget_take(b, "creator", 3, 60000, 61000, &retry) == 0);
    auth_budget_free(b);
}

int main(void)
{
    RUN(test_window);
    RUN(test_bounded);
    RUN(test_take);
    return unit_finish("test_auth_budget");
}
