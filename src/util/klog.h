/*
 * Konsil's log: one line per event on stderr, as JSON (for log shippers) or as text (for
 * people), with a level. Every component logs through here; libwebsockets' own messages
 * are routed here too (hub.c).
 *
 *   json: {"ts":"2025-01-31T12:00:00.123Z","level":"info","component":"hub",
 *          "msg":"listening on http://127.0.0.1:8080"}  and the event's fields
 *   text: listening on http://127.0.0.1:8080            (info: the message, then fields
 *         warning: open files limited max_conns=168     as key=value; other levels say
 *                                                       which they are first)
 *
 * What may be logged: what the server does and why (events, ids, counts, reasons, error
 * texts of SQLite and the system). Never request bodies, op or document texts, display
 * names, usernames, passwords, tokens or client addresses: logs are read by other people
 * than the audit trail, are kept elsewhere and longer, and must hold no personal data
 * (tests/hub/observability.test.js types such data through every channel and looks).
 * Fields are therefore named one by one by the caller; there is no way to log a message
 * or a body whole.
 *
 * The format and the level are process-wide and set once, by `konsil serve` before any
 * of its threads starts (klog_setup); they are read-only afterwards. Each line leaves in
 * one write(2), so the lines of several threads never interleave. A line longer than
 * KLOG_LINE_MAX loses the fields that do not fit whole (never its JSON syntax).
 */
#ifndef KONSIL_UTIL_KLOG_H
#define KONSIL_UTIL_KLOG_H

#include <stdbool.h>
#include <stddef.h>

#define KLOG_LINE_MAX 2048

typedef enum klog_level { KLOG_ERROR, KLOG_WARN, KLOG_INFO, KLOG_DEBUG } klog_level;
typedef enum klog_format { KLOG_TEXT, KLOG_JSON } klog_format;

/* Before any thread starts; the default is text at info. */
void klog_setup(klog_format format, klog_level level);
/* "error", "warn", "info", "debug" / "text", "json": 0, or -1 when it is none. */
int klog_level_parse(const char *s, klog_level *out);
int klog_format_parse(const char *s, klog_format *out);
const char *klog_level_name(klog_level level);
/* Whether a line of this level is written at all (check before costly fields). */
bool klog_enabled(klog_level level);

/* One line being built: klog_begin, fields, klog_end. Lives on the caller's stack. */
typedef struct klog_line {
    char buf[KLOG_LINE_MAX];
    size_t len;
    bool on;            /* the level is enabled: the line is written at klog_end */
} klog_line;

void klog_begin(klog_line *l, klog_level level, const char *component, const char *msg);
void klog_str(klog_line *l, const char *key, const char *value);
void klog_int(klog_line *l, const char *key, long long value);
void klog_num(klog_line *l, const char *key, double value);
void klog_end(klog_line *l);

/* A line without fields. */
void klog(klog_level level, const char *component, const char *msg);
/* The same, written whatever the level: the one line scripts wait for ("listening on
 * ..."), which --log-level error must not hide. */
void klog_always(klog_level level, const char *component, const char *msg);

#endif
