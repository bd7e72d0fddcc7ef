/*
 * Histograms for /metrics (see histo.h).
 */
#include "util/histo.h"

const uint64_t histo_latency_ns[14] = {
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
    100000000, 250000000, 500000000, 1000000000, 5000000000,
};
const uint64_t histo_sizes[11] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

void histo_init(histo *h, const uint64_t *bounds, size_t n)
{
    h->bounds = bounds;
    h->n = n < HISTO_MAX_BUCKETS ? n : HISTO_MAX_BUCKETS;
    for (size_t i = 0; i <= HISTO_MAX_BUCKETS; i++)
        atomic_init(&h->counts[i], 0);
    atomic_init(&h->sum, 0);
}

void histo_observe(histo *h, uint64_t value)
{
    size_t i = 0;

    while (i < h->n && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, value, memory_order_relaxed);
}

void histo_read(const histo *h, histo_reading *out)
{
    uint64_t running = 0;

    out->n = h->n;
    for (size_t i = 0; i <= h->n; i++) {
        running += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < h->n)
            out->le[i] = running;
    }
    out->count = running;
    out->sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
}
