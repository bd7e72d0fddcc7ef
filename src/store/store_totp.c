/*
 * The second factor of accounts (see store_api.h, "second factor"): setting up a TOTP
 * secret, confirming it with a first code
 * (which turns it on and hands out ten recovery codes, once), checking a code or a
 * recovery code at login, turning it off, new recovery codes, its state.
 *
 * A code is checked on the writer, inside the transaction that records what it allows:
 * its step must be later than the account's last accepted step, and the same statement
 * that records the new step requires that, so two logins racing with one code cannot
 * both pass. A recovery code is marked used by a statement that requires it unused.
 *
 * At rest the secret is sealed (konsil_seal, store_crypt.h) under the account's own key
 * in the key store, "account:<user id>", made when the account first sets one up; a
 * reset or turning it off destroys that key, so no backup keeps a readable secret.
 * Without a key store (no master key) nothing is set up.
 */
#include "store/store_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/totp.h"
#include "store/store_crypt.h"
#include "store/store_sql.h"

/* How a secret is sealed and opened: under the account's key, the account's id naming
 * the record. */
#define SEALED_AS "'account:' || id, 'users.totp', id"

/* The account's key id in the key store into out (80 bytes). */
static void key_id(char out[80], const char *user)
{
    snprintf(out, 80, "account:%.63s", user);
}

int store_totp_forget(sqlite3 *db, const char *user)
{
    char key[80];

    key_id(key, user);
    if (store_run(store_q(db, "UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
                          "totp_enabled_at = NULL, totp_last_step = 0 WHERE id = ?1", "s",
                          user)) != 0 ||
        store_run(store_q(db, "DELETE FROM recovery_codes WHERE user_id = ?1", "s", user)) != 0)
        return -1;
    return store_crypt_key_destroy(db, key);
}

/* The account's secret (pending: the one being set up) opened into secret, and its last
 * accepted step. 1 found, 0 none, -1 refused. */
static int secret_of(sqlite3 *db, store_job *job, const char *user, int pending,
                     unsigned char secret[AUTH_TOTP_SECRET_LEN], uint64_t *last_step)
{
    sqlite3_stmt *st = store_q(db, pending ?
        "SELECT konsil_open(totp_pending, " SEALED_AS "), totp_last_step FROM users WHERE id = ?1" :
        "SELECT konsil_open(totp_secret, " SEALED_AS "), totp_last_step FROM users WHERE id = ?1",
        "s", user);
    int rc, found = 0;

    if (!st)
        return store_sql_fail(job);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && store_col(st, 0)) {
        found = auth_totp_secret_parse(store_col(st, 0), secret) == 0;
        *last_step = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_sql_fail(job);
    return found;
}

/* Checks code against the account's secret (or the pending one) and records its step:
 * 0, or -1 refused (totp_invalid: wrong, used already, or no secret). */
static int use_code(sqlite3 *db, store_job *job, const char *user, const char *code,
                    int pending)
{
    unsigned char secret[AUTH_TOTP_SECRET_LEN];
    uint64_t last = 0, step = 0;
    int found = secret_of(db, job, user, pending, secret, &last), ok;

    if (found < 0)
        return -1;
    ok = found && auth_totp_verify(secret, sizeof secret, code,
                                   store_i(job->in, "now") / 1000, last, &step) == 1;
    OPENSSL_cleanse(secret, sizeof secret);
    if (!ok)
        return store_refuse(job, STORE_ERR_UNAUTHENTICATED, "totp_invalid",
                            "the code is wrong or was used already");
    if (store_run(store_q(db, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND "
                          "totp_last_step < ?2", "si", user, (int64_t)step)) != 0)
        return store_sql_fail(job);
    if (sqlite3_changes(db) == 0)   /* another login took this step meanwhile */
        return store_refuse(job, STORE_ERR_UNAUTHENTICATED, "totp_invalid",
                            "the code is wrong or was used already");
    return 0;
}

/* Ten new recovery codes for user (the old ones go) into out as "recovery_codes". */
static int new_recovery_codes(sqlite3 *db, store_job *job, const char *user, cJSON *out)
{
    cJSON *codes = cJSON_AddArrayToObject(out, "recovery_codes");

    if (store_run(store_q(db, "DELETE FROM recovery_codes WHERE user_id = ?1", "s", user)) != 0)
        return store_sql_fail(job);
    for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
        char code[AUTH_RECOVERY_LEN + 1], hash[AUTH_RECOVERY_HASH_LEN + 1];
        if (auth_recovery_new(code, NULL) != 0 || auth_recovery_hash(user, code, hash) != 0)
            return store_refuse(job, STORE_ERR_INTERNAL, NULL, "no random numbers");
        if (store_run(store_q(db, "INSERT INTO recovery_codes (user_id, hash, created_at) "
                              "VALUES (?1, ?2, ?3)", "ssi", user, hash,
                              store_i(job->in, "now"))) != 0)
            return store_sql_fail(job);
        cJSON_AddItemToArray(codes, cJSON_CreateString(code));
    }
    return 0;
}

static int recovery_left(sqlite3 *db, const char *user)
{
    sqlite3_stmt *st = store_q(db, "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 "
                               "AND used_at IS NULL", "s", user);
    int n = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int audit(sqlite3 *db, store_job *job, const char *user, const char *action,
                 cJSON *details)
{
    int rc;

    if (!details)
        details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "user", user);
    rc = store_audit_call(db, job, user, action, NULL, details);
    cJSON_Delete(details);
    return rc;
}

/* Turns the pending secret on once code matches it: ten recovery codes into out. */
static int activate(sqlite3 *db, store_job *job, const char *user, const char *code,
                    cJSON *out)
{
    if (use_code(db, job, user, code, 1) != 0)
        return -1;
    if (store_run(store_q(db, "UPDATE users SET totp_secret = totp_pending, totp_pending = "
                          "NULL, totp_enabled_at = ?2 WHERE id = ?1", "si", user,
                          store_i(job->in, "now"))) != 0)
        return store_sql_fail(job);
    if (new_recovery_codes(db, job, user, out) != 0)
        return -1;
    return audit(db, job, user, "totp.enable", NULL);
}

int store_totp_second_factor(sqlite3 *db, store_job *job, const char *user,
                             const cJSON *second, cJSON *out)
{
    const char *kind = store_s(second, "kind"), *code = store_s(second, "code");

    if (strcmp(kind, "setup") == 0)
        return activate(db, job, user, code, out);
    if (strcmp(kind, "totp") == 0)
        return use_code(db, job, user, code, 0);
    if (strcmp(kind, "recovery") == 0) {
        char hash[AUTH_RECOVERY_HASH_LEN + 1];
        int left;
        if (auth_recovery_hash(user, code, hash) != 0)
            return store_refuse(job, STORE_ERR_UNAUTHENTICATED, "totp_invalid",
                                "the recovery code is wrong or was used already");
        if (store_run(store_q(db, "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 "
                              "AND hash = ?2 AND used_at IS NULL AND EXISTS (SELECT 1 FROM "
                              "users WHERE id = ?1 AND totp_enabled_at IS NOT NULL)", "ssi",
                              user, hash, store_i(job->in, "now"))) != 0)
            return store_sql_fail(job);
        if (sqlite3_changes(db) == 0)
            return store_refuse(job, STORE_ERR_UNAUTHENTICATED, "totp_invalid",
                                "the recovery code is wrong or was used already");
        left = recovery_left(db, user);
        cJSON_AddNumberToObject(out, "recovery_codes_left", left);
        return audit(db, job, user, "totp.recovery_used", NULL);
    }
    return store_refuse(job, STORE_ERR_BAD_REQUEST, NULL, "unknown second factor");
}

/* Whether the key store holds key: 1, 0 (also: there is no key store), -1. */
static int has_key(sqlite3 *db, const char *key)
{
    sqlite3_stmt *st = store_q(db, "SELECT konsil_has_key(?1)", "s", key);
    int rc = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        rc = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return rc;
}

int store_api_totp_setup(sqlite3 *db, store_job *job)
{
    const char *user = store_s(job->in, "user_id");
    unsigned char secret[AUTH_TOTP_SECRET_LEN];
    char b32[AUTH_TOTP_SECRET_B32 + 1], uri[AUTH_TOTP_URI_MAX], key[80];
    sqlite3_stmt *st;
    cJSON *out;
    int rc, enabled, has;

    st = store_q(db, "SELECT totp_enabled_at IS NOT NULL, username FROM users WHERE id = ?1 "
                 "AND disabled = 0", "s", user);
    if (!st)
        return store_sql_fail(job);
    rc = sqlite3_step(st);
    enabled = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    if (rc == SQLITE_ROW && auth_totp_secret_new(secret, NULL) == 0) {
        auth_totp_secret_b32(secret, b32);
        rc = auth_totp_uri(store_s(job->in, "issuer"), store_col(st, 1), secret, uri) == 0 ?
             SQLITE_ROW : SQLITE_ERROR;
        OPENSSL_cleanse(secret, sizeof secret);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such account");
    if (rc != SQLITE_ROW)
        return store_sql_fail(job);
    if (enabled)
        return store_refuse(job, STORE_ERR_CONFLICT, "totp_enabled",
                            "the second factor is set up already; an admin can reset it");
    /* The account's key first (durably in the key store), then the secret under it. */
    key_id(key, user);
    if (store_crypt_key_create(db, key) != 0 || (has = has_key(db, key)) < 0 ||
        (has && store_run(store_q(db, "UPDATE users SET totp_pending = konsil_seal(?2, "
                                  SEALED_AS ") WHERE id = ?1", "ss", user, b32)) != 0)) {
        OPENSSL_cleanse(b32, sizeof b32);
        return store_sql_fail(job);
    }
    if (!has) {
        OPENSSL_cleanse(b32, sizeof b32);
        return store_refuse(job, STORE_ERR_CONFLICT, "totp_unavailable",
                            "no key store: the server has no master key");
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "secret", b32);
    cJSON_AddStringToObject(out, "uri", uri);
    cJSON_AddNumberToObject(out, "digits", AUTH_TOTP_DIGITS);
    cJSON_AddNumberToObject(out, "period", AUTH_TOTP_STEP);
    OPENSSL_cleanse(b32, sizeof b32);
    OPENSSL_cleanse(uri, sizeof uri);
    store_answer(job, out);
    return 0;
}

int store_api_totp_confirm(sqlite3 *db, store_job *job)
{
    const char *user = store_s(job->in, "user_id");
    cJSON *out = cJSON_CreateObject();

    if (activate(db, job, user, store_s(job->in, "code"), out) != 0) {
        cJSON_Delete(out);
        return -1;
    }
    store_answer(job, out);
    return 0;
}

int store_api_totp_disable(sqlite3 *db, store_job *job)
{
    const char *user = store_s(job->in, "user_id");

    if (use_code(db, job, user, store_s(job->in, "code"), 0) != 0)
        return -1;
    if (store_totp_forget(db, user) != 0)
        return store_sql_fail(job);
    return audit(db, job, user, "totp.disable", NULL);
}

int store_api_recovery_renew(sqlite3 *db, store_job *job)
{
    const char *user = store_s(job->in, "user_id");
    cJSON *out = cJSON_CreateObject();

    if (use_code(db, job, user, store_s(job->in, "code"), 0) != 0 ||
        new_recovery_codes(db, job, user, out) != 0 ||
        audit(db, job, user, "totp.recovery_codes", NULL) != 0) {
        cJSON_Delete(out);
        return -1;
    }
    store_answer(job, out);
    return 0;
}

int store_api_totp_status(sqlite3 *db, store_job *job)
{
    const char *user = store_s(job->in, "user_id");
    sqlite3_stmt *st = store_q(db, "SELECT totp_enabled_at, totp_pending IS NOT NULL, (SELECT "
                               "count(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS "
                               "NULL) FROM users WHERE id = ?1", "s", user);
    cJSON *out;
    int rc;

    if (!st)
        return store_sql_fail(job);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found",
                                                "no such account") : store_sql_fail(job);
    }
    out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "enabled", sqlite3_column_type(st, 0) != SQLITE_NULL);
    cJSON_AddItemToObject(out, "enabled_at", store_col_number(st, 0));
    cJSON_AddBoolToObject(out, "pending", sqlite3_column_int(st, 1) != 0);
    cJSON_AddNumberToObject(out, "recovery_codes_left", sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    store_answer(job, out);
    return 0;
}
