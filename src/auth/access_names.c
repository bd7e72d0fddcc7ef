/*
 * The names dictionary; see access_names.h. Entries are kept longest first, with a
 * table of the (lower-cased) bytes they start with, so that text without a name costs
 * one table lookup per byte.
 */
#include "auth/access_names.h"

#include <stdlib.h>
#include <string.h>

/* Entries shorter than this are not learned from the document, and words shorter than
 * this are not taken from a name: too many ordinary words. */
#define NAMES_WORD_MIN 4

struct access_names {
    char **entries;     /* longest first */
    size_t count, cap;
    unsigned char first[256]; /* 1 for each lower-cased first byte of an entry */
};

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Whether the first len bytes of a and b are equal, ignoring ASCII case. */
static bool same_fold(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Whether the word w (len bytes) occurs in s, ignoring ASCII case. */
static bool contains_fold(const char *s, const char *w, size_t len)
{
    for (size_t n = strlen(s); n >= len && *s; s++, n--)
        if (same_fold(s, w, len))
            return true;
    return false;
}

access_names *access_names_new(void)
{
    return calloc(1, sizeof(access_names));
}

void access_names_free(access_names *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++)
        free(n->entries[i]);
    free(n->entries);
    free(n);
}

access_names *access_names_copy(const access_names *from)
{
    access_names *n = access_names_new();

    if (!n || !from)
        return n;
    memcpy(n->first, from->first, sizeof n->first);
    n->entries = calloc(from->count ? from->count : 1, sizeof *n->entries);
    if (!n->entries) {
        free(n);
        return NULL;
    }
    n->cap = from->count;
    for (; n->count < from->count; n->count++)
        if (!(n->entries[n->count] = strdup(from->entries[n->count]))) {
            access_names_free(n);
            return NULL;
        }
    return n;
}

static int add_entry(access_names *n, const char *w, size_t len)
{
    size_t at = 0;
    char *copy;

    if (len == 0 || contains_fold(ACCESS_PSEUDONYM, w, len))
        return 0;
    for (size_t i = 0; i < n->count; i++)
        if (strlen(n->entries[i]) == len && same_fold(n->entries[i], w, len))
            return 0;
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        char **grown = realloc(n->entries, cap * sizeof *grown);
        if (!grown)
            return -1;
        n->entries = grown;
        n->cap = cap;
    }
    if (!(copy = strndup(w, len)))
        return -1;
    while (at < n->count && strlen(n->entries[at]) >= len)
        at++;
    memmove(n->entries + at + 1, n->entries + at, (n->count - at) * sizeof *n->entries);
    n->entries[at] = copy;
    n->count++;
    n->first[lower((unsigned char)w[0])] = 1;
    return 0;
}

static bool separator(char c)
{
    return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' || c == ';' ||
           c == '/';
}

/* value whole (when at least min_whole bytes) and its words of NAMES_WORD_MIN or more. */
static int add_value(access_names *n, const char *value, size_t min_whole)
{
    size_t len = value ? strlen(value) : 0;
    const char *p = value, *start;

    if (!value || len < min_whole || (len > 0 && add_entry(n, value, len) != 0))
        return len < min_whole ? 0 : -1;
    while (*p) {
        while (*p && separator(*p))
            p++;
        start = p;
        while (*p && !separator(*p))
            p++;
        if ((size_t)(p - start) >= NAMES_WORD_MIN && (size_t)(p - start) < len &&
            add_entry(n, start, (size_t)(p - start)) != 0)
            return -1;
    }
    return 0;
}

int access_names_add(access_names *n, const char *display_name)
{
    return add_value(n, display_name, 1);
}

int access_names_learn(access_names *n, const cJSON *identity, const cJSON *doc)
{
    const cJSON *path, *e, *v;

    cJSON_ArrayForEach(path, identity) {
        v = doc;
        cJSON_ArrayForEach(e, path)
            v = cJSON_IsString(e) && cJSON_IsObject(v) ?
                cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
        if (cJSON_IsString(v) && add_value(n, v->valuestring, NAMES_WORD_MIN) != 0)
            return -1;
    }
    return 0;
}

size_t access_names_count(const access_names *n)
{
    return n ? n->count : 0;
}

bool access_names_same(const access_names *a, const access_names *b)
{
    size_t na = access_names_count(a), nb = access_names_count(b);

    if (a == b || (na == 0 && nb == 0))
        return true;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a->entries[i], b->entries[i]) != 0)
            return false;
    return true;
}

/* The length of the longest entry at s, or 0. */
static size_t match_at(const access_names *n, const char *s, size_t left)
{
    if (!n->first[lower((unsigned char)*s)])
        return 0;
    for (size_t i = 0; i < n->count; i++) {
        size_t len = strlen(n->entries[i]);
        if (len <= left && same_fold(s, n->entries[i], len))
            return len;
    }
    return 0;
}

int access_names_redact(const access_names *n, const char *s, char **out)
{
    size_t len = strlen(s), hits = 0, pl = strlen(ACCESS_PSEUDONYM), o = 0, m;
    char *text;

    *out = NULL;
    if (!n || n->count == 0)
        return 0;
    for (size_t i = 0; i < len; i += m ? m : 1)
        if ((m = match_at(n, s + i, len - i)) > 0)
            hits++;
    if (hits == 0)
        return 0;
    if (!(text = malloc(len + hits * pl + 1)))
        return -1;
    for (size_t i = 0; i < len;) {
        if ((m = match_at(n, s + i, len - i)) > 0) {
            memcpy(text + o, ACCESS_PSEUDONYM, pl);
            o += pl;
            i += m;
        } else {
            text[o++] = s[i++];
        }
    }
    text[o] = '\0';
    *out = text;
    return 1;
}
