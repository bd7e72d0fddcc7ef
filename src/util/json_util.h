/*
 * Small cJSON helpers shared by the pure modules: exact deep equality and the checks that
 * keep parsed JSON unambiguous. No allocation, no state.
 */
#ifndef KONSIL_UTIL_JSON_UTIL_H
#define KONSIL_UTIL_JSON_UTIL_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* Type tests for the hot paths of the pure modules: cJSON's own cJSON_Is* are calls into
 * the shared library, which costs more than the test itself. NULL is no type. */
static inline bool json_is_string(const cJSON *v) { return v && (v->type & 0xFF) == cJSON_String; }
static inline bool json_is_number(const cJSON *v) { return v && (v->type & 0xFF) == cJSON_Number; }
static inline bool json_is_array(const cJSON *v) { return v && (v->type & 0xFF) == cJSON_Array; }
static inline bool json_is_object(const cJSON *v) { return v && (v->type & 0xFF) == cJSON_Object; }

/* Deep equality as JSON values: object key order is ignored, numbers compare by value
 * (exactly, not within an epsilon), strings byte for byte. */
bool json_equal(const cJSON *a, const cJSON *b);

/* Checks that every string and key inside v is well-formed UTF-8 and that no object has
 * a key twice. Returns 0, or -1 with *why set to a static description. */
int json_check_clean(const cJSON *v, const char **why);

/* True when JSON text holds a NUL character, raw or escaped as \u0000: cJSON would cut
 * the string there, so such text must be refused before parsing, never stored shortened. */
bool json_text_has_nul(const char *text, size_t len);

/* Nesting depth: 0 for a scalar, 1 for an empty or flat container, and so on. */
int json_depth(const cJSON *v);

#endif
