/*
 * Sealed records: case data encrypted at rest with AES-256-GCM (OpenSSL EVP) under the
 * case's data key. A sealed record is
 *
 *   0x01 (the format) | nonce (12 random bytes, new for every record) | ciphertext | tag (16)
 *
 * and its associated data names what it is, so a record cannot be moved to another
 * place, version or case and still open:
 *
 *   "konsil-record v1" NUL table NUL case_id NUL record
 *
 * (table: "ops", "milestones", "cases.title", "clients.display_name"; record: the
 * version, or the row's id). The same sealing wraps data keys in the key store
 * (keyfile.h) under the operator's master key. Pure: no I/O; the nonce comes from
 * OpenSSL's CSPRNG.
 *
 * A sealed_box makes sealing and opening cheap enough for every op: it keeps the cipher
 * (fetched once), a context keyed with the last key used (a record of the same case
 * costs no key schedule), and a pool of CSPRNG bytes the nonces are taken from (each byte
 * once). A box belongs to one thread; the functions take NULL for a one-off.
 *
 * Ownership: outputs are malloc'ed for the caller (free()); a box is the caller's
 * (sealed_box_free wipes it).
 */
#ifndef KONSIL_AUTH_SEALED_H
#define KONSIL_AUTH_SEALED_H

#include <stddef.h>

#define SEALED_KEY_LEN 32
#define SEALED_NONCE_LEN 12
#define SEALED_TAG_LEN 16
#define SEALED_FORMAT 0x01
/* Bytes a sealed record adds to its plaintext. */
#define SEALED_OVERHEAD (1 + SEALED_NONCE_LEN + SEALED_TAG_LEN)
/* Longest associated data sealed_ad() writes. */
#define SEALED_AD_MAX 256

typedef struct sealed_box sealed_box;

/* A new box, or NULL (no memory, no AES-256-GCM). */
sealed_box *sealed_box_new(void);
void sealed_box_free(sealed_box *b);

/* Seals pt[0..ptlen) under key with ad[0..adlen): *out (malloc'ed) holds the record,
 * *outlen its length (ptlen + SEALED_OVERHEAD). box may be NULL. 0, or -1 (no
 * randomness, no memory). */
int sealed_seal(sealed_box *box, const unsigned char key[SEALED_KEY_LEN], const void *ad,
                size_t adlen, const void *pt, size_t ptlen, unsigned char **out,
                size_t *outlen);

/* Opens a record sealed with key and ad: *out (malloc'ed, NUL-terminated) holds the
 * plaintext, *outlen its length. box may be NULL. 0, or -1 when it does not open
 * (another key, another ad, a damaged or forged record, an unknown format) or memory
 * runs out. */
int sealed_open(sealed_box *box, const unsigned char key[SEALED_KEY_LEN], const void *ad,
                size_t adlen, const unsigned char *rec, size_t reclen, char **out,
                size_t *outlen);

/* The associated data of a case record into buf (SEALED_AD_MAX bytes): its length, or 0
 * when the names do not fit (they never do for valid ids). */
size_t sealed_ad(char buf[SEALED_AD_MAX], const char *table, const char *case_id,
                 const char *record);

#endif
