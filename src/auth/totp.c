/*
 * TOTP and recovery codes (see totp.h).
 */
#include "auth/totp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth/encoding.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Base32 of in[0..len) (len a multiple of 5) into out with a NUL. */
static void b32_encode(const unsigned char *in, size_t len, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i + 5 <= len; i += 5) {
        uint64_t v = 0;
        for (int j = 0; j < 5; j++)
            v = v << 8 | in[i + (size_t)j];
        for (int j = 7; j >= 0; j--)
            out[k++] = b32[(v >> (5 * j)) & 31];
    }
    out[k] = '\0';
}

int auth_totp_roles_parse(const char *text, unsigned *mask, auth_error *err)
{
    char buf[128], *save = NULL;

    *mask = 0;
    if (strlen(text) >= sizeof buf)
        return auth_fail(err, "too long a list of roles");
    snprintf(buf, sizeof buf, "%s", text);
    if (strcmp(buf, "none") == 0 || !buf[0])
        return 0;
    for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        auth_role role;
        while (*r == ' ')
            r++;
        for (size_t n = strlen(r); n && r[n - 1] == ' '; n--)
            r[n - 1] = '\0';
        if (auth_role_parse(r, &role) != 0 || role == AUTH_ROLE_CLIENT)
            return auth_fail(err, "'%s' is no staff role (admin, supervisor, counsellor; "
                             "or none)", r);
        *mask |= 1u << role;
    }
    return 0;
}

int auth_totp_required(unsigned mask, auth_role role)
{
    return role != AUTH_ROLE_CLIENT && (mask & (1u << role)) != 0;
}

int auth_totp_secret_new(unsigned char secret[AUTH_TOTP_SECRET_LEN], auth_error *err)
{
    if (RAND_bytes(secret, AUTH_TOTP_SECRET_LEN) != 1)
        return auth_fail(err, "the random number generator failed");
    return 0;
}

void auth_totp_secret_b32(const unsigned char secret[AUTH_TOTP_SECRET_LEN],
                          char out[AUTH_TOTP_SECRET_B32 + 1])
{
    b32_encode(secret, AUTH_TOTP_SECRET_LEN, out);
}

int auth_totp_secret_parse(const char *text, unsigned char out[AUTH_TOTP_SECRET_LEN])
{
    if (!text || strlen(text) != AUTH_TOTP_SECRET_B32)
        return -1;
    for (size_t i = 0; i < AUTH_TOTP_SECRET_LEN / 5; i++) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            const char *at = text[8 * i + j] ? strchr(b32, text[8 * i + j]) : NULL;
            if (!at)
                return -1;
            v = v << 5 | (uint64_t)(at - b32);
        }
        for (int j = 4; j >= 0; j--) {
            out[5 * i + (size_t)j] = (unsigned char)(v & 0xff);
            v >>= 8;
        }
    }
    return 0;
}

void auth_totp_code(const unsigned char *secret, size_t len, uint64_t step,
                    char out[AUTH_TOTP_DIGITS + 1])
{
    unsigned char msg[8], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    uint32_t bin;
    int off;

    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    if (!HMAC(EVP_sha1(), secret, (int)len, msg, sizeof msg, md, &mdlen) || mdlen < 20) {
        snprintf(out, AUTH_TOTP_DIGITS + 1, "------");  /* matches no presented code */
        return;
    }
    off = md[mdlen - 1] & 0x0f;
    bin = (uint32_t)(md[off] & 0x7f) << 24 | (uint32_t)md[off + 1] << 16 |
          (uint32_t)md[off + 2] << 8 | md[off + 3];
    snprintf(out, AUTH_TOTP_DIGITS + 1, "%06u", bin % 1000000u);
}

uint64_t auth_totp_step(int64_t unix_seconds)
{
    return unix_seconds < 0 ? 0 : (uint64_t)unix_seconds / AUTH_TOTP_STEP;
}

int auth_totp_verify(const unsigned char *secret, size_t len, const char *code,
                     int64_t unix_seconds, uint64_t last_step, uint64_t *matched)
{
    char digits[AUTH_TOTP_DIGITS + 1];
    uint64_t now = auth_totp_step(unix_seconds);
    size_t n = 0;
    int found = 0;

    for (const char *p = code; p && *p; p++) {
        if (*p == ' ' || *p == '\t')
            continue;
        if (!isdigit((unsigned char)*p) || n == AUTH_TOTP_DIGITS)
            return -1;
        digits[n++] = *p;
    }
    if (n != AUTH_TOTP_DIGITS)
        return -1;
    digits[n] = '\0';
    /* Every step of the window is computed and compared, matched or not. */
    for (int d = -AUTH_TOTP_WINDOW; d <= AUTH_TOTP_WINDOW; d++) {
        char want[AUTH_TOTP_DIGITS + 1];
        uint64_t step = (uint64_t)((int64_t)now + d);
        if (d < 0 && now < (uint64_t)-d)
            continue;
        auth_totp_code(secret, len, step, want);
        if (CRYPTO_memcmp(want, digits, AUTH_TOTP_DIGITS) == 0 && step > last_step &&
            !found) {
            *matched = step;
            found = 1;
        }
    }
    return found;
}

/* Appends s percent-encoded (everything but unreserved characters) at out[*k]. */
static int pct(char *out, size_t n, size_t *k, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*k + 4 >= n)
            return -1;
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[(*k)++] = (char)*p;
        } else {
            out[(*k)++] = '%';
            out[(*k)++] = hex[*p >> 4];
            out[(*k)++] = hex[*p & 15];
        }
    }
    out[*k] = '\0';
    return 0;
}

int auth_totp_uri(const char *issuer, const char *account,
                  const unsigned char secret[AUTH_TOTP_SECRET_LEN],
                  char out[AUTH_TOTP_URI_MAX])
{
    char s[AUTH_TOTP_SECRET_B32 + 1];
    size_t k = (size_t)snprintf(out, AUTH_TOTP_URI_MAX, "otpauth://totp/");
    int n;

    auth_totp_secret_b32(secret, s);
    if (pct(out, AUTH_TOTP_URI_MAX, &k, issuer) != 0 || k + 4 >= AUTH_TOTP_URI_MAX)
        return -1;
    out[k++] = ':';
    if (pct(out, AUTH_TOTP_URI_MAX, &k, account) != 0)
        return -1;
    n = snprintf(out + k, AUTH_TOTP_URI_MAX - k, "?secret=%s&issuer=", s);
    if (n < 0 || (size_t)n >= AUTH_TOTP_URI_MAX - k)
        return -1;
    k += (size_t)n;
    if (pct(out, AUTH_TOTP_URI_MAX, &k, issuer) != 0)
        return -1;
    n = snprintf(out + k, AUTH_TOTP_URI_MAX - k, "&algorithm=SHA1&digits=%d&period=%d",
                 AUTH_TOTP_DIGITS, AUTH_TOTP_STEP);
    return n < 0 || (size_t)n >= AUTH_TOTP_URI_MAX - k ? -1 : 0;
}

int auth_recovery_new(char out[AUTH_RECOVERY_LEN + 1], auth_error *err)
{
    unsigned char bytes[10];
    char plain[17];

    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return auth_fail(err, "the random number generator failed");
    b32_encode(bytes, sizeof bytes, plain);
    snprintf(out, AUTH_RECOVERY_LEN + 1, "%.4s-%.4s-%.4s-%.4s", plain, plain + 4, plain + 8,
             plain + 12);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return 0;
}

int auth_recovery_hash(const char *user_id, const char *code,
                       char out[AUTH_RECOVERY_HASH_LEN + 1])
{
    char norm[17];
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t n = 0;
    EVP_MD_CTX *ctx;
    int ok;

    for (const char *p = code; p && *p; p++) {
        char ch = (char)toupper((unsigned char)*p);
        if (ch == ' ' || ch == '-' || ch == '\t')
            continue;
        if (!strchr(b32, ch) || n == 16)
            return -1;
        norm[n++] = ch;
    }
    if (n != 16)
        return -1;
    norm[n] = '\0';
    ctx = EVP_MD_CTX_new();
    ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, "konsil-recovery v1\n", 19) == 1 &&
         EVP_DigestUpdate(ctx, user_id, strlen(user_id)) == 1 &&
         EVP_DigestUpdate(ctx, "\n", 1) == 1 && EVP_DigestUpdate(ctx, norm, n) == 1 &&
         EVP_DigestFinal_ex(ctx, md, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    auth_hex_encode(md, sizeof md, out);
    return 0;
}
