/*
 * The key store's file format, as pure code: parsing, formatting, and the data keys in
 * it wrapped under the operator's master key (protocol/keystore.md has the full text).
 * A key store is one text file:
 *
 *   konsil-keys v1
 *   id 5f0c…                  (32 hex digits: this key store, named by its database)
 *   generation 7              (counts every write; a database remembers the newest it saw)
 *   check <wrapped>           (a known text wrapped under the master key: a wrong master
 *                              key is told before anything is unwrapped)
 *   key <case id> <created ms> <wrapped data key>     (one line per case, sorted by id)
 *   …
 *   end
 *
 * <wrapped> is base64url (no padding) of a sealed record (sealed.h) under the master key,
 * its associated data naming the key store and the case, so a wrapped key cannot be
 * moved to another case or key store. The file holds no plaintext key; the master key
 * never enters it. A master key is 32 bytes, given as 64 hex digits.
 *
 * Removing a case's line needs no master key (the other lines stay as they are); adding
 * one, reading keys and rewrapping (rotation) do.
 *
 * Invariants of a parsed keyfile: entries sorted by case id without duplicates; every
 * wrapped key of the canonical length. Ownership: a keyfile owns its entries; free them
 * with keyfile_clear() (which also wipes the unwrapped keys).
 */
#ifndef KONSIL_AUTH_KEYFILE_H
#define KONSIL_AUTH_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_error.h"
#include "auth/encoding.h"
#include "auth/sealed.h"

#define KEYFILE_ID_LEN 32
#define KEYFILE_CASE_ID_MAX 63
#define KEYFILE_WRAPPED_LEN AUTH_B64URL_LEN(SEALED_OVERHEAD + SEALED_KEY_LEN)
#define KEYFILE_CHECK_TEXT "konsil-keys check"
#define KEYFILE_CHECK_LEN AUTH_B64URL_LEN(SEALED_OVERHEAD + sizeof KEYFILE_CHECK_TEXT - 1)

typedef struct keyfile_entry {
    char case_id[KEYFILE_CASE_ID_MAX + 1];
    int64_t created_ms;
    char wrapped[KEYFILE_WRAPPED_LEN + 1];
    unsigned char key[SEALED_KEY_LEN];      /* valid when unlocked */
    int unlocked;
} keyfile_entry;

typedef struct keyfile {
    char id[KEYFILE_ID_LEN + 1];
    int64_t generation;
    char check[KEYFILE_CHECK_LEN + 1];
    keyfile_entry *entries;
    size_t n, cap;
} keyfile;

/* A new, empty key store for master: a random id, generation 0. 0 or -1 (*err). */
int keyfile_new(keyfile *kf, const unsigned char master[SEALED_KEY_LEN], auth_error *err);
/* Parses text[0..len) (keys stay wrapped). 0, or -1 with *err saying what is wrong (kf
 * is left empty). */
int keyfile_parse(keyfile *kf, const char *text, size_t len, auth_error *err);
/* Checks master against the check line, then unwraps every key; an entry whose wrapped
 * text equals one in `known` (may be NULL) takes its key from there. 0, or -1 with *err
 * (a wrong master key; a key that does not unwrap). */
int keyfile_unlock(keyfile *kf, const unsigned char master[SEALED_KEY_LEN],
                   const keyfile *known, auth_error *err);
/* The file's text (malloc'ed), or NULL when memory runs out. */
char *keyfile_format(const keyfile *kf);
/* The entry of case_id, or NULL. */
keyfile_entry *keyfile_find(const keyfile *kf, const char *case_id);
/* Adds a fresh random data key for case_id, wrapped under master (an entry that exists
 * is kept). The entry, or NULL with *err. */
keyfile_entry *keyfile_add(keyfile *kf, const unsigned char master[SEALED_KEY_LEN],
                           const char *case_id, int64_t now_ms, auth_error *err);
/* Removes case_id's entry, its key wiped: 1, or 0 when it had none. */
int keyfile_remove(keyfile *kf, const char *case_id);
/* Wraps every (unlocked) key and the check anew under new_master. 0 or -1 (*err). */
int keyfile_rewrap(keyfile *kf, const unsigned char new_master[SEALED_KEY_LEN],
                   auth_error *err);
/* Frees the entries, wiping the keys; kf is empty afterwards. */
void keyfile_clear(keyfile *kf);
/* A master key from its text: 64 hex digits, whitespace around them ignored. 0 or -1. */
int keyfile_master_parse(const char *text, size_t len, unsigned char out[SEALED_KEY_LEN],
                         auth_error *err);

#endif
