/*
 * TOTP (auth/totp.h) against RFC 6238's test vectors (SHA-1, the last 6 of their 8
 * digits), the window of one step either side, refusing steps not later than the last
 * one used, malformed codes, the otpauth URI, base32, and recovery codes.
 */
#include <string.h>

#include "auth/totp.h"
#include "unit.h"

static const unsigned char rfc_key[] = "12345678901234567890";

static void rfc6238_vectors(void)
{
    static const struct { int64_t t; const char *code; } v[] = {
        {59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
        {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"},
    };
    char out[AUTH_TOTP_DIGITS + 1];

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        auth_totp_code(rfc_key, 20, auth_totp_step(v[i].t), out);
        CHECK_STR(out, v[i].code);
    }
}

static void window_and_replay(void)
{
    uint64_t step = 0, now = auth_totp_step(1111111111);
    char before[7], at[7], after[7], far[7];

    auth_totp_code(rfc_key, 20, now - 1, before);
    auth_totp_code(rfc_key, 20, now, at);
    auth_totp_code(rfc_key, 20, now + 1, after);
    auth_totp_code(rfc_key, 20, now + 2, far);
    CHECK(auth_totp_verify(rfc_key, 20, at, 1111111111, 0, &step) == 1 && step == now);
    CHECK(auth_totp_verify(rfc_key, 20, before, 1111111111, 0, &step) == 1 && step == now - 1);
    CHECK(auth_totp_verify(rfc_key, 20, after, 1111111111, 0, &step) == 1 && step == now + 1);
    CHECK(auth_totp_verify(rfc_key, 20, far, 1111111111, 0, &step) == 0);
    /* Used: the same code, and any of an earlier step, no longer works. */
    CHECK(auth_totp_verify(rfc_key, 20, at, 1111111111, now, &step) == 0);
    CHECK(auth_totp_verify(rfc_key, 20, before, 1111111111, now, &step) == 0);
    CHECK(auth_totp_verify(rfc_key, 20, after, 1111111111, now, &step) == 1 && step == now + 1);
    CHECK(auth_totp_verify(rfc_key, 20, "050 471", 1111111111, 0, &step) == 1);
    CHECK(auth_totp_verify(rfc_key, 20, "000000", 1111111111, 0, &step) == 0);
}

static void malformed(void)
{
    uint64_t step;
    const char *bad[] = {"", "12345", "1234567", "12a456", "-12345", NULL};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(auth_totp_verify(rfc_key, 20, bad[i], 1111111111, 0, &step) == -1);
}

static void secret_and_uri(void)
{
    unsigned char s[AUTH_TOTP_SECRET_LEN];
    char b[AUTH_TOTP_SECRET_B32 + 1], uri[AUTH_TOTP_URI_MAX];
    auth_error err = {{0}};

    memcpy(s, rfc_key, 20);
    auth_totp_secret_b32(s, b);
    CHECK_STR(b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    unsigned char back[AUTH_TOTP_SECRET_LEN];
    CHECK(auth_totp_secret_parse(b, back) == 0 && memcmp(back, s, 20) == 0);
    CHECK(auth_totp_secret_parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ", back) == -1);
    CHECK(auth_totp_secret_parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", back) == -1);
    CHECK(auth_totp_uri("Konsil", "lea müller", s, uri) == 0);
    CHECK_STR(uri, "otpauth://totp/Konsil:lea%20m%C3%BCller?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                   "&issuer=Konsil&algorithm=SHA1&digits=6&period=30");
    CHECK(auth_totp_secret_new(s, &err) == 0);
}

static void recovery_codes(void)
{
    char code[AUTH_RECOVERY_LEN + 1], code2[AUTH_RECOVERY_LEN + 1];
    char h1[AUTH_RECOVERY_HASH_LEN + 1], h2[AUTH_RECOVERY_HASH_LEN + 1], low[32];
    auth_error err = {{0}};

    CHECK(auth_recovery_new(code, &err) == 0);
    CHECK(auth_recovery_new(code2, &err) == 0);
    CHECK(strlen(code) == AUTH_RECOVERY_LEN && code[4] == '-' && code[9] == '-');
    CHECK(strcmp(code, code2) != 0);
    CHECK(auth_recovery_hash("u1", code, h1) == 0);
    for (size_t i = 0, k = 0; i <= strlen(code); i++)
        if (code[i] != '-')
            low[k++] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
    CHECK(auth_recovery_hash("u1", low, h2) == 0);
    CHECK_STR(h1, h2);
    CHECK(auth_recovery_hash("u2", code, h2) == 0);
    CHECK(strcmp(h1, h2) != 0);
    CHECK(auth_recovery_hash("u1", "ABCD-EFGH-IJKL-MNO", h2) == -1);
    CHECK(auth_recovery_hash("u1", "ABCD-EFGH-IJKL-MNO1", h2) == -1);
    CHECK(auth_recovery_hash("u1", "ABCD-EFGH-IJKL-MNOPQ", h2) == -1);
}

static void required_roles(void)
{
    unsigned mask = 99;
    auth_error err = {{0}};

    CHECK(auth_totp_roles_parse(AUTH_TOTP_REQUIRED_DEFAULT, &mask, &err) == 0);
    CHECK(auth_totp_required(mask, AUTH_ROLE_ADMIN) && auth_totp_required(mask, AUTH_ROLE_SUPERVISOR));
    CHECK(!auth_totp_required(mask, AUTH_ROLE_COUNSELLOR) && !auth_totp_required(mask, AUTH_ROLE_CLIENT));
    CHECK(auth_totp_roles_parse("none", &mask, &err) == 0 && mask == 0);
    CHECK(auth_totp_roles_parse("", &mask, &err) == 0 && mask == 0);
    CHECK(auth_totp_roles_parse(" counsellor , admin", &mask, &err) == 0);
    CHECK(auth_totp_required(mask, AUTH_ROLE_COUNSELLOR) && !auth_totp_required(mask, AUTH_ROLE_SUPERVISOR));
    CHECK(auth_totp_roles_parse("client", &mask, &err) == -1);
    CHECK(auth_totp_roles_parse("admin,root", &mask, &err) == -1);
}

int main(void)
{
    RUN(required_roles);
    RUN(rfc6238_vectors);
    RUN(window_and_replay);
    RUN(malformed);
    RUN(secret_and_uri);
    RUN(recovery_codes);
    return unit_finish("test_auth_totp");
}
