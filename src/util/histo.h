/*
 * A histogram one thread observes into and another reads, for /metrics: fixed bucket
 * bounds, counts and a sum in relaxed atomics, so observing costs a few uncontended
 * atomic adds and no lock, and a reader sees each count whole (the counts of one
 * snapshot may be a moment apart; Prometheus tolerates that).
 *
 * Values are integers in the histogram's own unit (nanoseconds, ops); bounds are
 * inclusive upper bounds in that unit, ascending. Ownership: plain values.
 */
#ifndef KONSIL_UTIL_HISTO_H
#define KONSIL_UTIL_HISTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HISTO_MAX_BUCKETS 16

typedef struct histo {
    const uint64_t *bounds;     /* n ascending upper bounds; a last bucket takes the rest */
    size_t n;
    _Atomic uint64_t counts[HISTO_MAX_BUCKETS + 1];
    _Atomic uint64_t sum;
} histo;

/* bounds (n <= HISTO_MAX_BUCKETS) must outlive h. */
void histo_init(histo *h, const uint64_t *bounds, size_t n);
void histo_observe(histo *h, uint64_t value);

/* A reading: cumulative counts per bound (and all), the sum. */
typedef struct histo_reading {
    size_t n;
    uint64_t le[HISTO_MAX_BUCKETS];     /* observations <= bounds[i] */
    uint64_t count;                      /* all observations */
    uint64_t sum;
} histo_reading;

void histo_read(const histo *h, histo_reading *out);

/* Latencies in nanoseconds, 0.1 ms to 5 s; batch sizes 1 to 1024. */
extern const uint64_t histo_latency_ns[14];
extern const uint64_t histo_sizes[11];

#endif
