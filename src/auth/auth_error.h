/*
 * Error reporting for the access-control modules (principals, templates, access rules,
 * passwords, tokens, audit chain): every failure carries a message meant for a person —
 * the template author, the participant whose op was refused, the operator running a
 * verification. auth_fail() formats into an auth_error (which may be NULL) and returns
 * -1, so failure paths read `return auth_fail(err, "...")`. The first message set wins,
 * so the innermost, most specific reason survives.
 *
 * Ownership: the caller owns the auth_error (usually on its stack) and zero-initialises
 * it, `auth_error err = {{0}};`, before passing it to a call that may fail.
 */
#ifndef KONSIL_AUTH_AUTH_ERROR_H
#define KONSIL_AUTH_AUTH_ERROR_H

#define AUTH_ERROR_MAX 256

typedef struct auth_error {
    char message[AUTH_ERROR_MAX];
} auth_error;

int auth_fail(auth_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
