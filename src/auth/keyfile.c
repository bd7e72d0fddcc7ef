/*
 * The key store's file format (see keyfile.h).
 */
#include "auth/keyfile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/strbuf.h"

#define MAGIC "konsil-keys v1"

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int valid_case_id(const char *s, size_t n)
{
    if (n == 0 || n > KEYFILE_CASE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == ':' ||
              s[i] == '-'))
            return 0;
    return 1;
}

/* Wraps data[0..len) under master for (what, record): base64url into out. */
static int wrap(const keyfile *kf, const unsigned char master[SEALED_KEY_LEN], const char *what,
                const char *record, const void *data, size_t len, char *out)
{
    char ad[SEALED_AD_MAX];
    size_t adlen = sealed_ad(ad, what, kf->id, record);
    unsigned char *rec = NULL;
    size_t reclen;

    if (!adlen || sealed_seal(NULL, master, ad, adlen, data, len, &rec, &reclen) != 0)
        return -1;
    auth_b64url_encode(rec, reclen, out);
    free(rec);
    return 0;
}

/* Unwraps text (base64url) under master for (what, record) into out[0..len). 0 or -1. */
static int unwrap(const keyfile *kf, const unsigned char master[SEALED_KEY_LEN],
                  const char *what, const char *record, const char *text, void *out,
                  size_t len)
{
    unsigned char rec[SEALED_OVERHEAD + 64];
    char ad[SEALED_AD_MAX], *pt = NULL;
    size_t adlen = sealed_ad(ad, what, kf->id, record), ptlen = 0;
    long n = auth_b64url_decode(text, strlen(text), rec, sizeof rec);
    int rc = -1;

    if (adlen && n > 0 && sealed_open(NULL, master, ad, adlen, rec, (size_t)n, &pt, &ptlen) == 0 &&
        ptlen == len) {
        memcpy(out, pt, len);
        rc = 0;
    }
    if (pt) {
        OPENSSL_cleanse(pt, ptlen);
        free(pt);
    }
    return rc;
}

int keyfile_new(keyfile *kf, const unsigned char master[SEALED_KEY_LEN], auth_error *err)
{
    unsigned char id[KEYFILE_ID_LEN / 2];

    memset(kf, 0, sizeof *kf);
    if (RAND_bytes(id, sizeof id) != 1)
        return auth_fail(err, "no random bytes for the key store's id");
    auth_hex_encode(id, sizeof id, kf->id);
    if (wrap(kf, master, "keys.check", "", KEYFILE_CHECK_TEXT, sizeof KEYFILE_CHECK_TEXT - 1,
             kf->check) != 0)
        return auth_fail(err, "cannot wrap the key store's check");
    return 0;
}

void keyfile_clear(keyfile *kf)
{
    if (kf->entries) {
        OPENSSL_cleanse(kf->entries, kf->cap * sizeof *kf->entries);
        free(kf->entries);
    }
    memset(kf, 0, sizeof *kf);
}

/* Room for one more entry. */
static int reserve(keyfile *kf)
{
    keyfile_entry *grown;
    size_t cap;

    if (kf->n < kf->cap)
        return 0;
    cap = kf->cap ? kf->cap * 2 : 64;
    grown = calloc(cap, sizeof *grown);
    if (!grown)
        return -1;
    if (kf->entries) {
        memcpy(grown, kf->entries, kf->n * sizeof *grown);
        OPENSSL_cleanse(kf->entries, kf->cap * sizeof *kf->entries);
        free(kf->entries);
    }
    kf->entries = grown;
    kf->cap = cap;
    return 0;
}

/* The next line of [*p, end) without its newline into line and n; 0 at the end. */
static int next_line(const char **p, const char *end, const char **line, size_t *n)
{
    const char *nl;

    if (*p >= end)
        return 0;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    *line = *p;
    *n = (size_t)((nl ? nl : end) - *p);
    *p = nl ? nl + 1 : end;
    return 1;
}

static int parse_int(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int starts(const char *line, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(line, word, w) == 0;
}

int keyfile_parse(keyfile *kf, const char *text, size_t len, auth_error *err)
{
    const char *p = text, *end = text + len, *line;
    size_t n, lineno = 0;
    int ended = 0;

    memset(kf, 0, sizeof *kf);
    while (next_line(&p, end, &line, &n)) {
        lineno++;
        if (ended) {
            keyfile_clear(kf);
            return auth_fail(err, "key store: line %zu: text after \"end\"", lineno);
        }
        if (lineno == 1) {
            if (n != strlen(MAGIC) || memcmp(line, MAGIC, n) != 0)
                return auth_fail(err, "not a key store (its first line is not \"" MAGIC "\")");
        } else if (lineno == 2) {
            if (!starts(line, n, "id ") || n != 3 + KEYFILE_ID_LEN)
                goto bad;
            for (size_t i = 3; i < n; i++)
                if (hex_value(line[i]) < 0 || (line[i] >= 'A' && line[i] <= 'F'))
                    goto bad;
            memcpy(kf->id, line + 3, KEYFILE_ID_LEN);
        } else if (lineno == 3) {
            if (!starts(line, n, "generation ") || parse_int(line + 11, n - 11, &kf->generation))
                goto bad;
        } else if (lineno == 4) {
            if (!starts(line, n, "check ") || n != 6 + KEYFILE_CHECK_LEN)
                goto bad;
            memcpy(kf->check, line + 6, KEYFILE_CHECK_LEN);
        } else if (n == 3 && memcmp(line, "end", 3) == 0) {
            ended = 1;
        } else {
            const char *id = line + 4, *sp1, *sp2;
            keyfile_entry *e;
            if (!starts(line, n, "key ") ||
                !(sp1 = memchr(id, ' ', (size_t)(line + n - id))) ||
                !(sp2 = memchr(sp1 + 1, ' ', (size_t)(line + n - sp1 - 1))) ||
                !valid_case_id(id, (size_t)(sp1 - id)) ||
                (size_t)(line + n - sp2 - 1) != KEYFILE_WRAPPED_LEN || reserve(kf) != 0)
                goto bad;
            e = &kf->entries[kf->n];
            memset(e, 0, sizeof *e);
            memcpy(e->case_id, id, (size_t)(sp1 - id));
            if (parse_int(sp1 + 1, (size_t)(sp2 - sp1 - 1), &e->created_ms) != 0)
                goto bad;
            memcpy(e->wrapped, sp2 + 1, KEYFILE_WRAPPED_LEN);
            if (kf->n && strcmp(kf->entries[kf->n - 1].case_id, e->case_id) >= 0) {
                keyfile_clear(kf);
                return auth_fail(err, "key store: line %zu: keys out of order or named twice",
                                 lineno);
            }
            kf->n++;
        }
    }
    if (lineno < 4 || !ended) {
        keyfile_clear(kf);
        return auth_fail(err, "key store: cut short (no \"end\" line)");
    }
    return 0;
bad:
    keyfile_clear(kf);
    return auth_fail(err, "key store: line %zu is malformed", lineno);
}

int keyfile_unlock(keyfile *kf, const unsigned char master[SEALED_KEY_LEN],
                   const keyfile *known, auth_error *err)
{
    char check[sizeof KEYFILE_CHECK_TEXT];

    if (unwrap(kf, master, "keys.check", "", kf->check, check, sizeof check - 1) != 0 ||
        memcmp(check, KEYFILE_CHECK_TEXT, sizeof check - 1) != 0)
        return auth_fail(err, "the master key does not open this key store (another master "
                              "key, or the key store of another database)");
    for (size_t i = 0; i < kf->n; i++) {
        keyfile_entry *e = &kf->entries[i];
        const keyfile_entry *k = known && strcmp(known->id, kf->id) == 0 ?
                                 keyfile_find(known, e->case_id) : NULL;
        if (k && k->unlocked && strcmp(k->wrapped, e->wrapped) == 0) {
            memcpy(e->key, k->key, SEALED_KEY_LEN);
        } else if (unwrap(kf, master, "keys", e->case_id, e->wrapped, e->key,
                          SEALED_KEY_LEN) != 0) {
            return auth_fail(err, "the key of case %s does not unwrap: the key store is "
                                  "damaged", e->case_id);
        }
        e->unlocked = 1;
    }
    return 0;
}

char *keyfile_format(const keyfile *kf)
{
    strbuf b = {0};
    char line[KEYFILE_CASE_ID_MAX + KEYFILE_WRAPPED_LEN + 64];

    snprintf(line, sizeof line, MAGIC "\nid %s\ngeneration %" PRId64 "\ncheck %s\n", kf->id,
             kf->generation, kf->check);
    strbuf_puts(&b, line);
    for (size_t i = 0; i < kf->n; i++) {
        const keyfile_entry *e = &kf->entries[i];
        snprintf(line, sizeof line, "key %s %" PRId64 " %s\n", e->case_id, e->created_ms,
                 e->wrapped);
        strbuf_puts(&b, line);
    }
    strbuf_puts(&b, "end\n");
    return strbuf_finish(&b, NULL);
}

/* The index where case_id is or would go. */
static size_t position(const keyfile *kf, const char *case_id, int *found)
{
    size_t lo = 0, hi = kf->n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kf->entries[mid].case_id, case_id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

keyfile_entry *keyfile_find(const keyfile *kf, const char *case_id)
{
    int found;
    size_t at = position(kf, case_id, &found);

    return found ? &kf->entries[at] : NULL;
}

keyfile_entry *keyfile_add(keyfile *kf, const unsigned char master[SEALED_KEY_LEN],
                           const char *case_id, int64_t now_ms, auth_error *err)
{
    int found;
    size_t at = position(kf, case_id, &found);
    keyfile_entry e;

    if (found)
        return &kf->entries[at];
    if (!valid_case_id(case_id, strlen(case_id))) {
        auth_fail(err, "not a case id: \"%.70s\"", case_id);
        return NULL;
    }
    memset(&e, 0, sizeof e);
    snprintf(e.case_id, sizeof e.case_id, "%s", case_id);
    e.created_ms = now_ms;
    e.unlocked = 1;
    if (RAND_bytes(e.key, SEALED_KEY_LEN) != 1 ||
        wrap(kf, master, "keys", case_id, e.key, SEALED_KEY_LEN, e.wrapped) != 0 ||
        reserve(kf) != 0) {
        OPENSSL_cleanse(&e, sizeof e);
        auth_fail(err, "cannot make a key for case %s", case_id);
        return NULL;
    }
    memmove(&kf->entries[at + 1], &kf->entries[at], (kf->n - at) * sizeof e);
    kf->entries[at] = e;
    kf->n++;
    OPENSSL_cleanse(&e, sizeof e);
    return &kf->entries[at];
}

int keyfile_remove(keyfile *kf, const char *case_id)
{
    int found;
    size_t at = position(kf, case_id, &found);

    if (!found)
        return 0;
    memmove(&kf->entries[at], &kf->entries[at + 1], (kf->n - at - 1) * sizeof kf->entries[0]);
    kf->n--;
    OPENSSL_cleanse(&kf->entries[kf->n], sizeof kf->entries[0]);
    return 1;
}

int keyfile_rewrap(keyfile *kf, const unsigned char new_master[SEALED_KEY_LEN],
                   auth_error *err)
{
    for (size_t i = 0; i < kf->n; i++) {
        keyfile_entry *e = &kf->entries[i];
        if (!e->unlocked || wrap(kf, new_master, "keys", e->case_id, e->key, SEALED_KEY_LEN,
                                 e->wrapped) != 0)
            return auth_fail(err, "cannot wrap the key of case %s anew", e->case_id);
    }
    if (wrap(kf, new_master, "keys.check", "", KEYFILE_CHECK_TEXT,
             sizeof KEYFILE_CHECK_TEXT - 1, kf->check) != 0)
        return auth_fail(err, "cannot wrap the key store's check anew");
    return 0;
}

int keyfile_master_parse(const char *text, size_t len, unsigned char out[SEALED_KEY_LEN],
                         auth_error *err)
{
    const char *p = text, *end = text + len;

    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
        end--;
    if (end - p != 2 * SEALED_KEY_LEN)
        return auth_fail(err, "a master key is 64 hex digits (32 bytes), e.g. the output of "
                              "`openssl rand -hex 32`");
    for (int i = 0; i < SEALED_KEY_LEN; i++) {
        int hi = hex_value(p[2 * i]), lo = hex_value(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return auth_fail(err, "a master key is 64 hex digits (32 bytes), e.g. the output "
                                  "of `openssl rand -hex 32`");
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
