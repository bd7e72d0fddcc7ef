/*
 * Budgets per key and time window (pure: time is passed in, no I/O): how much of
 * something a key — a principal, or a principal in one case — may use up within a
 * window, the policy behind protocol/limits.md's growth budgets (bytes a principal may
 * add to one case sheet per window) and creation limits (cases, sessions and links an
 * account may make per window), in one place.
 *
 * Windows are fixed: a key's window starts with the first use counted in it and lasts
 * the window given with that use; when it is over the key starts afresh. Limit and
 * window are passed with each call (they differ per template), so the table stores only
 * what was used. It holds at most `max_keys` keys; when full, the key whose window began
 * first is forgotten (its budget starts afresh, the same as when its window ends).
 *
 * Ownership: the table owns its keys.
 */
#ifndef KONSIL_AUTH_BUDGET_H
#define KONSIL_AUTH_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct auth_budget auth_budget;

/* NULL when out of memory. max_keys is at least 1. */
auth_budget *auth_budget_new(size_t max_keys);
void auth_budget_free(auth_budget *b);

/* What key may still use now of `limit` (limit when no window of it runs); *retry_ms
 * (when not NULL) says how long until its window ends (0 when none runs). */
uint64_t auth_budget_left(auth_budget *b, const char *key, uint64_t limit, int64_t now,
                          int64_t *retry_ms);

/* key used `amount` now (a window of window_ms starts when none runs). 0, or -1 when
 * memory runs out (then nothing is counted). */
int auth_budget_use(auth_budget *b, const char *key, uint64_t amount, int64_t window_ms,
                    int64_t now);

/* Takes one unit for key if it has one left of limit per window_ms: 0, or -1 with
 * *retry_ms set when it has none (or memory ran out: *retry_ms 0). */
int auth_budget_take(auth_budget *b, const char *key, uint64_t limit, int64_t window_ms,
                     int64_t now, int64_t *retry_ms);

size_t auth_budget_keys(const auth_budget *b);

#endif
