/*
 * The SQL functions of encryption at rest, the database's binding to its key store, and
 * the one-time sealing of plaintext (see store_crypt.h).
 */
#include "store/store_crypt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/sealed.h"

/* What the functions of one connection share: the key store, and a box (sealed.h) for
 * that connection's thread (a connection is used by one thread at a time). */
typedef struct crypt_conn {
    store_keys *keys;
    sealed_box *box;
} crypt_conn;

static void crypt_conn_free(void *p)
{
    crypt_conn *c = p;

    if (c)
        sealed_box_free(c->box);
    free(c);
}

/* The associated data of a call's (case_id, table, record) arguments; 0 when unusable. */
static size_t ad_of(sqlite3_value **argv, char ad[SEALED_AD_MAX])
{
    const char *case_id = (const char *)sqlite3_value_text(argv[1]);
    const char *table = (const char *)sqlite3_value_text(argv[2]);
    const char *record = (const char *)sqlite3_value_text(argv[3]);

    if (!case_id || !table || !record)
        return 0;
    return sealed_ad(ad, table, case_id, record);
}

static void fn_seal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    crypt_conn *conn = sqlite3_user_data(ctx);
    store_keys *keys = conn->keys;
    const char *case_id = (const char *)sqlite3_value_text(argv[1]);
    unsigned char key[SEALED_KEY_LEN], *rec = NULL;
    char ad[SEALED_AD_MAX], err[200] = "";
    size_t adlen, reclen;
    const void *pt;
    int ptlen;

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[0]) == SQLITE_BLOB
        || !keys) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    pt = sqlite3_value_text(argv[0]);
    ptlen = sqlite3_value_bytes(argv[0]);
    adlen = ad_of(argv, ad);
    if (!adlen || !case_id) {
        sqlite3_result_error(ctx, "konsil_seal: no case id, table or record", -1);
        return;
    }
    if (!store_keys_get(keys, case_id, key) &&
        (store_keys_create(keys, &case_id, 1, err, sizeof err) < 0 ||
         !store_keys_get(keys, case_id, key))) {
        sqlite3_result_error(ctx, err[0] ? err : "konsil_seal: no key for the case", -1);
        return;
    }
    if (sealed_seal(conn->box, key, ad, adlen, pt, (size_t)ptlen, &rec, &reclen) != 0) {
        OPENSSL_cleanse(key, sizeof key);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    OPENSSL_cleanse(key, sizeof key);
    sqlite3_result_blob(ctx, rec, (int)reclen, free);
}

static void fn_open(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    crypt_conn *conn = sqlite3_user_data(ctx);
    store_keys *keys = conn->keys;
    const char *case_id = (const char *)sqlite3_value_text(argv[1]);
    unsigned char key[SEALED_KEY_LEN];
    char ad[SEALED_AD_MAX], *pt = NULL, msg[200];
    size_t adlen, ptlen;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    if (!keys || !store_keys_unlocked(keys)) {
        sqlite3_result_error(ctx, "case data is encrypted: give the master key "
                             "(--master-key-file)", -1);
        return;
    }
    adlen = ad_of(argv, ad);
    if (!adlen || !case_id || !store_keys_get(keys, case_id, key)) {
        snprintf(msg, sizeof msg, "case %.64s: its key is gone (the case was erased)",
                 case_id ? case_id : "?");
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    if (sealed_open(conn->box, key, ad, adlen, sqlite3_value_blob(argv[0]),
                    (size_t)sqlite3_value_bytes(argv[0]), &pt, &ptlen) != 0) {
        OPENSSL_cleanse(key, sizeof key);
        snprintf(msg, sizeof msg, "case %.64s: a sealed record does not open (damaged, or "
                 "moved from elsewhere)", case_id);
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    OPENSSL_cleanse(key, sizeof key);
    sqlite3_result_text(ctx, pt, (int)ptlen, free);
}

static void fn_key(sqlite3_context *ctx, int argc, sqlite3_value **argv, int create)
{
    store_keys *keys = ((crypt_conn *)sqlite3_user_data(ctx))->keys;
    const char *case_id = (const char *)sqlite3_value_text(argv[0]);
    char err[200] = "";
    int64_t g;

    (void)argc;
    if (!keys) {
        sqlite3_result_null(ctx);
        return;
    }
    if (!case_id) {
        sqlite3_result_error(ctx, "no case id", -1);
        return;
    }
    g = create ? store_keys_create(keys, &case_id, 1, err, sizeof err) :
        store_keys_destroy(keys, case_id, err, sizeof err);
    if (g < 0)
        sqlite3_result_error(ctx, err, -1);
    else
        sqlite3_result_int64(ctx, g);
}

static void fn_key_create(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fn_key(ctx, argc, argv, 1);
}

static void fn_key_destroy(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fn_key(ctx, argc, argv, 0);
}

static void fn_has_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    store_keys *keys = ((crypt_conn *)sqlite3_user_data(ctx))->keys;
    const char *case_id = (const char *)sqlite3_value_text(argv[0]);

    (void)argc;
    if (!keys || !case_id)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int(ctx, store_keys_has(keys, case_id));
}

static void fn_keys_reload(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    store_keys *keys = ((crypt_conn *)sqlite3_user_data(ctx))->keys;
    char err[200];

    (void)argc;
    (void)argv;
    if (keys && store_keys_reload(keys, err, sizeof err) != 0)
        sqlite3_result_error(ctx, err, -1);
    else
        sqlite3_result_int(ctx, keys != NULL);
}

int store_crypt_keys_reload(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT konsil_keys_reload()", -1, &st, NULL) != SQLITE_OK)
        return -1;
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_crypt_register(sqlite3 *db, store_keys *keys, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int args;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
        int deterministic;
    } fns[] = {
        {"konsil_seal", 4, fn_seal, 0},
        {"konsil_open", 4, fn_open, 1},
        {"konsil_key_create", 1, fn_key_create, 0},
        {"konsil_key_destroy", 1, fn_key_destroy, 0},
        {"konsil_has_key", 1, fn_has_key, 0},
        {"konsil_keys_reload", 0, fn_keys_reload, 0},
    };

    crypt_conn *conn = calloc(1, sizeof *conn);

    if (!conn || (keys && !(conn->box = sealed_box_new()))) {
        crypt_conn_free(conn);
        snprintf(err, errlen, "out of memory (or no AES-256-GCM in OpenSSL)");
        return -1;
    }
    conn->keys = keys;
    /* The first function owns conn: SQLite frees it with the connection (or when the
     * function is registered anew), after which none of them is called any more. */
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (sqlite3_create_function_v2(db, fns[i].name, fns[i].args,
                                       SQLITE_UTF8 | (fns[i].deterministic ?
                                                      SQLITE_DETERMINISTIC : 0),
                                       conn, fns[i].fn, NULL, NULL,
                                       i == 0 ? crypt_conn_free : NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            if (i == 0)
                crypt_conn_free(conn);  /* freed by SQLite only once registered */
            return -1;
        }
    return 0;
}

/* settings' value of key into out (n bytes; "" when absent). 0 or -1. */
static int setting(sqlite3 *db, const char *key, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, n, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int set_setting(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT"
                           " (key) DO UPDATE SET value = excluded.value", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_crypt_bound(sqlite3 *db, char id[33], char *err, size_t errlen)
{
    if (setting(db, "keystore_id", id, 33) != 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int store_crypt_attach(sqlite3 *db, store_keys *keys, int bind, char *err, size_t errlen)
{
    char id[64], generation[32];
    long long seen;

    if (setting(db, "keystore_id", id, sizeof id) != 0 ||
        setting(db, "keystore_generation", generation, sizeof generation) != 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    if (id[0] && strcmp(id, store_keys_id(keys)) != 0) {
        snprintf(err, errlen, "this database's case data is encrypted under key store %s, "
                 "not %s: name its key store with --keys", id, store_keys_id(keys));
        return -1;
    }
    seen = generation[0] ? strtoll(generation, NULL, 10) : 0;
    if (store_keys_generation(keys) < seen) {
        snprintf(err, errlen, "the key store (generation %" PRId64 ") is older than this "
                 "database has seen (%lld): it lacks keys made since (a key store restored "
                 "from a backup?); use the current key store file",
                 store_keys_generation(keys), seen);
        return -1;
    }
    if (!id[0] && bind) {
        char g[32];
        snprintf(g, sizeof g, "%" PRId64, store_keys_generation(keys));
        if (set_setting(db, "keystore_id", store_keys_id(keys)) != 0 ||
            set_setting(db, "keystore_generation", g) != 0) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            return -1;
        }
    }
    return 0;
}

/* Runs `SELECT fn(case_id)` and records the generation it returns (none: no key store). */
static int key_call(sqlite3 *db, const char *sql, const char *case_id)
{
    sqlite3_stmt *st = NULL;
    char g[32] = "";
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(g, sizeof g, "%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return -1;
    return g[0] ? set_setting(db, "keystore_generation", g) : 0;
}

int store_crypt_key_create(sqlite3 *db, const char *case_id)
{
    return key_call(db, "SELECT konsil_key_create(?1)", case_id);
}

int store_crypt_key_destroy(sqlite3 *db, const char *case_id)
{
    return key_call(db, "SELECT konsil_key_destroy(?1)", case_id);
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_crypt_upgrade(sqlite3 *db, store_keys *keys, long *sealed, char *err,
                        size_t errlen)
{
    static const char *const seal_all[] = {
        "UPDATE ops SET op = konsil_seal(op, doc, 'ops', v) WHERE typeof(op) = 'text'",
        "UPDATE milestones SET data = konsil_seal(data, doc, 'milestones', v)"
        " WHERE typeof(data) = 'text'",
        "UPDATE cases SET title = konsil_seal(title, id, 'cases.title', id)"
        " WHERE typeof(title) = 'text'",
        "UPDATE clients SET display_name = konsil_seal(display_name, (SELECT s.case_id FROM"
        " sessions s WHERE s.id = clients.session), 'clients.display_name', id)"
        " WHERE typeof(display_name) = 'text'",
    };
    sqlite3_stmt *st = NULL;
    char done[8], g[32];
    char **ids = NULL;
    size_t n = 0, cap = 0;
    int64_t generation;

    *sealed = 0;
    if (setting(db, "encryption", done, sizeof done) != 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    if (strcmp(done, "on") == 0)
        return 0;
    if (exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    /* Every case and document gets its key first: one durable key-store write. */
    if (sqlite3_prepare_v2(db, "SELECT id FROM cases UNION SELECT DISTINCT doc FROM ops", -1,
                           &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            char **grown = realloc(ids, (cap ? cap * 2 : 64) * sizeof *grown);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            ids = grown;
            cap = cap ? cap * 2 : 64;
        }
        if (!(ids[n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    generation = store_keys_create(keys, (const char *const *)ids, n, err, errlen);
    if (generation < 0)
        goto fail;
    snprintf(g, sizeof g, "%" PRId64, generation);
    if (set_setting(db, "keystore_generation", g) != 0)
        goto sqlfail;
    for (size_t i = 0; i < sizeof seal_all / sizeof seal_all[0]; i++) {
        if (exec(db, seal_all[i], err, errlen) != 0)
            goto fail;
        *sealed += sqlite3_changes(db);
    }
    if (set_setting(db, "encryption", "on") != 0)
        goto sqlfail;
    if (exec(db, "COMMIT", err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    /* The plaintext was overwritten with zeros (secure_delete); its copies in the WAL go
     * with the checkpoint. Nothing else has the database open yet. */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return 0;
sqlfail:
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
fail:
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return -1;
}
