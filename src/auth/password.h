/*
 * Password storage: scrypt (OpenSSL EVP_PBE_scrypt) with a fresh 16-byte salt per hash
 * from RAND_bytes, the cost parameters kept in the stored string so they can be raised
 * later without invalidating old hashes:
 *
 *     scrypt$<N>$<r>$<p>$<salt, base64url>$<32-byte key, base64url>
 *
 * Verification compares in constant time (CRYPTO_memcmp). Parameters read from a stored
 * string are bounded (AUTH_SCRYPT_MAX_*), so a tampered row cannot make one login
 * allocate gigabytes or run for minutes.
 *
 * Cost: AUTH_SCRYPT_DEFAULT_N = 2^15 with r = 8, p = 1 needs 32 MiB and took about
 * 77 ms per hash on the development machine (OpenSSL 3.0, 2 cores); 2^14 took 30 ms and
 * 2^16 240 ms. Tests pass a lower N through auth_scrypt_params.
 */
#ifndef KONSIL_AUTH_PASSWORD_H
#define KONSIL_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_error.h"

#define AUTH_SCRYPT_DEFAULT_N 32768u
#define AUTH_SCRYPT_DEFAULT_R 8u
#define AUTH_SCRYPT_DEFAULT_P 1u
#define AUTH_SCRYPT_MAX_N 1048576u
#define AUTH_SCRYPT_MAX_R 32u
#define AUTH_SCRYPT_MAX_P 16u
/* Longest password accepted, in bytes: a bound on work, far above any passphrase. */
#define AUTH_PASSWORD_MAX 1024
/* Room for any stored string this module writes, NUL included. */
#define AUTH_PASSWORD_HASH_MAX 128

typedef struct auth_scrypt_params {
    uint64_t n; /* a power of two, 2 .. AUTH_SCRYPT_MAX_N */
    uint32_t r; /* 1 .. AUTH_SCRYPT_MAX_R */
    uint32_t p; /* 1 .. AUTH_SCRYPT_MAX_P */
} auth_scrypt_params;

/* Hashes password (NUL-terminated, 1..AUTH_PASSWORD_MAX bytes) with params, or with the
 * defaults when params is NULL, into out (caller's buffer of out_size bytes, at least
 * AUTH_PASSWORD_HASH_MAX). Returns 0 or -1 with *err filled. */
int auth_password_hash(const char *password, const auth_scrypt_params *params, char *out,
                       size_t out_size, auth_error *err);

/* Checks password against a stored string written by auth_password_hash.
 * Returns 1 when it matches, 0 when it does not, -1 (with *err) when the stored string
 * is malformed or out of bounds or the KDF fails — callers treat -1 as a refusal too. */
int auth_password_verify(const char *password, const char *stored, auth_error *err);

#endif
