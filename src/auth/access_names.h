/*
 * The names a case knows: what pseudonymised readers get replaced by the pseudonym in
 * text. Entries are the display names its clients joined with (whole, and each word of
 * 4 bytes or more: "Mira" of "Mira Sommerfeld" goes too) and the values of the
 * template's identity paths (person.legal_name, person.phone, …) and their words, both
 * only when 4 bytes or longer, so that a value being typed does not make every "M" a
 * name. Matching ignores ASCII case; the longest entry wins; the text is scanned once
 * from left to right, so a replacement is never matched again. Words inside the
 * pseudonym itself ("Klient:in", the default display name) are never entries.
 *
 * The dictionary only grows: a value that was a name once stays one (a phone number
 * changed later must not reappear in old text).
 *
 * Ownership: access_names_new/copy return a dictionary the caller frees with
 * access_names_free; entries are copied in.
 */
#ifndef KONSIL_AUTH_ACCESS_NAMES_H
#define KONSIL_AUTH_ACCESS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The client's pseudonym (one client per case), as pseudonymised readers see it. */
#define ACCESS_PSEUDONYM "Klient:in A"

typedef struct access_names access_names;

access_names *access_names_new(void);
access_names *access_names_copy(const access_names *n);
void access_names_free(access_names *n);

/* A client's display name: the whole name and its words of 4 bytes or more. 0, or -1
 * when memory runs out. */
int access_names_add(access_names *n, const char *display_name);
/* The values at identity (an array of object-key paths) in doc that are strings of 4
 * bytes or more, and their words of 4 bytes or more. 0 or -1 (memory). */
int access_names_learn(access_names *n, const cJSON *identity, const cJSON *doc);

/* How many entries: two dictionaries grown from one are equal exactly when their counts
 * are (entries are never removed). */
size_t access_names_count(const access_names *n);
/* Whether a (or NULL, empty) and b hold the same entries. */
bool access_names_same(const access_names *a, const access_names *b);

/* Whether s holds an entry, and s with each one replaced by the pseudonym: returns 1 and
 * *out (freed by the caller with free), 0 when s holds none (*out NULL), -1 (memory). */
int access_names_redact(const access_names *n, const char *s, char **out);

#endif
