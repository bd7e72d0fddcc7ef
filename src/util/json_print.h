/*
 * Compact JSON text from a cJSON tree, with numbers that survive the round trip exactly.
 *
 * cJSON's own printer keeps 15 significant digits whenever that lands within an epsilon of
 * the value, so 0.1+0.2 would print as 0.3 and 2^53 as 9.00719925474099e+15: a browser
 * would then hold a different number than the hub. Here every number is printed with the
 * fewest digits (15, 16 or 17) that parse back to the identical double, as JavaScript does.
 *
 * Ownership: the returned string is malloc'ed; the caller frees it with free().
 * Returns NULL only when memory runs out.
 */
#ifndef KONSIL_UTIL_JSON_PRINT_H
#define KONSIL_UTIL_JSON_PRINT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "util/strbuf.h"

char *json_print(const cJSON *v);

/* Same, and stores the length (without the terminating NUL) in *len. */
char *json_print_len(const cJSON *v, size_t *len);

/* Appends the same text to b (NULL prints as null), for builders of larger texts. */
void json_print_to(strbuf *b, const cJSON *v);

/* Appends s (UTF-8) as a JSON string literal: quoted, with quote, backslash and control
 * characters escaped as JSON.stringify does, every other byte as it is. */
void json_print_string(strbuf *b, const char *s);

/* The length json_print() would give v (NULL: 4, "null"), without printing it; and
 * that of s as a JSON string literal (quotes included). Both walk v or s once. */
size_t json_printed_len(const cJSON *v);
size_t json_string_len(const char *s);

/* Writes the shortest exact form of d into out (at least 32 bytes); returns its length.
 * Non-finite numbers, which JSON cannot hold, print as null, as in JavaScript. */
int json_format_number(double d, char out[32]);

#endif
