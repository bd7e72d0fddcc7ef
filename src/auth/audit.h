/*
 * The audit chain, as pure code: how an audit entry is serialized canonically, how it is
 * hashed onto its predecessor, how an entry loses its content when the case it is about
 * is erased, and how a sequence of stored entries is verified. The table that holds the
 * entries and `konsil audit verify` are built on top of this.
 *
 * An entry is (seq, ts, actor, action, session, details). Two formats:
 *
 * Format 1 (every entry written before schema 6): the canonical form is one JSON object
 * with the keys in byte order and no spaces,
 *
 *   {"action":A,"actor":U,"details":D,"seq":N,"session":S,"ts":T,"v":1}
 *
 * where D is the details object re-serialized canonically (keys sorted recursively,
 * integers in plain decimal, other numbers with 17 significant digits) or null, and S is
 * null for events that concern no session; hash = lowercase hex SHA-256 of prev_hash (64
 * hex characters) followed by the canonical form.
 *
 * Format 2 (from schema 6 on): the chain runs over a hash of the content, so an entry can
 * lose its content and still be verified. The content
 *
 *   {"action":A,"actor":U,"details":D,"nonce":R,"session":S}
 *
 * (R: 128 random bits as 32 hex digits, so that a kept content hash cannot be matched
 * against guessed contents) gives content_hash = hex SHA-256 of it, and
 *
 *   hash = hex SHA-256(prev_hash || {"content":C,"seq":N,"ts":T,"v":2})
 *
 * The first entry's prev_hash is AUDIT_GENESIS_HASH; seq runs 1, 2, 3, … without gaps.
 *
 * Emptied entries. Erasing a case empties the entries about it: actor, action, session,
 * details and nonce are removed; seq, ts, prev_hash, hash, the content hash (format 2) and
 * the format stay, and emptied_by names the seq of the erasure's own entry (action
 * "case.erase", written after them, never emptied), whose details carry "emptied": the
 * number of entries it emptied, and "emptied_digest": audit_emptied_digest() over them. An
 * emptied format-2 entry still verifies in full (its hash is recomputed from its content
 * hash). An emptied format-1 entry's hash cannot be recomputed without its content: it
 * stays in the chain by its links (its successor's prev_hash is its hash), and is accepted
 * only as one of the entries its erasure names, by count and digest.
 *
 * Each stored entry keeps its own prev_hash and hash, so verification tells an entry
 * changed in place (its hash no longer matches) from a removed one (a seq gap, or a
 * prev_hash that names no remaining entry) and from an inserted one (an entry whose
 * successor links past it). An unkeyed chain can be recomputed end to end by whoever
 * can write the table, and entries cut from the end leave no trace in it. A checkpoint
 * closes both gaps: the chain's head (its entry count and last hash) as one line,
 *
 *   konsil-audit-head v1 entries=N hash=H
 *
 * kept somewhere the table's writers cannot reach; a later chain must still hold entry N
 * with hash H (entries appended after it are fine). Emptying keeps every hash, so a head
 * kept before an erasure still holds after it.
 */
#ifndef KONSIL_AUTH_AUDIT_H
#define KONSIL_AUTH_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_error.h"

#define AUDIT_HASH_LEN 64
#define AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_FORMAT_V1 1
#define AUDIT_FORMAT_V2 2
#define AUDIT_NONCE_LEN 32
/* The action of an erasure's entry (the only action whose entries empty others). */
#define AUDIT_ERASE_ACTION "case.erase"

/* One entry. The strings are borrowed: whoever fills the struct (the store reading a
 * row, the writer building an entry) owns them and keeps them alive while it is used. */
typedef struct audit_entry {
    int64_t seq;            /* >= 1 */
    int64_t ts_ms;          /* server time, milliseconds since the epoch, >= 0 */
    const char *actor_id;   /* principal id; "" for events without one (failed logins) */
    const char *action;     /* non-empty, e.g. "login.failed", "session.read.open" */
    const char *session_id; /* NULL when the event concerns no session */
    const char *details;    /* JSON text of an object, or NULL */
    int format;             /* AUDIT_FORMAT_V1 (0 reads as 1) or AUDIT_FORMAT_V2 */
    const char *nonce;      /* format 2: AUDIT_NONCE_LEN lowercase hex digits */
    int64_t emptied_by;     /* 0; or the entry is emptied (its content above is not read)
                               and this is the seq of the erasure's entry */
    char content_hash[AUDIT_HASH_LEN + 1];  /* format 2; set by audit_seal */
    char prev_hash[AUDIT_HASH_LEN + 1];
    char hash[AUDIT_HASH_LEN + 1];
} audit_entry;

/* The canonical form of e's content (prev_hash and hash are not part of it): format 1's
 * whole entry, or format 2's content object. Returns a new NUL-terminated string the
 * caller frees with free(), or NULL with *err filled (details that are not a JSON object
 * or hold duplicate keys, invalid UTF-8 or a non-finite number; a missing action; a seq
 * below 1 or a negative time; a format-2 nonce that is not 32 hex digits; an emptied
 * entry, which has no content; no memory). */
char *audit_canonical(const audit_entry *e, auth_error *err);

/* Seals e onto its predecessor: copies prev_hash (AUDIT_GENESIS_HASH for the first
 * entry) into e->prev_hash and computes e->hash (and, for format 2, e->content_hash).
 * Returns 0 or -1 with *err filled. */
int audit_seal(audit_entry *e, const char *prev_hash, auth_error *err);

/* The digest an erasure's entry records over the entries it emptied: hex SHA-256 of
 * "<seq>:<hash>\n" for each, in seq order (seqs[i] with hashes[i]). Returns 0 or -1 (no
 * memory). */
int audit_emptied_digest(const int64_t *seqs, const char (*hashes)[AUDIT_HASH_LEN + 1],
                         size_t n, char out[AUDIT_HASH_LEN + 1]);

typedef enum audit_problem {
    AUDIT_INTACT,
    AUDIT_ALTERED,  /* the entry at index was changed (or replaced) */
    AUDIT_INSERTED, /* the entry at index does not belong to the chain */
    AUDIT_REMOVED,  /* one or more entries before index (or at the end) are missing */
    AUDIT_EMPTIED   /* the entry at index was emptied without an erasure that names it
                       (or an erasure's entry names other entries than those it emptied) */
} audit_problem;

typedef struct audit_report {
    audit_problem problem;
    size_t index; /* position in the verified array; count when at the end */
    int64_t seq;  /* the seq stored at index, or the first missing seq for AUDIT_REMOVED */
    char message[AUTH_ERROR_MAX];
} audit_report;

/* A chain's head, kept outside the table as a checkpoint: the chain held seq entries
 * (seqs run from 1 without gaps, so seq is also the last entry's seq), the last of them
 * with this hash. The empty chain's head is seq 0 with AUDIT_GENESIS_HASH. */
typedef struct audit_anchor {
    int64_t seq;
    char hash[AUDIT_HASH_LEN + 1];
} audit_anchor;

/* Verifies entries[0..count) in seq order from the genesis, and the anchor when not
 * NULL: the entry with the anchor's seq must exist and carry its hash. Returns 0 when
 * intact, 1 when a problem was found (the first one is described in *report), -1 when
 * verification itself failed (no memory, or an anchor that is no head: a negative seq, or
 * seq 0 with another hash than the genesis; report->message says which). */
int audit_verify(const audit_entry *entries, size_t count, const audit_anchor *anchor,
                 audit_report *report);

/* The head line: "konsil-audit-head v1 entries=N hash=H" (N in plain decimal, H in
 * lowercase hex), at most AUDIT_HEAD_MAX characters. */
#define AUDIT_HEAD_MAX (sizeof "konsil-audit-head v1 entries= hash=" - 1 + 19 + AUDIT_HASH_LEN)

/* Writes head's line (NUL-terminated, no newline) into out. Returns 0, or -1 when head is
 * no head (a negative seq, a hash that is not 64 lowercase hex digits, seq 0 with another
 * hash than the genesis). */
int audit_head_format(const audit_anchor *head, char out[AUDIT_HEAD_MAX + 1]);

/* Reads a head line exactly as audit_head_format() writes it; whitespace around it (the
 * newline it was printed with) is ignored, anything else that differs is refused. Returns
 * 0 with *head filled, or -1 with *err saying what is wrong. */
int audit_head_parse(const char *text, audit_anchor *head, auth_error *err);

#endif
