/*
 * The configuration file's syntax (see config_file.h): lines cut in place, keys checked
 * for repeats against the ones seen before (a file holds a few dozen at most).
 */
#include "util/config_file.h"

#include <stdio.h>
#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Cuts a comment off line (a '#' at its start or after a blank). */
static void cut_comment(char *line)
{
    for (char *p = line; *p; p++)
        if (*p == '#' && (p == line || blank(p[-1]))) {
            *p = '\0';
            return;
        }
}

static char *trim(char *s)
{
    size_t n;

    while (blank(*s))
        s++;
    n = strlen(s);
    while (n && blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

int config_file_parse(char *text, size_t len, config_file_each each, void *arg, char *err,
                      size_t errlen)
{
    const char *keys[256];
    size_t n_keys = 0, number = 0;
    char *p = text, *end = text + len, why[400];

    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "the file holds a NUL byte");
        return -1;
    }
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p, *eq, *key, *value;
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        number++;
        p += l + (nl ? 1 : 0);
        if (l > CONFIG_FILE_LINE_MAX) {
            snprintf(err, errlen, "line %zu: longer than %d bytes", number, CONFIG_FILE_LINE_MAX);
            return -1;
        }
        line[l] = '\0';
        cut_comment(line);
        line = trim(line);
        if (!*line)
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            snprintf(err, errlen, "line %zu: not `key = value`", number);
            return -1;
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (!*key || !*value) {
            snprintf(err, errlen, "line %zu: %s", number, *key ? "the value is empty" :
                     "the key is empty");
            return -1;
        }
        if (strpbrk(key, " \t")) {
            snprintf(err, errlen, "line %zu: a key has no blanks ('%.100s')", number, key);
            return -1;
        }
        for (size_t i = 0; i < n_keys; i++)
            if (strcmp(keys[i], key) == 0) {
                snprintf(err, errlen, "line %zu: %.100s is given twice", number, key);
                return -1;
            }
        if (n_keys == sizeof keys / sizeof keys[0]) {
            snprintf(err, errlen, "line %zu: more than %zu keys", number, n_keys);
            return -1;
        }
        keys[n_keys++] = key;
        why[0] = '\0';
        if (each(arg, key, value, why, sizeof why) != 0) {
            snprintf(err, errlen, "line %zu: %s", number, why);
            return -1;
        }
    }
    return 0;
}
