/*
 * scrypt password hashes; see password.h. The stored string is parsed strictly (decimal
 * numbers without signs or leading zeros, canonical base64url), so a stored value has a
 * single meaning.
 */
#include "auth/password.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/encoding.h"

#define SALT_BYTES 16
#define KEY_BYTES 32
#define PREFIX "scrypt$"

static int check_params(const auth_scrypt_params *pp, auth_error *err)
{
    if (pp->n < 2 || pp->n > AUTH_SCRYPT_MAX_N || (pp->n & (pp->n - 1)) != 0)
        return auth_fail(err, "scrypt N must be a power of two between 2 and %u",
                         AUTH_SCRYPT_MAX_N);
    if (pp->r < 1 || pp->r > AUTH_SCRYPT_MAX_R)
        return auth_fail(err, "scrypt r must be between 1 and %u", AUTH_SCRYPT_MAX_R);
    if (pp->p < 1 || pp->p > AUTH_SCRYPT_MAX_P)
        return auth_fail(err, "scrypt p must be between 1 and %u", AUTH_SCRYPT_MAX_P);
    return 0;
}

static int check_password(const char *password, size_t *len_out, auth_error *err)
{
    if (!password)
        return auth_fail(err, "no password given");
    size_t len = strnlen(password, AUTH_PASSWORD_MAX + 1);
    if (len == 0)
        return auth_fail(err, "password is empty");
    if (len > AUTH_PASSWORD_MAX)
        return auth_fail(err, "password is longer than %d bytes", AUTH_PASSWORD_MAX);
    *len_out = len;
    return 0;
}

static int derive(const char *password, size_t len, const unsigned char *salt,
                  const auth_scrypt_params *pp, unsigned char key[KEY_BYTES], auth_error *err)
{
    /* scrypt needs 128*r*N bytes for V plus 128*r*(p+2) for B and XY; leave headroom. */
    uint64_t maxmem = 128u * (uint64_t)pp->r * (pp->n + pp->p + 2) + (1u << 20);
    if (EVP_PBE_scrypt(password, len, salt, SALT_BYTES, pp->n, pp->r, pp->p, maxmem, key,
                       KEY_BYTES) != 1)
        return auth_fail(err, "scrypt failed (out of memory?)");
    return 0;
}

int auth_password_hash(const char *password, const auth_scrypt_params *params, char *out,
                       size_t out_size, auth_error *err)
{
    const auth_scrypt_params defaults = {AUTH_SCRYPT_DEFAULT_N, AUTH_SCRYPT_DEFAULT_R,
                                         AUTH_SCRYPT_DEFAULT_P};
    const auth_scrypt_params *pp = params ? params : &defaults;
    size_t len;
    if (check_password(password, &len, err) != 0 || check_params(pp, err) != 0)
        return -1;
    unsigned char salt[SALT_BYTES], key[KEY_BYTES];
    int rc = -1;
    if (RAND_bytes(salt, SALT_BYTES) != 1) {
        auth_fail(err, "the random generator failed");
        goto done;
    }
    if (derive(password, len, salt, pp, key, err) != 0)
        goto done;
    char salt_text[AUTH_B64URL_LEN(SALT_BYTES) + 1], key_text[AUTH_B64URL_LEN(KEY_BYTES) + 1];
    auth_b64url_encode(salt, SALT_BYTES, salt_text);
    auth_b64url_encode(key, KEY_BYTES, key_text);
    int n = snprintf(out, out_size, PREFIX "%llu$%u$%u$%s$%s", (unsigned long long)pp->n,
                     (unsigned)pp->r, (unsigned)pp->p, salt_text, key_text);
    if (n < 0 || (size_t)n >= out_size) {
        auth_fail(err, "password hash buffer too small");
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* Reads a decimal number ending at '$': digits only, no leading zero, at most max. */
static int parse_number(const char **cursor, uint64_t max, uint64_t *out)
{
    const char *s = *cursor;
    uint64_t v = 0;
    size_t digits = 0;
    for (; s[digits] >= '0' && s[digits] <= '9'; digits++) {
        v = v * 10 + (uint64_t)(s[digits] - '0');
        if (v > max)
            return -1;
    }
    if (digits == 0 || (digits > 1 && s[0] == '0') || s[digits] != '$')
        return -1;
    *out = v;
    *cursor = s + digits + 1;
    return 0;
}

int auth_password_verify(const char *password, const char *stored, auth_error *err)
{
    if (!stored || strncmp(stored, PREFIX, strlen(PREFIX)) != 0)
        return auth_fail(err, "stored password hash is not an scrypt hash");
    const char *cursor = stored + strlen(PREFIX);
    uint64_t n, r, p;
    if (parse_number(&cursor, AUTH_SCRYPT_MAX_N, &n) != 0 ||
        parse_number(&cursor, AUTH_SCRYPT_MAX_R, &r) != 0 ||
        parse_number(&cursor, AUTH_SCRYPT_MAX_P, &p) != 0)
        return auth_fail(err, "stored password hash has malformed parameters");
    auth_scrypt_params params = {n, (uint32_t)r, (uint32_t)p};
    if (check_params(&params, err) != 0)
        return -1;
    const char *sep = strchr(cursor, '$');
    unsigned char salt[SALT_BYTES], expected[KEY_BYTES], key[KEY_BYTES];
    if (!sep ||
        auth_b64url_decode(cursor, (size_t)(sep - cursor), salt, sizeof salt) != SALT_BYTES ||
        auth_b64url_decode(sep + 1, strlen(sep + 1), expected, sizeof expected) != KEY_BYTES)
        return auth_fail(err, "stored password hash has a malformed salt or key");
    size_t len;
    auth_error ignored = {{0}};
    /* A password that could never have been stored simply does not match. */
    if (check_password(password, &len, &ignored) != 0)
        return 0;
    int rc = -1;
    if (derive(password, len, salt, &params, key, err) != 0)
        goto done;
    rc = CRYPTO_memcmp(key, expected, KEY_BYTES) == 0 ? 1 : 0;
done:
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}
