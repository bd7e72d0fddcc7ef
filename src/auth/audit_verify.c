/*
 * Verifying a stored audit chain (see audit.h): every entry's hash against its content
 * (or, emptied, against its kept content hash), every link to the entry before it, the
 * seqs without gaps, the emptied entries against the erasures that name them, and the
 * chain against a checkpoint. The first problem found is reported, classified as an
 * alteration, an insertion, a removal or an emptying no erasure accounts for.
 */
#include "auth/audit_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* How many entries removed from the middle, with the rest renumbered, verification
 * recognizes as a removal rather than an alteration. */
#define RENUMBER_PROBE 16

/* 1 when e's stored hash matches its content sealed with `seq`, 0 when not, -1 when
 * out of memory. An emptied format-1 entry has no content to check: 1 (its links and
 * its erasure are checked instead). */
static int sealed_with(const audit_entry *e, int64_t seq)
{
    char hash[AUDIT_HASH_LEN + 1], content[AUDIT_HASH_LEN + 1];
    const char *content_hash = NULL;
    auth_error ignored = {{0}};
    int rc;

    if (!audit_is_hash(e->prev_hash) || !audit_is_hash(e->hash))
        return 0;
    if (e->format == AUDIT_FORMAT_V2) {
        if (!audit_is_hash(e->content_hash))
            return 0;
        if (!e->emptied_by) {
            rc = audit_content_hash(e, content, &ignored);
            if (rc == CANON_NO_MEMORY)
                return -1;
            if (rc != CANON_OK || strcmp(content, e->content_hash) != 0)
                return 0;
        }
        content_hash = e->content_hash;
    } else if (e->emptied_by) {
        return 1;
    }
    rc = audit_chain_hash(e->prev_hash, e, seq, content_hash, hash, &ignored);
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

/* What an erasure's entry says it emptied: *count and digest from its details. 0, or -1
 * when e is no erasure entry that records them. */
static int erasure_claim(const audit_entry *e, int64_t *count, char digest[AUDIT_HASH_LEN + 1])
{
    cJSON *d;
    const cJSON *n, *h;
    int rc = -1;

    if (e->emptied_by || !e->action || strcmp(e->action, AUDIT_ERASE_ACTION) != 0 ||
        !e->details || !(d = cJSON_Parse(e->details)))
        return -1;
    n = cJSON_GetObjectItemCaseSensitive(d, "emptied");
    h = cJSON_GetObjectItemCaseSensitive(d, "emptied_digest");
    if (cJSON_IsNumber(n) && n->valuedouble >= 0 && cJSON_IsString(h) &&
        audit_is_hash(h->valuestring)) {
        *count = (int64_t)n->valuedouble;
        memcpy(digest, h->valuestring, AUDIT_HASH_LEN + 1);
        rc = 0;
    }
    cJSON_Delete(d);
    return rc;
}

typedef struct emptied {
    int64_t by, seq;
    const char *hash;
} emptied;

static int by_erasure(const void *x, const void *y)
{
    const emptied *a = x, *b = y;
    return a->by != b->by ? (a->by < b->by ? -1 : 1) : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Whether the n emptied entries at list (one erasure's) are what claim/digest record. 1
 * yes, 0 no, -1 no memory. */
static int group_matches(const emptied *list, size_t n, int64_t claimed,
                         const char digest[AUDIT_HASH_LEN + 1])
{
    int64_t *seqs = n ? malloc(n * sizeof *seqs) : NULL;
    char (*hashes)[AUDIT_HASH_LEN + 1] = n ? malloc(n * sizeof *hashes) : NULL;
    char found[AUDIT_HASH_LEN + 1];
    int rc = -1;

    if (n && (!seqs || !hashes))
        goto out;
    for (size_t i = 0; i < n; i++) {
        seqs[i] = list[i].seq;
        memcpy(hashes[i], list[i].hash, AUDIT_HASH_LEN + 1);
    }
    if (audit_emptied_digest(seqs, (const char (*)[AUDIT_HASH_LEN + 1])hashes, n, found) == 0)
        rc = (int64_t)n == claimed && strcmp(found, digest) == 0;
out:
    free(seqs);
    free(hashes);
    return rc;
}

/* The emptied entries against the erasures that emptied them, on a chain whose hashes
 * and links hold (entries[i] has seq i + 1): each emptied entry names a later erasure's
 * entry, and each erasure's entry records exactly the entries that name it (count and
 * digest). 0 intact, 1 a problem (in *r), -1 no memory. */
static int check_erasures(const audit_entry *entries, size_t count, audit_report *r)
{
    emptied *list = NULL;
    size_t n = 0, cap = 0, at = 0;
    int64_t claimed;
    char digest[AUDIT_HASH_LEN + 1];
    int rc = 0;

    for (size_t i = 0; i < count; i++) {
        const audit_entry *e = &entries[i];
        int64_t by = e->emptied_by;
        if (!by)
            continue;
        if (by <= e->seq || by > (int64_t)count ||
            erasure_claim(&entries[by - 1], &claimed, digest) != 0) {
            rc = report(r, AUDIT_EMPTIED, i, e->seq, "entry seq %" PRId64 " was emptied, but "
                        "no later erasure's entry (%s) names it", e->seq, AUDIT_ERASE_ACTION);
            goto out;
        }
        if (n == cap) {
            emptied *grown = realloc(list, (cap ? cap * 2 : 64) * sizeof *grown);
            if (!grown) {
                rc = no_memory(r);
                goto out;
            }
            list = grown;
            cap = cap ? cap * 2 : 64;
        }
        list[n++] = (emptied){by, e->seq, e->hash};
    }
    if (n)
        qsort(list, n, sizeof *list, by_erasure);
    for (size_t k = 0; k < count; k++) {
        size_t first = at;
        int ok;
        if (erasure_claim(&entries[k], &claimed, digest) != 0)
            continue;
        while (at < n && list[at].by == entries[k].seq)
            at++;
        ok = group_matches(list + first, at - first, claimed, digest);
        if (ok < 0) {
            rc = no_memory(r);
            goto out;
        }
        if (!ok) {
            rc = report(r, AUDIT_EMPTIED, k, entries[k].seq, "the erasure at seq %" PRId64
                        " records %" PRId64 " emptied entries, but %zu with other hashes or "
                        "in another number name it", entries[k].seq, claimed, at - first);
            goto out;
        }
    }
out:
    free(list);
    return rc;
}

int audit_verify(const audit_entry *entries, size_t count, const audit_anchor *anchor,
                 audit_report *r)
{
    const char *exp_prev = AUDIT_GENESIS_HASH;
    int64_t exp_seq = 1;
    int rc;

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
    if ((rc = check_erasures(entries, count, r)) != 0)
        return rc;
    if (anchor) {
        if (!audit_is_head(anchor)) {
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
