/*
 * Bearer tokens — login cookies and client join links: 32 bytes (256 bits) from
 * OpenSSL's CSPRNG (RAND_bytes), handed out once as 43 characters of base64url and
 * stored only as the lowercase hex SHA-256 of that text. A leaked database therefore
 * yields no usable token, and lookups go by the hash (the presented token is hashed,
 * then looked up). auth_token_verify compares in constant time for callers that hold the
 * stored hash already.
 */
#ifndef KONSIL_AUTH_TOKEN_H
#define KONSIL_AUTH_TOKEN_H

#include <stdbool.h>

#include "auth/auth_error.h"

#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_TEXT_LEN 43 /* AUTH_B64URL_LEN(AUTH_TOKEN_BYTES) */
#define AUTH_TOKEN_HASH_LEN 64 /* hex SHA-256 */

/* Makes a new token: its text into token (caller's buffer of AUTH_TOKEN_TEXT_LEN + 1)
 * and the hash to store into hash_hex (AUTH_TOKEN_HASH_LEN + 1). Returns 0 or -1 when
 * the random generator fails. The caller hands the text out once and keeps only the
 * hash. */
int auth_token_new(char *token, char *hash_hex, auth_error *err);

/* Hashes a presented token into hash_hex (AUTH_TOKEN_HASH_LEN + 1) for lookup.
 * Returns 0, or -1 when token is not AUTH_TOKEN_TEXT_LEN characters of canonical
 * base64url — such a string was never issued and is refused before any lookup. */
int auth_token_hash(const char *token, char *hash_hex, auth_error *err);

/* True when token hashes to stored_hash_hex; constant time in the compared bytes. */
bool auth_token_verify(const char *token, const char *stored_hash_hex);

#endif
