/*
 * Prometheus' text exposition format (version 0.0.4), written into a strbuf: a family's
 * HELP and TYPE lines, its samples, and histograms from a histo_reading. Pure: what is
 * measured is the caller's. Names and label keys are the caller's constants; label
 * values are escaped.
 */
#ifndef KONSIL_UTIL_PROM_H
#define KONSIL_UTIL_PROM_H

#include <stdint.h>

#include "util/histo.h"
#include "util/strbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* # HELP and # TYPE (type: counter, gauge, histogram). */
void prom_family(strbuf *b, const char *name, const char *type, const char *help);
/* name{key="value"} v, or name v when key is NULL. */
void prom_sample(strbuf *b, const char *name, const char *key, const char *value, double v);
/* A whole histogram family; bounds in the reading's unit, scale turns them and the sum
 * into the exposed unit (1e-9: nanoseconds into seconds). */
void prom_histogram(strbuf *b, const char *name, const char *help, const histo *h,
                    double scale);

#endif
