/*
 * Login throttling (pure: time is passed in, no I/O). The policy of
 * protocol/http-api.md, "Login throttling", in one place:
 *
 *   - per (username, address): more than `max_pair` failed attempts within a window are
 *     refused (429) until the window ends. Only that address loses that username;
 *   - per address: more than `max_addr` failed attempts (any usernames) are refused;
 *   - per username, from any address: never refused, only slowed. Once `slow_after`
 *     attempts for a username have failed in the window, each further attempt waits
 *     AUTH_THROTTLE_BASE_DELAY_MS doubled per failure beyond that, at most
 *     `max_delay_ms`, before its password is checked. Nobody can lock the owner out
 *     from the owner's own address, only make the owner wait.
 *
 * An attempt counts as failed from when it begins; a successful one is taken back, so
 * attempts in flight use up the budget too. A refused attempt creates no key.
 *
 * Windows are fixed: a key's window starts with the first attempt counted in it and
 * lasts `window_ms`. The table holds at most `max_keys` keys (each attempt uses up to
 * three); when it is full the key whose window began first is forgotten (oldest first).
 *
 * Summaries: a key whose window saw refused or slowed attempts is reported once, when
 * its window ends (sweep), when it is forgotten early (table full), or at flush: one
 * report per key and window with the counts, never one per attempt.
 *
 * Ownership: the table owns its keys; report callbacks get borrowed strings valid for
 * the call.
 */
#ifndef KONSIL_AUTH_THROTTLE_H
#define KONSIL_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_THROTTLE_BASE_DELAY_MS 250

typedef struct auth_throttle_config {
    int64_t window_ms;
    unsigned max_pair;          /* failures per (username, address) before refusing */
    unsigned max_addr;          /* failures per address before refusing */
    unsigned slow_after;        /* failures per username before slowing */
    int64_t max_delay_ms;       /* the longest wait */
    size_t max_keys;            /* keys held at most (>= 3) */
} auth_throttle_config;

typedef enum auth_throttle_kind {
    AUTH_THROTTLE_PAIR,
    AUTH_THROTTLE_USER,
    AUTH_THROTTLE_ADDR,
} auth_throttle_kind;

typedef struct auth_throttle_decision {
    bool refuse;
    auth_throttle_kind by;      /* when refused: PAIR or ADDR */
    int64_t retry_after_ms;     /* when refused: until the refusing window ends */
    int64_t delay_ms;           /* when not refused: wait this long, then check */
} auth_throttle_decision;

typedef struct auth_throttle_summary {
    auth_throttle_kind kind;
    const char *username;       /* NULL for an address key */
    const char *addr;           /* NULL for a username key */
    unsigned failures, refused, slowed;
    int64_t from, to;           /* the window, ms */
    bool early;                 /* reported before its window ended (table full, flush) */
} auth_throttle_summary;

typedef void (*auth_throttle_report_fn)(void *arg, const auth_throttle_summary *s);

typedef struct auth_throttle auth_throttle;

/* NULL when out of memory. report (may be NULL) gets every summary. */
auth_throttle *auth_throttle_new(const auth_throttle_config *cfg, auth_throttle_report_fn report,
                                 void *arg);
/* Frees without reporting (flush first to keep the counts). */
void auth_throttle_free(auth_throttle *t);

/* An attempt for (username, addr) begins now. Out of memory refuses (by ADDR) rather
 * than go unlimited. */
auth_throttle_decision auth_throttle_begin(auth_throttle *t, const char *username,
                                           const char *addr, int64_t now);
/* It ended: ok takes the attempt back (a success, or a check that never ran). */
void auth_throttle_end(auth_throttle *t, const char *username, const char *addr, bool ok,
                       int64_t now);
/* Reports and forgets the keys whose window has ended. */
void auth_throttle_sweep(auth_throttle *t, int64_t now);
/* Reports every key with something to report and forgets all (at shutdown). */
void auth_throttle_flush(auth_throttle *t, int64_t now);
size_t auth_throttle_keys(const auth_throttle *t);

#endif
