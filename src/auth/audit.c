/*
 * The audit chain; see audit.h. The canonical printer is written out here rather than
 * borrowed from cJSON's printer: the bytes that are hashed must not change when a library
 * is upgraded, or every stored chain would stop verifying.
 */
#include "auth/audit.h"

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
/* How many entries removed from the middle, with the rest renumbered, verification
 * recognizes as a removal rather than an alteration. */
#define RENUMBER_PROBE 16
/* 2^53: integers up to here are exact doubles and print as plain decimals. */
#define EXACT_INTEGER_LIMIT 9007199254740992.0
/* The head line: HEAD_MAGIC HEAD_VERSION "entries=N hash=H". */
#define HEAD_MAGIC "konsil-audit-head "
#define HEAD_VERSION "v1 "

enum canon_status { CANON_OK = 0, CANON_INVALID = -1, CANON_NO_MEMORY = -2 };

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

/* The canonical form of e as if its seq were `seq` (verification tries other seqs to
 * recognize renumbered entries). On success *out is a malloc'ed string. */
static int canonical_with_seq(const audit_entry *e, int64_t seq, char **out, auth_error *err)
{
    if (!e->action || !e->action[0] || !e->actor_id)
        return auth_fail(err, "audit entry lacks an action or an actor"), CANON_INVALID;
    if (seq < 1 || e->ts_ms < 0)
        return auth_fail(err, "audit entry has a seq below 1 or a negative time"), CANON_INVALID;
    cJSON *details = NULL;
    if (e->details) {
        details = cJSON_ParseWithOpts(e->details, NULL, 1);
        const char *why = NULL;
        if (!details || !cJSON_IsObject(details) || json_check_clean(details, &why) != 0 ||
            json_depth(details) > MAX_DETAILS_DEPTH) {
            cJSON_Delete(details);
            return auth_fail(err, "audit entry details are not one unambiguous JSON object"),
                   CANON_INVALID;
        }
    }
    strbuf b = {0};
    int rc = CANON_OK;
    strbuf_puts(&b, "{\"action\":");
    put_string(&b, e->action);
    strbuf_puts(&b, ",\"actor\":");
    put_string(&b, e->actor_id);
    strbuf_puts(&b, ",\"details\":");
    if (details)
        rc = put_value(&b, details);
    else
        strbuf_puts(&b, "null");
    strbuf_puts(&b, ",\"seq\":");
    put_int(&b, seq);
    strbuf_puts(&b, ",\"session\":");
    if (e->session_id)
        put_string(&b, e->session_id);
    else
        strbuf_puts(&b, "null");
    strbuf_puts(&b, ",\"ts\":");
    put_int(&b, e->ts_ms);
    strbuf_puts(&b, ",\"v\":1}");
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

static bool is_hash(const char *h)
{
    if (strnlen(h, AUDIT_HASH_LEN + 1) != AUDIT_HASH_LEN)
        return false;
    for (int i = 0; i < AUDIT_HASH_LEN; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    }
    return true;
}

/* Whether a is a chain's head: entries >= 0, a hash, and the genesis hash for none. */
static bool is_head(const audit_anchor *a)
{
    return a->seq >= 0 && is_hash(a->hash) &&
           (a->seq > 0 || strcmp(a->hash, AUDIT_GENESIS_HASH) == 0);
}

/* hash_out = hex SHA-256(prev_hash || canonical(e with seq)). */
static int chain_hash(const char *prev_hash, const audit_entry *e, int64_t seq,
                      char hash_out[AUDIT_HASH_LEN + 1], auth_error *err)
{
    char *canonical = NULL;
    int rc = canonical_with_seq(e, seq, &canonical, err);
    if (rc != CANON_OK)
        return rc;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, prev_hash, AUDIT_HASH_LEN) != 1 ||
        EVP_DigestUpdate(ctx, canonical, strlen(canonical)) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1 || digest_len * 2 != AUDIT_HASH_LEN) {
        auth_fail(err, "SHA-256 failed");
        rc = CANON_NO_MEMORY;
    } else {
        auth_hex_encode(digest, digest_len, hash_out);
    }
    EVP_MD_CTX_free(ctx);
    free(canonical);
    return rc;
}

int audit_seal(audit_entry *e, const char *prev_hash, auth_error *err)
{
    if (!prev_hash || !is_hash(prev_hash))
        return auth_fail(err, "previous hash is not 64 lowercase hex digits");
    char hash[AUDIT_HASH_LEN + 1];
    if (chain_hash(prev_hash, e, e->seq, hash, err) != CANON_OK)
        return -1;
    memcpy(e->prev_hash, prev_hash, AUDIT_HASH_LEN + 1);
    memcpy(e->hash, hash, sizeof hash);
    return 0;
}

/* 1 when e's stored hash matches its content sealed with `seq`, 0 when not, -1 when
 * out of memory. */
static int sealed_with(const audit_entry *e, int64_t seq)
{
    char hash[AUDIT_HASH_LEN + 1];
    auth_error ignored = {{0}};
    if (!is_hash(e->prev_hash) || !is_hash(e->hash))
        return 0;
    int rc = chain_hash(e->prev_hash, e, seq, hash, &ignored);
    if (rc == CANON_NO_MEMORY)
        return -1;
    return rc == CANON_OK && strcmp(hash, e->hash) == 0;
}

static int report(audit_report *r, audit_problem problem, size_t index, int64_t seq,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int report(audit_report *r, audit_problem problem, size_t index, int64_t seq,
                  const char *fmt, ...)
{
    r->problem = problem;
    r->index = index;
    r->seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return problem == AUDIT_INTACT ? 0 : 1;
}

static int no_memory(audit_report *r)
{
    report(r, AUDIT_INTACT, 0, 0, "verification ran out of memory");
    return -1;
}

/* Whether e is intact apart from having been renumbered down after entries before it
 * were removed. 1 yes, 0 no, -1 no memory. */
static int renumbered_after_removal(const audit_entry *e)
{
    for (int64_t shift = 1; shift <= RENUMBER_PROBE; shift++) {
        int rc = sealed_with(e, e->seq + shift);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Classifies entries[i], the first entry that breaks the chain; exp_prev and exp_seq are
 * what it would carry if nothing had been touched, intact whether its own hash holds. */
static int classify(const audit_entry *entries, size_t count, size_t i, const char *exp_prev,
                    int64_t exp_seq, bool intact, audit_report *r)
{
    const audit_entry *e = &entries[i];
    bool linked = strcmp(e->prev_hash, exp_prev) == 0;
    if (e->seq < exp_seq)
        return report(r, AUDIT_INSERTED, i, e->seq,
                      "entry seq %" PRId64 " is out of sequence (expected %" PRId64
                      "): inserted", e->seq, exp_seq);
    if (linked) {
        if (!intact && i + 1 < count && strcmp(entries[i + 1].prev_hash, exp_prev) == 0)
            return report(r, AUDIT_INSERTED, i, e->seq,
                          "entry seq %" PRId64 " was inserted: the next entry links past it",
                          e->seq);
        if (!intact)
            return report(r, AUDIT_ALTERED, i, e->seq,
                          "entry seq %" PRId64 " was altered: its hash does not match its content",
                          e->seq);
        return report(r, AUDIT_REMOVED, i, exp_seq,
                      "entries seq %" PRId64 "..%" PRId64 " were removed", exp_seq, e->seq - 1);
    }
    for (size_t j = i > 0 ? i - 1 : 0; j-- > 0;) {
        if (strcmp(entries[j].hash, e->prev_hash) == 0)
            return report(r, AUDIT_INSERTED, j + 1, entries[j + 1].seq,
                          "entry seq %" PRId64 " was inserted: entry seq %" PRId64
                          " links to seq %" PRId64, entries[j + 1].seq, e->seq, entries[j].seq);
    }
    if (e->seq > exp_seq)
        return report(r, AUDIT_REMOVED, i, exp_seq,
                      "entries seq %" PRId64 "..%" PRId64 " were removed", exp_seq, e->seq - 1);
    int renumbered = intact ? 0 : renumbered_after_removal(e);
    if (renumbered < 0)
        return no_memory(r);
    if (intact || renumbered)
        return report(r, AUDIT_REMOVED, i, exp_seq,
                      "the entry that seq %" PRId64 " follows is missing: removed (or replaced)",
                      e->seq);
    return report(r, AUDIT_ALTERED, i, e->seq,
                  "entry seq %" PRId64 " was altered: it neither matches its hash nor links to "
                  "the entry before it", e->seq);
}

int audit_verify(const audit_entry *entries, size_t count, const audit_anchor *anchor,
                 audit_report *r)
{
    const char *exp_prev = AUDIT_GENESIS_HASH;
    int64_t exp_seq = 1;
    for (size_t i = 0; i < count; i++) {
        const audit_entry *e = &entries[i];
        int intact = sealed_with(e, e->seq);
        if (intact < 0)
            return no_memory(r);
        if (!intact || e->seq != exp_seq || strcmp(e->prev_hash, exp_prev) != 0)
            return classify(entries, count, i, exp_prev, exp_seq, intact, r);
        exp_prev = e->hash;
        exp_seq = e->seq + 1;
    }
    if (anchor) {
        if (!is_head(anchor)) {
            report(r, AUDIT_INTACT, 0, 0, "the checkpoint is no chain head (entries %" PRId64
                   ", hash %.64s)", anchor->seq, anchor->hash);
            return -1;
        }
        /* Intact up to here: entries[i] holds seq i + 1 and count == exp_seq - 1. */
        if (anchor->seq >= exp_seq)
            return report(r, AUDIT_REMOVED, count, exp_seq,
                          "the trail holds %zu entries, fewer than the %" PRId64 " its "
                          "checkpoint records: entries were removed (cut from the end, or "
                          "removed and the chain recomputed)", count, anchor->seq);
        if (anchor->seq > 0 && strcmp(entries[anchor->seq - 1].hash, anchor->hash) != 0)
            return report(r, AUDIT_ALTERED, (size_t)(anchor->seq - 1), anchor->seq,
                          "entry seq %" PRId64 " differs from its checkpoint: the trail up to "
                          "it was rewritten (entries changed, removed or inserted, and the "
                          "chain recomputed)", anchor->seq);
    }
    return report(r, AUDIT_INTACT, count, exp_seq - 1, "%zu entries intact", count);
}

int audit_head_format(const audit_anchor *head, char out[AUDIT_HEAD_MAX + 1])
{
    if (!is_head(head))
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
    if (!is_hash(a.hash))
        return auth_fail(err, "the checkpoint's hash is not 64 lowercase hex digits");
    if (!is_head(&a))
        return auth_fail(err, "a checkpoint of 0 entries must carry the genesis hash (64 zeros)");
    *head = a;
    return 0;
}
