/* Bearer tokens; see token.h. */
#include "auth/token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/encoding.h"

static int sha256_hex(const char *text, size_t len, char *hash_hex, auth_error *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(text, len, digest, &digest_len, EVP_sha256(), NULL) != 1 ||
        digest_len * 2 != AUTH_TOKEN_HASH_LEN)
        return auth_fail(err, "SHA-256 failed");
    auth_hex_encode(digest, digest_len, hash_hex);
    return 0;
}

int auth_token_new(char *token, char *hash_hex, auth_error *err)
{
    unsigned char raw[AUTH_TOKEN_BYTES];
    int rc = -1;
    if (RAND_bytes(raw, sizeof raw) != 1) {
        auth_fail(err, "the random generator failed");
        goto done;
    }
    auth_b64url_encode(raw, sizeof raw, token);
    rc = sha256_hex(token, AUTH_TOKEN_TEXT_LEN, hash_hex, err);
done:
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}

int auth_token_hash(const char *token, char *hash_hex, auth_error *err)
{
    unsigned char raw[AUTH_TOKEN_BYTES];
    if (!token || strnlen(token, AUTH_TOKEN_TEXT_LEN + 1) != AUTH_TOKEN_TEXT_LEN ||
        auth_b64url_decode(token, AUTH_TOKEN_TEXT_LEN, raw, sizeof raw) != AUTH_TOKEN_BYTES)
        return auth_fail(err, "malformed token");
    OPENSSL_cleanse(raw, sizeof raw);
    return sha256_hex(token, AUTH_TOKEN_TEXT_LEN, hash_hex, err);
}

bool auth_token_verify(const char *token, const char *stored_hash_hex)
{
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    auth_error ignored = {{0}};
    if (!stored_hash_hex ||
        strnlen(stored_hash_hex, AUTH_TOKEN_HASH_LEN + 1) != AUTH_TOKEN_HASH_LEN)
        return false;
    if (auth_token_hash(token, hash, &ignored) != 0)
        return false;
    return CRYPTO_memcmp(hash, stored_hash_hex, AUTH_TOKEN_HASH_LEN) == 0;
}
