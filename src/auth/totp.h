/*
 * The second factor of staff logins: time-based one-time passwords as authenticator
 * apps speak them (RFC 6238 on HOTP, RFC 4226): HMAC-SHA-1, a 30-second step, 6 digits,
 * a 20-byte secret shown as base32 (RFC 4648, no padding) and in an otpauth:// URI (the
 * QR code of the enrolment), and ten single-use recovery codes.
 *
 * A code is accepted for the step it was made in or one step either side (clocks drift),
 * and only for a step later than the last one accepted for that account: a code seen
 * once, at login or by someone looking over a shoulder, never works again. Recovery
 * codes carry 80 random bits each; only their SHA-256 (salted with the account's id) is
 * stored, so a leaked database yields none.
 *
 * Pure: no I/O, no state; randomness from OpenSSL's CSPRNG, HMAC and SHA-256 from
 * OpenSSL. Comparisons of codes run in constant time.
 */
#ifndef KONSIL_AUTH_TOTP_H
#define KONSIL_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_error.h"
#include "auth/principal.h"

#define AUTH_TOTP_SECRET_LEN 20     /* bytes (160 bits, as RFC 4226 recommends) */
#define AUTH_TOTP_SECRET_B32 32     /* its base32 text */
#define AUTH_TOTP_DIGITS 6
#define AUTH_TOTP_STEP 30           /* seconds */
#define AUTH_TOTP_WINDOW 1          /* steps either side of now */
#define AUTH_TOTP_URI_MAX 512

#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_LEN 19        /* "XXXX-XXXX-XXXX-XXXX": 16 base32 characters */
#define AUTH_RECOVERY_HASH_LEN 64   /* hex SHA-256 */

/* Which roles must log in with a second factor (--totp-required): a set of roles. */
#define AUTH_TOTP_REQUIRED_DEFAULT "admin,supervisor"
/* "admin,supervisor", "counsellor", "none" (or empty): into *mask (bit 1 << role). Only
 * staff roles; clients join by link and never have a second factor. 0 or -1 (*err). */
int auth_totp_roles_parse(const char *text, unsigned *mask, auth_error *err);
/* Whether role must log in with a second factor under mask. */
int auth_totp_required(unsigned mask, auth_role role);

/* A new random secret. 0, or -1 when the random generator fails. */
int auth_totp_secret_new(unsigned char secret[AUTH_TOTP_SECRET_LEN], auth_error *err);

/* The secret as base32 (AUTH_TOTP_SECRET_B32 characters and a NUL). */
void auth_totp_secret_b32(const unsigned char secret[AUTH_TOTP_SECRET_LEN],
                          char out[AUTH_TOTP_SECRET_B32 + 1]);

/* The secret back from its base32 text (as auth_totp_secret_b32 wrote it). 0, or -1
 * when it is not that. */
int auth_totp_secret_parse(const char *text, unsigned char out[AUTH_TOTP_SECRET_LEN]);

/* The 6-digit code of a step (HOTP of the step counter), NUL-terminated. */
void auth_totp_code(const unsigned char *secret, size_t len, uint64_t step,
                    char out[AUTH_TOTP_DIGITS + 1]);

/* The step a time (seconds since the epoch) falls in. */
uint64_t auth_totp_step(int64_t unix_seconds);

/* Checks a presented code (exactly 6 digits; blanks around and between the digits are
 * ignored) at time now against the steps now-1 … now+1 that are later than last_step.
 * 1 with the step it matched in *matched, 0 when it matches none (a wrong code, or one
 * already used: its step is not later than last_step), -1 when it is no 6-digit code. */
int auth_totp_verify(const unsigned char *secret, size_t len, const char *code,
                     int64_t unix_seconds, uint64_t last_step, uint64_t *matched);

/* otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded. 0, or -1 when it does not fit. */
int auth_totp_uri(const char *issuer, const char *account,
                  const unsigned char secret[AUTH_TOTP_SECRET_LEN],
                  char out[AUTH_TOTP_URI_MAX]);

/* A new recovery code, shown once: "XXXX-XXXX-XXXX-XXXX". 0 or -1 (no randomness). */
int auth_recovery_new(char out[AUTH_RECOVERY_LEN + 1], auth_error *err);

/* The stored form of a presented recovery code for the account user_id: hex SHA-256 of
 * the code normalised (blanks and dashes dropped, letters upper-cased). 0, or -1 when it
 * is no recovery code (not 16 base32 characters). */
int auth_recovery_hash(const char *user_id, const char *code,
                       char out[AUTH_RECOVERY_HASH_LEN + 1]);

#endif
