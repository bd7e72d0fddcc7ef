/*
 * Accounts kept by admins in the browser (see store_api.h, "accounts"): the list, a new
 * account with a one-time set-password link instead of a password sent around, disabling
 * and enabling, a new set-password link, a reset of the second factor; and the link's
 * own use, which needs no login. Every change is audited in its transaction, naming the
 * account it concerns; every call checks in SQL that its actor is an enabled admin.
 *
 * A set-password link is stored by the SHA-256 of its token (auth/token.h), expires,
 * works once, and a newer link of the same account revokes the older ones. Setting the
 * password ends the account's login sessions.
 */
#include "store/store_api.h"

#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "store/store_sql.h"

#define USER_COLUMNS "u.id, u.username, u.display_name, u.role, u.specialty, u.disabled, " \
                     "u.created_at, u.password <> '', u.totp_enabled_at, " \
                     "(SELECT count(*) FROM recovery_codes r WHERE r.user_id = u.id AND " \
                     "r.used_at IS NULL)"

/* A user row (USER_COLUMNS) as the API shows it. */
static cJSON *user_json(sqlite3_stmt *st)
{
    cJSON *u = cJSON_CreateObject(), *t;

    cJSON_AddStringToObject(u, "id", store_col(st, 0));
    cJSON_AddStringToObject(u, "username", store_col(st, 1));
    cJSON_AddStringToObject(u, "name", store_col(st, 2));
    cJSON_AddStringToObject(u, "role", store_col(st, 3));
    if (store_col(st, 4) && strcmp(store_col(st, 4), "none") != 0)
        cJSON_AddStringToObject(u, "specialty", store_col(st, 4));
    cJSON_AddBoolToObject(u, "disabled", sqlite3_column_int(st, 5) != 0);
    cJSON_AddNumberToObject(u, "created_at", (double)sqlite3_column_int64(st, 6));
    cJSON_AddBoolToObject(u, "has_password", sqlite3_column_int(st, 7) != 0);
    t = cJSON_AddObjectToObject(u, "totp");
    cJSON_AddBoolToObject(t, "enabled", sqlite3_column_type(st, 8) != SQLITE_NULL);
    cJSON_AddItemToObject(t, "enabled_at", store_col_number(st, 8));
    cJSON_AddNumberToObject(t, "recovery_codes_left", sqlite3_column_int(st, 9));
    return u;
}

/* The account id as the API shows it into *out (NULL: none). 0 or -1. */
static int user_view(sqlite3 *db, const char *id, cJSON **out)
{
    sqlite3_stmt *st = store_q(db, "SELECT " USER_COLUMNS " FROM users u WHERE u.id = ?1",
                               "s", id);
    int rc;

    *out = NULL;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = user_json(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* 0 when the actor is an enabled admin; otherwise refused (-1). */
static int require_admin(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT 1 FROM users WHERE id = ?1 AND role = 'admin' "
                               "AND disabled = 0", "s", store_actor_id(job));
    int rc;

    if (!st)
        return store_sql_fail(job);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return store_sql_fail(job);
    return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, "only admins keep accounts");
}

/* The account in.id, refused NOT_FOUND (user_not_found) when there is none. */
static int existing(sqlite3 *db, store_job *job, cJSON **user)
{
    if (user_view(db, store_s(job->in, "id"), user) != 0)
        return store_sql_fail(job);
    if (!*user)
        return store_refuse(job, STORE_ERR_NOT_FOUND, "user_not_found", "no such account");
    return 0;
}

static int audit_user(sqlite3 *db, store_job *job, const char *action, const cJSON *user,
                      cJSON *extra)
{
    cJSON *details = extra ? extra : cJSON_CreateObject();
    int rc;

    cJSON_AddStringToObject(details, "user", cJSON_GetStringValue(
                                cJSON_GetObjectItemCaseSensitive(user, "id")));
    cJSON_AddStringToObject(details, "username", cJSON_GetStringValue(
                                cJSON_GetObjectItemCaseSensitive(user, "username")));
    rc = store_audit_call(db, job, store_actor_id(job), action, NULL, details);
    cJSON_Delete(details);
    return rc;
}

int store_api_users_list(sqlite3 *db, store_job *job)
{
    cJSON *out, *list;
    sqlite3_stmt *st;
    int rc;

    if (require_admin(db, job) != 0)
        return -1;
    st = store_q(db, "SELECT " USER_COLUMNS " FROM users u ORDER BY u.username", "");
    if (!st)
        return store_sql_fail(job);
    out = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(out, "users");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(list, user_json(st));
    sqlite3_finalize(st);
    store_answer(job, out);
    return rc == SQLITE_DONE ? 0 : store_sql_fail(job);
}

/* A new set-password link for user_id (in.link {id, hash, expires_at}); earlier ones
 * not used yet are revoked. */
static int new_link(sqlite3 *db, store_job *job, const char *user_id)
{
    const cJSON *link = cJSON_GetObjectItemCaseSensitive(job->in, "link");
    int64_t now = store_i(job->in, "now");

    if (store_run(store_q(db, "UPDATE password_links SET revoked_at = ?2 WHERE user_id = ?1 "
                          "AND used_at IS NULL AND revoked_at IS NULL", "si", user_id,
                          now)) != 0 ||
        store_run(store_q(db, "INSERT INTO password_links (id, user_id, token_hash, "
                          "created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                          "?6)", "ssssii", store_s(link, "id"), user_id, store_s(link, "hash"),
                          store_actor_id(job), now, store_i(link, "expires_at"))) != 0)
        return store_sql_fail(job);
    return 0;
}

static cJSON *link_json(const store_job *job)
{
    const cJSON *link = cJSON_GetObjectItemCaseSensitive(job->in, "link");
    cJSON *out = cJSON_CreateObject();

    cJSON_AddStringToObject(out, "id", store_s(link, "id"));
    cJSON_AddNumberToObject(out, "expires_at", (double)store_i(link, "expires_at"));
    return out;
}

int store_api_user_create(sqlite3 *db, store_job *job)
{
    const cJSON *in = job->in;
    const char *id = store_s(in, "user_id"), *spec = store_s(in, "specialty");
    cJSON *user, *out;

    if (require_admin(db, job) != 0)
        return -1;
    if (store_run(store_q(db, "INSERT OR IGNORE INTO users (id, username, display_name, "
                          "role, specialty, password, created_at) VALUES (?1, ?2, ?3, ?4, "
                          "?5, '', ?6)", "sssssi", id, store_s(in, "username"),
                          store_s(in, "display_name"), store_s(in, "role"), spec,
                          store_i(in, "now"))) != 0)
        return store_sql_fail(job);
    if (sqlite3_changes(db) == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "username_taken",
                            "an account has this username already");
    if (new_link(db, job, id) != 0)
        return -1;
    if (user_view(db, id, &user) != 0 || !user)
        return store_sql_fail(job);
    if (audit_user(db, job, "user.add", user, NULL) != 0) {
        cJSON_Delete(user);
        return -1;
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "user", user);
    cJSON_AddItemToObject(out, "link", link_json(job));
    store_answer(job, out);
    return 0;
}

int store_api_user_set_disabled(sqlite3 *db, store_job *job)
{
    int disable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->in, "disabled"));
    const char *id = store_s(job->in, "id");
    cJSON *user;

    if (require_admin(db, job) != 0 || existing(db, job, &user) != 0)
        return -1;
    cJSON_Delete(user);
    if (disable && strcmp(id, store_actor_id(job)) == 0)
        return store_refuse(job, STORE_ERR_CONFLICT, "cannot_disable_self",
                            "an admin cannot disable their own account");
    /* Disabling ends every login session of the account in the same transaction, as
     * `konsil user disable` does, so enabling it again brings none back. */
    if (store_run(store_q(db, "UPDATE users SET disabled = ?2 WHERE id = ?1", "si", id,
                          (int64_t)disable)) != 0 ||
        (disable && store_run(store_q(db, "DELETE FROM logins WHERE principal = ?1", "s",
                                      id)) != 0))
        return store_sql_fail(job);
    if (user_view(db, id, &user) != 0 || !user)
        return store_sql_fail(job);
    if (audit_user(db, job, disable ? "user.disable" : "user.enable", user, NULL) != 0) {
        cJSON_Delete(user);
        return -1;
    }
    store_answer(job, user);
    return 0;
}

int store_api_password_link_create(sqlite3 *db, store_job *job)
{
    cJSON *user, *out;

    if (require_admin(db, job) != 0 || existing(db, job, &user) != 0)
        return -1;
    if (new_link(db, job, store_s(job->in, "id")) != 0 ||
        audit_user(db, job, "user.password_link", user, NULL) != 0) {
        cJSON_Delete(user);
        return -1;
    }
    out = link_json(job);
    cJSON_AddItemToObject(out, "user", user);
    store_answer(job, out);
    return 0;
}

/* The link in.hash names, refused unless it can be used now; its row's columns: user id,
 * username, display name, expires_at. */
static sqlite3_stmt *usable_link(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = store_q(db, "SELECT l.user_id, u.username, u.display_name, "
                               "l.expires_at, l.used_at, l.revoked_at, u.disabled FROM "
                               "password_links l JOIN users u ON u.id = l.user_id WHERE "
                               "l.token_hash = ?1", "s", store_s(job->in, "hash"));
    int rc;

    if (!st) {
        store_sql_fail(job);
        return NULL;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 4) == SQLITE_NULL &&
        sqlite3_column_type(st, 5) == SQLITE_NULL && !sqlite3_column_int(st, 6) &&
        sqlite3_column_int64(st, 3) > store_i(job->in, "now"))
        return st;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        store_sql_fail(job);
    else if (rc == SQLITE_DONE || sqlite3_column_int(st, 6))
        store_refuse(job, STORE_ERR_NOT_FOUND, "link_invalid", "this link is not valid");
    else if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        store_refuse(job, STORE_ERR_GONE, "link_used_up", "this link was used already");
    else if (sqlite3_column_type(st, 5) != SQLITE_NULL)
        store_refuse(job, STORE_ERR_GONE, "link_revoked",
                     "a newer link replaced this one");
    else
        store_refuse(job, STORE_ERR_GONE, "link_expired", "this link has expired");
    sqlite3_finalize(st);
    return NULL;
}

int store_api_password_link_get(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = usable_link(db, job);
    cJSON *out;

    if (!st)
        return -1;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "username", store_col(st, 1));
    cJSON_AddStringToObject(out, "name", store_col(st, 2));
    cJSON_AddNumberToObject(out, "expires_at", (double)sqlite3_column_int64(st, 3));
    sqlite3_finalize(st);
    store_answer(job, out);
    return 0;
}

int store_api_password_hash(sqlite3 *db, store_job *job)
{
    char hash[AUTH_PASSWORD_HASH_MAX];
    auth_error err = {{0}};
    cJSON *out;

    (void)db;
    if (auth_password_hash(store_s(job->in, "password"), NULL, hash, sizeof hash, &err) != 0)
        return store_refuse(job, STORE_ERR_INTERNAL, NULL, "the password could not be hashed");
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "hash", hash);
    store_answer(job, out);
    return 0;
}

int store_api_password_set(sqlite3 *db, store_job *job)
{
    sqlite3_stmt *st = usable_link(db, job);
    char user_id[64];
    cJSON *details, *out;

    if (!st)
        return -1;
    snprintf(user_id, sizeof user_id, "%s", store_col(st, 0));
    sqlite3_finalize(st);
    /* The password, the link used, and every login session of the account ended, in
     * one transaction. */
    if (store_run(store_q(db, "UPDATE users SET password = ?2 WHERE id = ?1", "ss", user_id,
                          store_s(job->in, "password"))) != 0 ||
        store_run(store_q(db, "UPDATE password_links SET used_at = ?2 WHERE token_hash = ?1",
                          "si", store_s(job->in, "hash"), store_i(job->in, "now"))) != 0 ||
        store_run(store_q(db, "DELETE FROM logins WHERE principal = ?1", "s", user_id)) != 0)
        return store_sql_fail(job);
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "user", user_id);
    cJSON_AddStringToObject(details, "by", "link");
    if (store_audit_call(db, job, user_id, "user.passwd", NULL, details) != 0) {
        cJSON_Delete(details);
        return -1;
    }
    cJSON_Delete(details);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "user", user_id);
    store_answer(job, out);
    return 0;
}

int store_api_totp_reset(sqlite3 *db, store_job *job)
{
    const char *id = store_s(job->in, "id");
    cJSON *user;

    if (require_admin(db, job) != 0 || existing(db, job, &user) != 0)
        return -1;
    cJSON_Delete(user);
    if (store_totp_forget(db, id) != 0)
        return store_sql_fail(job);
    if (user_view(db, id, &user) != 0 || !user)
        return store_sql_fail(job);
    if (audit_user(db, job, "totp.reset", user, NULL) != 0) {
        cJSON_Delete(user);
        return -1;
    }
    store_answer(job, user);
    return 0;
}
