/*
 * The audit chain's entries: their canonical forms, hashes and seals, the digest of an
 * erasure, and the head line (see audit.h; verification is audit_verify.c). The canonical
 * printer is written out here rather than borrowed from cJSON's printer: the bytes that
 * are hashed must not change when a library is upgraded, or every stored chain would stop
 * verifying.
 */
#include "auth/audit_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "auth/encoding.h"
#include "util/json_util.h"
#include "util/strbuf.h"

#define MAX_DETAILS_DEPTH 32
/* 2^53: integers up to here are exact doubles and print as plain decimals. */
#define EXACT_INTEGER_LIMIT 9007199254740992.0
/* The head line: HEAD_MAGIC HEAD_VERSION "entries=N hash=H". */
#define HEAD_MAGIC "konsil-audit-head "
#define HEAD_VERSION "v1 "

static void put_string(strbuf *b, const char *s)
{
    strbuf_puts(b, "\"");
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
            continue;
        strbuf_put(b, run, (size_t)(s - run));
        if (c == '\0')
            break;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        strbuf_puts(b, esc);
        run = s + 1;
    }
    strbuf_puts(b, "\"");
}

static void put_int(strbuf *b, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    strbuf_puts(b, num);
}

static int compare_members(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return strcmp(a->string, b->string);
}

static int put_value(strbuf *b, const cJSON *v);

static int put_object(strbuf *b, const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    const cJSON **members = n ? malloc(n * sizeof *members) : NULL;
    if (n && !members)
        return CANON_NO_MEMORY;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next) members[i++] = c;
    qsort(members, n, sizeof *members, compare_members);
    int rc = CANON_OK;
    strbuf_puts(b, "{");
    for (i = 0; i < n && rc == CANON_OK; i++) {
        if (i) strbuf_puts(b, ",");
        put_string(b, members[i]->string);
        strbuf_puts(b, ":");
        rc = put_value(b, members[i]);
    }
    strbuf_puts(b, "}");
    free(members);
    return rc;
}

static int put_value(strbuf *b, const cJSON *v)
{
    if (cJSON_IsObject(v))
        return put_object(b, v);
    if (cJSON_IsArray(v)) {
        strbuf_puts(b, "[");
        int rc = CANON_OK;
        for (const cJSON *c = v->child; c && rc == CANON_OK; c = c->next) {
            if (c != v->child) strbuf_puts(b, ",");
            rc = put_value(b, c);
        }
        strbuf_puts(b, "]");
        return rc;
    }
    if (cJSON_IsString(v)) {
        put_string(b, v->valuestring);
        return CANON_OK;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d))
            return CANON_INVALID;
        if (d == floor(d) && fabs(d) <= EXACT_INTEGER_LIMIT) {
            put_int(b, (int64_t)d);
        } else {
            char num[40];
            snprintf(num, sizeof num, "%.17g", d);
            strbuf_puts(b, num);
        }
        return CANON_OK;
    }
    if (cJSON_IsTrue(v)) strbuf_puts(b, "true");
    else if (cJSON_IsFalse(v)) strbuf_puts(b, "false");
    else if (cJSON_IsNull(v)) strbuf_puts(b, "null");
    else return CANON_INVALID;
    return CANON_OK;
}

/* e's details, parsed and checked (NULL when it has none). CANON_OK or CANON_INVALID. */
static int parse_details(const audit_entry *e, cJSON **out, auth_error *err)
{
    cJSON *details = NULL;
    const char *why = NULL;

    *out = NULL;
    if (!e->details)
        return CANON_OK;
    details = cJSON_ParseWithOpts(e->details, NULL, 1);
    if (!details || !cJSON_IsObject(details) || json_check_clean(details, &why) != 0 ||
        json_depth(details) > MAX_DETAILS_DEPTH) {
        cJSON_Delete(details);
        auth_fail(err, "audit entry details are not one unambiguous JSON object");
        return CANON_INVALID;
    }
    *out = details;
    return CANON_OK;
}

static bool is_nonce(const char *n)
{
    if (!n || strnlen(n, AUDIT_NONCE_LEN + 1) != AUDIT_NONCE_LEN)
        return false;
    for (int i = 0; i < AUDIT_NONCE_LEN; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return false;
    return true;
}

/* The canonical form of e's content as if its seq were `seq` (verification tries other
 * seqs to recognize renumbered format-1 entries; format 2's content holds no seq). On
 * success *out is a malloc'ed string. */
static int canonical_with_seq(const audit_entry *e, int64_t seq, char **out, auth_error *err)
{
    int v2 = e->format == AUDIT_FORMAT_V2;
    cJSON *details = NULL;
    int rc;

    if (e->emptied_by)
        return auth_fail(err, "an emptied audit entry has no content"), CANON_INVALID;
    if (e->format != 0 && e->format != AUDIT_FORMAT_V1 && !v2)
        return auth_fail(err, "audit entry of an unknown format %d", e->format), CANON_INVALID;
    if (!e->action || !e->action[0] || !e->actor_id)
        return auth_fail(err, "audit entry lacks an action or an actor"), CANON_INVALID;
    if (seq < 1 || e->ts_ms < 0)
        return auth_fail(err, "audit entry has a seq below 1 or a negative time"), CANON_INVALID;
    if (v2 && !is_nonce(e->nonce))
        return auth_fail(err, "audit entry's nonce is not 32 lowercase hex digits"),
               CANON_INVALID;
    if ((rc = parse_details(e, &details, err)) != CANON_OK)
        return rc;
    strbuf b = {0};
    rc = CANON_OK;
    strbuf_puts(&b, "{\"action\":");
    put_string(&b, e->action);
    strbuf_puts(&b, ",\"actor\":");
    put_string(&b, e->actor_id);
    strbuf_puts(&b, ",\"details\":");
    if (details)
        rc = put_value(&b, details);
    else
        strbuf_puts(&b, "null");
    if (v2) {
        strbuf_puts(&b, ",\"nonce\":");
        put_string(&b, e->nonce);
    } else {
        strbuf_puts(&b, ",\"seq\":");
        put_int(&b, seq);
    }
    strbuf_puts(&b, ",\"session\":");
    if (e->session_id)
        put_string(&b, e->session_id);
    else
        strbuf_puts(&b, "null");
    if (!v2) {
        strbuf_puts(&b, ",\"ts\":");
        put_int(&b, e->ts_ms);
        strbuf_puts(&b, ",\"v\":1");
    }
    strbuf_puts(&b, "}");
    cJSON_Delete(details);
    char *text = strbuf_finish(&b, NULL);
    if (rc == CANON_OK && !text)
        rc = CANON_NO_MEMORY;
    if (rc != CANON_OK) {
        free(text);
        if (rc == CANON_NO_MEMORY)
            auth_fail(err, "out of memory");
        else
            auth_fail(err, "audit entry details hold a number that is not finite");
        return rc;
    }
    *out = text;
    return CANON_OK;
}

char *audit_canonical(const audit_entry *e, auth_error *err)
{
    char *out = NULL;
    return canonical_with_seq(e, e->seq, &out, err) == CANON_OK ? out : NULL;
}

bool audit_is_hash(const char *h)
{
    if (strnlen(h, AUDIT_HASH_LEN + 1) != AUDIT_HASH_LEN)
        return false;
    for (int i = 0; i < AUDIT_HASH_LEN; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    }
    return true;
}

bool audit_is_head(const audit_anchor *a)
{
    return a->seq >= 0 && audit_is_hash(a->hash) &&
           (a->seq > 0 || strcmp(a->hash, AUDIT_GENESIS_HASH) == 0);
}

/* hex SHA-256 of a || b (b may be NULL). CANON_OK or CANON_NO_MEMORY. */
static int sha256_hex(const char *a, size_t alen, const char *b, size_t blen,
                      char out[AUDIT_HASH_LEN + 1], auth_error *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = CANON_OK;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, alen) != 1 || (b && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1 || digest_len * 2 != AUDIT_HASH_LEN) {
        auth_fail(err, "SHA-256 failed");
        rc = CANON_NO_MEMORY;
    } else {
        auth_hex_encode(digest, digest_len, out);
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

int audit_content_hash(const audit_entry *e, char out[AUDIT_HASH_LEN + 1], auth_error *err)
{
    char *canonical = NULL;
    int rc = canonical_with_seq(e, e->seq, &canonical, err);

    if (rc == CANON_OK)
        rc = sha256_hex(canonical, strlen(canonical), NULL, 0, out, err);
    free(canonical);
    return rc;
}

int audit_chain_hash(const char *prev_hash, const audit_entry *e, int64_t seq,
                     const char *content_hash, char hash_out[AUDIT_HASH_LEN + 1],
                     auth_error *err)
{
    char *canonical = NULL, link[160];
    int rc;

    if (e->format == AUDIT_FORMAT_V2) {
        if (seq < 1 || e->ts_ms < 0 || !content_hash || !audit_is_hash(content_hash))
            return auth_fail(err, "audit entry has a seq below 1, a negative time or no "
                                  "content hash"), CANON_INVALID;
        snprintf(link, sizeof link, "{\"content\":\"%s\",\"seq\":%" PRId64 ",\"ts\":%"
                 PRId64 ",\"v\":2}", content_hash, seq, e->ts_ms);
        return sha256_hex(prev_hash, AUDIT_HASH_LEN, link, strlen(link), hash_out, err);
    }
    rc = canonical_with_seq(e, seq, &canonical, err);
    if (rc == CANON_OK)
        rc = sha256_hex(prev_hash, AUDIT_HASH_LEN, canonical, strlen(canonical), hash_out, err);
    free(canonical);
    return rc;
}

int audit_seal(audit_entry *e, const char *prev_hash, auth_error *err)
{
    char hash[AUDIT_HASH_LEN + 1], content[AUDIT_HASH_LEN + 1] = "";

    if (!prev_hash || !audit_is_hash(prev_hash))
        return auth_fail(err, "previous hash is not 64 lowercase hex digits");
    if (e->emptied_by)
        return auth_fail(err, "an emptied audit entry cannot be sealed");
    if (e->format == AUDIT_FORMAT_V2 && audit_content_hash(e, content, err) != CANON_OK)
        return -1;
    if (audit_chain_hash(prev_hash, e, e->seq, content, hash, err) != CANON_OK)
        return -1;
    memcpy(e->content_hash, content, sizeof content);
    memcpy(e->prev_hash, prev_hash, AUDIT_HASH_LEN + 1);
    memcpy(e->hash, hash, sizeof hash);
    return 0;
}

int audit_emptied_digest(const int64_t *seqs, const char (*hashes)[AUDIT_HASH_LEN + 1],
                         size_t n, char out[AUDIT_HASH_LEN + 1])
{
    strbuf b = {0};
    auth_error ignored = {{0}};
    char line[AUDIT_HASH_LEN + 32];
    char *text;
    int rc;

    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "%" PRId64 ":%.64s\n", seqs[i], hashes[i]);
        strbuf_puts(&b, line);
    }
    text = strbuf_finish(&b, NULL);
    if (!text)
        return -1;
    rc = sha256_hex(text, strlen(text), NULL, 0, out, &ignored);
    free(text);
    return rc == CANON_OK ? 0 : -1;
}

int audit_head_format(const audit_anchor *head, char out[AUDIT_HEAD_MAX + 1])
{
    if (!audit_is_head(head))
        return -1;
    snprintf(out, AUDIT_HEAD_MAX + 1, HEAD_MAGIC HEAD_VERSION "entries=%" PRId64 " hash=%s",
             head->seq, head->hash);
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Consumes word from [*p, end) when the text continues with it. */
static bool take(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

int audit_head_parse(const char *text, audit_anchor *head, auth_error *err)
{
    const char *p = text, *end = text + strlen(text);
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    if (!take(&p, end, HEAD_MAGIC))
        return auth_fail(err, "not a checkpoint: expected the line `konsil audit head` "
                              "prints, \"konsil-audit-head v1 entries=N hash=H\"");
    if (!take(&p, end, HEAD_VERSION))
        return auth_fail(err, "the checkpoint is of another version than v1, the only one "
                              "this konsil reads");
    if (!take(&p, end, "entries="))
        return auth_fail(err, "the checkpoint lacks \"entries=N\" after its version");
    const char *digits = p;
    int64_t n = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - (*p - '0')) / 10)
            return auth_fail(err, "the checkpoint's entry count is out of range");
        n = n * 10 + (*p - '0');
    }
    if (p == digits || (*digits == '0' && p - digits > 1))
        return auth_fail(err, "the checkpoint's entry count is not a plain decimal number");
    if (!take(&p, end, " hash="))
        return auth_fail(err, "the checkpoint lacks \" hash=H\" after its entry count");
    if (end - p != AUDIT_HASH_LEN)
        return auth_fail(err, "the checkpoint's hash is not 64 lowercase hex digits "
                              "(or something follows it)");
    audit_anchor a = {.seq = n};
    memcpy(a.hash, p, AUDIT_HASH_LEN);
    a.hash[AUDIT_HASH_LEN] = '\0';
    if (!audit_is_hash(a.hash))
        return auth_fail(err, "the checkpoint's hash is not 64 lowercase hex digits");
    if (!audit_is_head(&a))
        return auth_fail(err, "a checkpoint of 0 entries must carry the genesis hash (64 zeros)");
    *head = a;
    return 0;
}
