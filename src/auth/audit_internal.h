/*
 * What audit.c (entries, hashes, the head line) and audit_verify.c (verification) share.
 * Not for other modules: they use audit.h.
 */
#ifndef KONSIL_AUTH_AUDIT_INTERNAL_H
#define KONSIL_AUTH_AUDIT_INTERNAL_H

#include <stdbool.h>

#include "auth/audit.h"

enum canon_status { CANON_OK = 0, CANON_INVALID = -1, CANON_NO_MEMORY = -2 };

/* 64 lowercase hex digits. */
bool audit_is_hash(const char *h);
/* Whether a is a chain's head: entries >= 0, a hash, and the genesis hash for none. */
bool audit_is_head(const audit_anchor *a);
/* Format 2: the hash of e's content (audit.h). A canon_status. */
int audit_content_hash(const audit_entry *e, char out[AUDIT_HASH_LEN + 1], auth_error *err);
/* hash_out = e's hash sealed onto prev_hash as if its seq were `seq`: format 1 over its
 * canonical form, format 2 over content_hash (the one computed or the one stored). A
 * canon_status. */
int audit_chain_hash(const char *prev_hash, const audit_entry *e, int64_t seq,
                     const char *content_hash, char hash_out[AUDIT_HASH_LEN + 1],
                     auth_error *err);

#endif
