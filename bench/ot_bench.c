/*
 * C side of the OT benchmark (driven by bench/ot-bench.js, `make bench-ot`).
 *
 *   ot_bench WORKLOAD [MIN_SECONDS [apply|transform]]
 *
 * WORKLOAD holds JSON lines: first {"doc": case sheet}, then {"apply": op} lines (ops valid
 * one after another on the doc) and {"transform": [op, other]} lines (concurrent pairs).
 * Measures ot_apply over all ops in sequence (on a fresh copy of the doc each round; the
 * copy is not timed) and ot_transform(op, other, left) over all pairs (freeing the result
 * is timed), each after one warm-up round and for at least MIN_SECONDS (default 1.5).
 * A third argument measures only that figure (for profilers); the other prints 0 ops.
 * Prints one JSON line: {"apply":{"ops":N,"seconds":S,"ops_per_s":R},"transform":{...}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"

typedef struct workload {
    cJSON *doc;
    cJSON **ops;
    size_t op_count;
    cJSON **pairs; /* each a two-element array [op, other] */
    size_t pair_count;
} workload;

typedef struct measure {
    size_t ops;
    double seconds;
} measure;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "ot_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void push(cJSON ***items, size_t *count, size_t *capacity, cJSON *item)
{
    if (*count == *capacity) {
        *capacity = *capacity ? *capacity * 2 : 256;
        *items = realloc(*items, *capacity * sizeof **items);
        if (!*items)
            die("out of memory", NULL);
    }
    (*items)[(*count)++] = item;
}

/* Reads the workload file; every line is parsed once, before any timing. */
static workload read_workload(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open workload", path);
    workload w = {0};
    size_t op_capacity = 0, pair_capacity = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    ssize_t len;
    while ((len = getline(&line, &line_capacity, f)) > 0) {
        cJSON *entry = cJSON_ParseWithLength(line, (size_t)len);
        if (!entry)
            die("workload line is not JSON", NULL);
        cJSON *doc = cJSON_DetachItemFromObjectCaseSensitive(entry, "doc");
        cJSON *op = cJSON_DetachItemFromObjectCaseSensitive(entry, "apply");
        cJSON *pair = cJSON_DetachItemFromObjectCaseSensitive(entry, "transform");
        if (doc) {
            cJSON_Delete(w.doc);
            w.doc = doc;
        } else if (op) {
            push(&w.ops, &w.op_count, &op_capacity, op);
        } else if (pair && cJSON_GetArraySize(pair) == 2) {
            push(&w.pairs, &w.pair_count, &pair_capacity, pair);
        } else {
            die("unknown workload line", NULL);
        }
        cJSON_Delete(entry);
    }
    free(line);
    fclose(f);
    if (!w.doc || w.op_count == 0 || w.pair_count == 0)
        die("workload needs a doc, ops and pairs", NULL);
    return w;
}

/* One round of applying every op in sequence to a fresh copy of the doc; returns the
 * seconds spent in ot_apply. */
static double apply_round(const workload *w)
{
    cJSON *doc = cJSON_Duplicate(w->doc, 1);
    if (!doc)
        die("out of memory", NULL);
    ot_error err;
    double start = now_seconds();
    for (size_t i = 0; i < w->op_count; i++) {
        if (ot_apply(&doc, w->ops[i], &err) != 0)
            die("ot_apply failed", err.message);
    }
    double seconds = now_seconds() - start;
    cJSON_Delete(doc);
    return seconds;
}

/* One round of transforming every pair (left side); returns the seconds it took. */
static double transform_round(const workload *w)
{
    ot_error err;
    double start = now_seconds();
    for (size_t i = 0; i < w->pair_count; i++) {
        const cJSON *op = cJSON_GetArrayItem(w->pairs[i], 0);
        const cJSON *other = cJSON_GetArrayItem(w->pairs[i], 1);
        cJSON *result = ot_transform(op, other, OT_LEFT, &err);
        if (!result)
            die("ot_transform failed", err.message);
        cJSON_Delete(result);
    }
    return now_seconds() - start;
}

static measure run(double (*round)(const workload *), const workload *w, size_t ops_per_round,
                   double min_seconds)
{
    round(w); /* warm-up */
    measure m = {0, 0.0};
    while (m.seconds < min_seconds) {
        m.seconds += round(w);
        m.ops += ops_per_round;
    }
    return m;
}

static void print_measure(const char *name, measure m, const char *separator)
{
    printf("\"%s\":{\"ops\":%zu,\"seconds\":%.6f,\"ops_per_s\":%.1f}%s", name, m.ops, m.seconds,
           (double)m.ops / m.seconds, separator);
}

int main(int argc, char **argv)
{
    const char *only = argc == 4 ? argv[3] : "";
    if (argc < 2 || argc > 4 || (argc == 4 && strcmp(only, "apply") && strcmp(only, "transform"))) {
        fprintf(stderr, "usage: ot_bench WORKLOAD [MIN_SECONDS [apply|transform]]\n");
        return 2;
    }
    double min_seconds = argc >= 3 ? atof(argv[2]) : 1.5;
    workload w = read_workload(argv[1]);

    measure apply = {0, 1.0}, transform = {0, 1.0};
    if (strcmp(only, "transform") != 0) apply = run(apply_round, &w, w.op_count, min_seconds);
    if (strcmp(only, "apply") != 0) transform = run(transform_round, &w, w.pair_count, min_seconds);
    printf("{");
    print_measure("apply", apply, ",");
    print_measure("transform", transform, "");
    printf("}\n");

    for (size_t i = 0; i < w.op_count; i++)
        cJSON_Delete(w.ops[i]);
    for (size_t i = 0; i < w.pair_count; i++)
        cJSON_Delete(w.pairs[i]);
    free(w.ops);
    free(w.pairs);
    cJSON_Delete(w.doc);
    return 0;
}
