/*
 * Small cJSON helpers shared by the pure modules: exact deep equality and the checks that
 * keep parsed JSON unambiguous. No allocation, no state.
 */
#ifndef KONSIL_UTIL_JSON_UTIL_H
#define KONSIL_UTIL_JSON_UTIL_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* Deep equality as JSON values: object key order is ignored, numbers compare by value
 * (exactly, not within an epsilon), strings byte for byte. */
bool json_equal(const cJSON *a, const cJSON *b);

/* True when some object inside v (or v itself) has the same key twice. JavaScript keeps
 * only the last of them, cJSON the first: such input must be refused, not interpreted. */
bool json_has_duplicate_keys(const cJSON *v);

/* Nesting depth: 0 for a scalar, 1 for an empty or flat container, and so on. */
int json_depth(const cJSON *v);

#endif
