/*
 * The configuration file's syntax (`konsil serve --config FILE`), as pure code: one
 * `key = value` per line; blank lines and comments are skipped. A comment starts with `#`
 * at the beginning of a line or after a blank, and runs to the end of the line (so a value
 * cannot hold " #"). Blanks around the key and the value are dropped. Every key appears at
 * most once. What the keys mean is the caller's: it gets each pair in file order.
 *
 * Refused, with the line's number: a line without `=`, an empty key or value, a key
 * holding a blank, a key given twice, a NUL byte, a line longer than CONFIG_FILE_LINE_MAX.
 *
 * Ownership: the text is the caller's and is changed in place (keys and values end in
 * NULs there); the pointers handed to `each` point into it and live as long as it does.
 */
#ifndef KONSIL_UTIL_CONFIG_FILE_H
#define KONSIL_UTIL_CONFIG_FILE_H

#include <stddef.h>

#define CONFIG_FILE_LINE_MAX 4096

/* Called for each pair; a nonzero return stops the parse, which then fails with the
 * message `each` wrote into err. */
typedef int (*config_file_each)(void *arg, const char *key, const char *value, char *err,
                                size_t errlen);

/* Parses text[0..len); text[len] must be writable (text is NUL-terminated). 0, or -1
 * with err ("line N: what is wrong"). */
int config_file_parse(char *text, size_t len, config_file_each each, void *arg, char *err,
                      size_t errlen);

#endif
