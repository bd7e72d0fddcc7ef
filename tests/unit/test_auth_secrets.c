/*
 * Passwords, tokens and their encodings: right and wrong secrets, tampered stored
 * strings, malformed input, and the strictness of base64url that keeps one stored form
 * per value. Password tests use a low scrypt cost; one hash with the default cost is
 * timed and its duration printed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/encoding.h"
#include "auth/password.h"
#include "auth/token.h"
#include "unit.h"

static const auth_scrypt_params cheap = {1024, 8, 1};

static void hash_or_die(const char *password, char out[AUTH_PASSWORD_HASH_MAX])
{
    auth_error err = {{0}};
    if (auth_password_hash(password, &cheap, out, AUTH_PASSWORD_HASH_MAX, &err) != 0) {
        fprintf(stderr, "  hash failed: %s\n", err.message);
        out[0] = '\0';
    }
}

static int verify(const char *password, const char *stored)
{
    auth_error err = {{0}};
    return auth_password_verify(password, stored, &err);
}

static void password_right_and_wrong(void)
{
    char stored[AUTH_PASSWORD_HASH_MAX];
    hash_or_die("correct horse battery staple", stored);
    CHECK(strncmp(stored, "scrypt$1024$8$1$", 16) == 0);
    CHECK(strlen(stored) == 16 + 22 + 1 + 43);
    CHECK(verify("correct horse battery staple", stored) == 1);
    CHECK(verify("correct horse battery stapl", stored) == 0);
    CHECK(verify("Correct horse battery staple", stored) == 0);
    CHECK(verify("", stored) == 0);
    CHECK(verify(NULL, stored) == 0);
    char again[AUTH_PASSWORD_HASH_MAX];
    hash_or_die("correct horse battery staple", again);
    CHECK(strcmp(stored, again) != 0); /* a fresh salt each time */
    char umlaut[AUTH_PASSWORD_HASH_MAX];
    hash_or_die("Gr\xc3\xbc\xc3\x9f Gott", umlaut);
    CHECK(verify("Gr\xc3\xbc\xc3\x9f Gott", umlaut) == 1);
}

static void password_input_limits(void)
{
    char out[AUTH_PASSWORD_HASH_MAX];
    auth_error err = {{0}};
    CHECK(auth_password_hash("", &cheap, out, sizeof out, &err) == -1);
    char long_pw[AUTH_PASSWORD_MAX + 2];
    memset(long_pw, 'x', sizeof long_pw - 1);
    long_pw[sizeof long_pw - 1] = '\0';
    memset(&err, 0, sizeof err);
    CHECK(auth_password_hash(long_pw, &cheap, out, sizeof out, &err) == -1);
    long_pw[AUTH_PASSWORD_MAX] = '\0';
    memset(&err, 0, sizeof err);
    CHECK(auth_password_hash(long_pw, &cheap, out, sizeof out, &err) == 0);
    long_pw[AUTH_PASSWORD_MAX] = 'x';
    CHECK(verify(long_pw, out) == 0);
    const auth_scrypt_params bad[] = {{1000, 8, 1}, {1, 8, 1}, {1u << 21, 8, 1}, {1024, 0, 1},
                                      {1024, 33, 1}, {1024, 8, 0}, {1024, 8, 17}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        CHECK(auth_password_hash("pw", &bad[i], out, sizeof out, &err) == -1);
    }
    char small[40];
    memset(&err, 0, sizeof err);
    CHECK(auth_password_hash("pw", &cheap, small, sizeof small, &err) == -1);
}

static void password_tampered_strings(void)
{
    char stored[AUTH_PASSWORD_HASH_MAX], t[AUTH_PASSWORD_HASH_MAX + 8];
    hash_or_die("secret", stored);
    const char *salt = stored + 16, *key = stored + 16 + 23;

    /* A changed character in the key or the salt: a different value, no match. */
    snprintf(t, sizeof t, "%s", stored);
    t[key - stored + 5] = t[key - stored + 5] == 'A' ? 'B' : 'A';
    CHECK(verify("secret", t) == 0);
    snprintf(t, sizeof t, "%s", stored);
    t[salt - stored + 3] = t[salt - stored + 3] == 'A' ? 'B' : 'A';
    CHECK(verify("secret", t) == 0);
    /* Other cost parameters derive another key. */
    snprintf(t, sizeof t, "scrypt$2048$8$1$%s", salt);
    CHECK(verify("secret", t) == 0);
    snprintf(t, sizeof t, "scrypt$1024$4$1$%s", salt);
    CHECK(verify("secret", t) == 0);

    /* Malformed or out of bounds: an error, never a match. */
    const char *malformed[] = {
        "", "scrypt", "scrypt$", "bcrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
        "scrypt$1000$8$1$%s", "scrypt$01024$8$1$%s", "scrypt$+1024$8$1$%s",
        "scrypt$1073741824$8$1$%s", "scrypt$99999999999999999999999$8$1$%s",
        "scrypt$1024$8$%s", "scrypt$1024$8$1$$", "scrypt$1024$64$1$%s",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        snprintf(t, sizeof t, malformed[i], salt);
        if (verify("secret", t) != -1) fprintf(stderr, "  accepted %s\n", t);
        CHECK(verify("secret", t) == -1);
    }
    CHECK(verify("secret", NULL) == -1);
    /* Truncated key, extra character, padding, non-canonical last character. */
    size_t len = strlen(stored);
    snprintf(t, sizeof t, "%.*s", (int)(len - 1), stored);
    CHECK(verify("secret", t) == -1);
    snprintf(t, sizeof t, "%sA", stored);
    CHECK(verify("secret", t) == -1);
    snprintf(t, sizeof t, "%s=", stored);
    CHECK(verify("secret", t) == -1);
    snprintf(t, sizeof t, "%s", stored);
    t[len - 1] = 'B'; /* 43 characters of 32 bytes: the last carries 2 unused bits */
    CHECK(verify("secret", t) == -1 || strcmp(t, stored) == 0);
}

static void password_default_cost(void)
{
    char stored[AUTH_PASSWORD_HASH_MAX];
    auth_error err = {{0}};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(auth_password_hash("a default-cost password", NULL, stored, sizeof stored, &err) == 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    fprintf(stderr, "  one scrypt hash at N=%u r=%u p=%u: %.0f ms\n", AUTH_SCRYPT_DEFAULT_N,
            AUTH_SCRYPT_DEFAULT_R, AUTH_SCRYPT_DEFAULT_P, ms);
    CHECK(strncmp(stored, "scrypt$32768$8$1$", 17) == 0);
    CHECK(verify("a default-cost password", stored) == 1);
}

static bool url_safe(const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void token_new_hash_verify(void)
{
    char token[AUTH_TOKEN_TEXT_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    char other[AUTH_TOKEN_TEXT_LEN + 1], other_hash[AUTH_TOKEN_HASH_LEN + 1];
    auth_error err = {{0}};
    CHECK(auth_token_new(token, hash, &err) == 0);
    CHECK(auth_token_new(other, other_hash, &err) == 0);
    CHECK(strlen(token) == AUTH_TOKEN_TEXT_LEN && url_safe(token));
    CHECK(strlen(hash) == AUTH_TOKEN_HASH_LEN);
    CHECK(strcmp(token, other) != 0 && strcmp(hash, other_hash) != 0);
    CHECK(strstr(hash, token) == NULL);
    char again[AUTH_TOKEN_HASH_LEN + 1];
    CHECK(auth_token_hash(token, again, &err) == 0 && strcmp(again, hash) == 0);
    CHECK(auth_token_verify(token, hash));
    CHECK(!auth_token_verify(other, hash));
    char changed[AUTH_TOKEN_TEXT_LEN + 1];
    memcpy(changed, token, sizeof changed);
    changed[7] = changed[7] == 'a' ? 'b' : 'a';
    CHECK(!auth_token_verify(changed, hash));
    char upper[AUTH_TOKEN_HASH_LEN + 1];
    memcpy(upper, hash, sizeof upper);
    for (char *u = upper; *u; u++)
        if (*u >= 'a' && *u <= 'f') *u = (char)(*u - 'a' + 'A');
    CHECK(strcmp(upper, hash) == 0 || !auth_token_verify(token, upper));
    CHECK(!auth_token_verify(token, "short"));
    CHECK(!auth_token_verify(NULL, hash));
    CHECK(!auth_token_verify(token, NULL));
}

static void token_hash_is_sha256_of_the_text(void)
{
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    auth_error err = {{0}};
    const char *zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    CHECK(auth_token_hash(zeros, hash, &err) == 0);
    CHECK_STR(hash, "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a");
}

static void token_malformed(void)
{
    const char *bad[] = {
        "", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
        "AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA'AAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hash[AUTH_TOKEN_HASH_LEN + 1];
        auth_error err = {{0}};
        if (auth_token_hash(bad[i], hash, &err) != -1) fprintf(stderr, "  accepted %s\n", bad[i]);
        CHECK(auth_token_hash(bad[i], hash, &err) == -1);
    }
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    auth_error err = {{0}};
    CHECK(auth_token_hash(NULL, hash, &err) == -1);
}

static void base64url_vectors(void)
{
    /* RFC 4648 §10, unpadded. */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        auth_b64url_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
        CHECK_STR(out, coded[i]);
        unsigned char back[16];
        long n = auth_b64url_decode(coded[i], strlen(coded[i]), back, sizeof back);
        CHECK(n == (long)strlen(plain[i]) && memcmp(back, plain[i], (size_t)n) == 0);
    }
    const unsigned char high[] = {0xfb, 0xff, 0xbf};
    char out[8];
    auth_b64url_encode(high, 3, out);
    CHECK_STR(out, "-_-_");
    unsigned char back[8];
    CHECK(auth_b64url_decode("Zh", 2, back, sizeof back) == -1);     /* bits left over */
    CHECK(auth_b64url_decode("Zm9vY", 5, back, sizeof back) == -1);  /* impossible length */
    CHECK(auth_b64url_decode("Zm9v=", 5, back, sizeof back) == -1);
    CHECK(auth_b64url_decode("Zm+v", 4, back, sizeof back) == -1);
    CHECK(auth_b64url_decode("Zm/v", 4, back, sizeof back) == -1);
    CHECK(auth_b64url_decode("Zm9vYmFy", 8, back, 5) == -1);         /* does not fit */
    char hex[8];
    auth_hex_encode(high, 3, hex);
    CHECK_STR(hex, "fbffbf");
}

int main(void)
{
    RUN(password_right_and_wrong);
    RUN(password_input_limits);
    RUN(password_tampered_strings);
    RUN(password_default_cost);
    RUN(token_new_hash_verify);
    RUN(token_hash_is_sha256_of_the_text);
    RUN(token_malformed);
    RUN(base64url_vectors);
    return unit_finish("test_auth_secrets");
}
