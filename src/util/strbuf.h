/*
 * A growable, always NUL-terminated string for building text (JSON printing, canonical
 * audit records). Once an allocation fails the buffer stays `failed` and further appends
 * do nothing, so builders check once at the end.
 *
 * Ownership: the buffer owns `data` until strbuf_finish() hands it to the caller (who
 * frees it with free()) or frees it when something failed.
 */
#ifndef KONSIL_UTIL_STRBUF_H
#define KONSIL_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *data;
    size_t len, cap;
    bool failed;
} strbuf;

/* Appends n bytes of s. */
void strbuf_put(strbuf *b, const char *s, size_t n);

/* Appends n bytes for the caller to fill; returns where they start, or NULL once an
 * allocation failed. */
char *strbuf_extend(strbuf *b, size_t n);

/* Makes room for n more bytes, so that appending them allocates nothing. false once an
 * allocation failed. */
bool strbuf_reserve(strbuf *b, size_t n);

/* Appends the NUL-terminated s. */
void strbuf_puts(strbuf *b, const char *s);

/* The built string (malloc'ed, even when empty) with its length in *len if len is not
 * NULL, or NULL when an allocation failed. The buffer is empty afterwards. */
char *strbuf_finish(strbuf *b, size_t *len);

#endif
