/*
 * Prometheus' text exposition format (see prom.h).
 */
#include "util/prom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void prom_family(strbuf *b, const char *name, const char *type, const char *help)
{
    strbuf_puts(b, "# HELP ");
    strbuf_puts(b, name);
    strbuf_puts(b, " ");
    strbuf_puts(b, help);
    strbuf_puts(b, "\n# TYPE ");
    strbuf_puts(b, name);
    strbuf_puts(b, " ");
    strbuf_puts(b, type);
    strbuf_puts(b, "\n");
}

static void put_value(strbuf *b, double v)
{
    char num[40];

    if (isinf(v))
        snprintf(num, sizeof num, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 9e15)
        snprintf(num, sizeof num, "%lld", (long long)v);
    else
        snprintf(num, sizeof num, "%.17g", v);
    strbuf_puts(b, num);
}

void prom_sample(strbuf *b, const char *name, const char *key, const char *value, double v)
{
    strbuf_puts(b, name);
    if (key) {
        strbuf_puts(b, "{");
        strbuf_puts(b, key);
        strbuf_puts(b, "=\"");
        for (const char *p = value; *p; p++) {
            if (*p == '\\' || *p == '"')
                strbuf_put(b, "\\", 1);
            if (*p == '\n')
                strbuf_puts(b, "\\n");
            else
                strbuf_put(b, p, 1);
        }
        strbuf_puts(b, "\"}");
    }
    strbuf_puts(b, " ");
    put_value(b, v);
    strbuf_puts(b, "\n");
}

void prom_histogram(strbuf *b, const char *name, const char *help, const histo *h,
                    double scale)
{
    histo_reading r;
    char series[160], le[40];

    histo_read(h, &r);
    prom_family(b, name, "histogram", help);
    snprintf(series, sizeof series, "%s_bucket", name);
    for (size_t i = 0; i < r.n; i++) {
        snprintf(le, sizeof le, "%.6g", (double)h->bounds[i] * scale);
        prom_sample(b, series, "le", le, (double)r.le[i]);
    }
    prom_sample(b, series, "le", "+Inf", (double)r.count);
    snprintf(series, sizeof series, "%s_sum", name);
    prom_sample(b, series, NULL, NULL, (double)r.sum * scale);
    snprintf(series, sizeof series, "%s_count", name);
    prom_sample(b, series, NULL, NULL, (double)r.count);
}
