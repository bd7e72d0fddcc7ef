/*
 * The log (see klog.h). A line is built in the caller's buffer, field by field; a field
 * that does not fit whole is left out, so a JSON line always stays valid JSON.
 *
 * The one piece of process-wide state: the format and level, written by klog_setup()
 * before the server's threads start and only read afterwards.
 */
#include "util/klog.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static klog_format log_format = KLOG_TEXT;
static klog_level log_level = KLOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void klog_setup(klog_format format, klog_level level)
{
    log_format = format;
    log_level = level;
}

int klog_level_parse(const char *s, klog_level *out)
{
    for (int i = 0; i <= KLOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (klog_level)i;
            return 0;
        }
    return -1;
}

int klog_format_parse(const char *s, klog_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = KLOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = KLOG_JSON;
    else
        return -1;
    return 0;
}

const char *klog_level_name(klog_level level)
{
    return level >= KLOG_ERROR && level <= KLOG_DEBUG ? level_names[level] : "?";
}

bool klog_enabled(klog_level level)
{
    return level <= log_level;
}

/* Appends a field (or any text) whole, or not at all; 3 bytes stay free for the end. */
static void put(klog_line *l, const char *s, size_t n)
{
    if (l->len + n + 3 > sizeof l->buf)
        return;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* s escaped into out (n bytes): for JSON inside quotes, for text quoted when needed. */
static size_t escape(char *out, size_t n, const char *s, bool json)
{
    bool quote;
    size_t k = 0;

    if (!s)
        s = "";
    quote = !json && (!*s || strpbrk(s, " \"=\\") != NULL);
    if (quote && k < n)
        out[k++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 8 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            k += (size_t)snprintf(out + k, n - k, "\\u%04x", *p);
        } else {
            out[k++] = (char)*p;
        }
    }
    if (quote && k < n)
        out[k++] = '"';
    return k;
}

static void begin(klog_line *l, klog_level level, const char *component, const char *msg,
                  bool force)
{
    char esc[1024], head[96];
    size_t n;

    l->len = 0;
    l->on = force || klog_enabled(level);
    if (!l->on)
        return;
    if (log_format == KLOG_JSON) {
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        n = (size_t)snprintf(head, sizeof head, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\","
                             "\"component\":\"", when, ts.tv_nsec / 1000000,
                             level_names[level]);
        put(l, head, n);
        put(l, esc, escape(esc, sizeof esc, component, true));
        put(l, "\",\"msg\":\"", 9);
        put(l, esc, escape(esc, sizeof esc, msg, true));
        put(l, "\"", 1);
        return;
    }
    if (level != KLOG_INFO) {
        n = (size_t)snprintf(head, sizeof head, "%s: ", level == KLOG_WARN ? "warning" :
                             level_names[level]);
        put(l, head, n);
    }
    /* The message as it is: text lines are for people (and "listening on ..." is what
     * scripts wait for). */
    put(l, msg, strlen(msg));
}

void klog_begin(klog_line *l, klog_level level, const char *component, const char *msg)
{
    begin(l, level, component, msg, false);
}

static void field(klog_line *l, const char *key, const char *raw, bool quote_json)
{
    char buf[1200];
    size_t k = 0;

    if (!l->on)
        return;
    if (log_format == KLOG_JSON) {
        k += (size_t)snprintf(buf, sizeof buf, ",\"%s\":%s", key, quote_json ? "\"" : "");
        if (quote_json)
            k += escape(buf + k, sizeof buf - k - 2, raw, true);
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", raw);
        if (quote_json && k < sizeof buf)
            buf[k++] = '"';
    } else {
        k += (size_t)snprintf(buf, sizeof buf, " %s=", key);
        k += escape(buf + k, sizeof buf - k, raw, false);
    }
    put(l, buf, k < sizeof buf ? k : sizeof buf - 1);
}

void klog_str(klog_line *l, const char *key, const char *value)
{
    field(l, key, value ? value : "", true);
}

void klog_int(klog_line *l, const char *key, long long value)
{
    char v[32];

    snprintf(v, sizeof v, "%lld", value);
    field(l, key, v, false);
}

void klog_num(klog_line *l, const char *key, double value)
{
    char v[32];

    snprintf(v, sizeof v, "%.6g", value);
    field(l, key, v, false);
}

void klog_end(klog_line *l)
{
    ssize_t rc;

    if (!l->on)
        return;
    if (log_format == KLOG_JSON) {
        l->buf[l->len++] = '}';
    }
    l->buf[l->len++] = '\n';
    rc = write(STDERR_FILENO, l->buf, l->len);
    (void)rc;       /* nowhere to report a failed log write */
}

void klog_always(klog_level level, const char *component, const char *msg)
{
    klog_line l;

    begin(&l, level, component, msg, true);
    klog_end(&l);
}

void klog(klog_level level, const char *component, const char *msg)
{
    klog_line l;

    klog_begin(&l, level, component, msg);
    klog_end(&l);
}
