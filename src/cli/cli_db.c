/*
 * Opening the database for a command-line tool (see cli_db.h).
 */
#include "cli/cli_db.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db/db.h"
#include "store/store.h"
#include "store/store_crypt.h"

int cli_db_refuse_postgres(const char *cmd, const char *path)
{
    if (!db_is_postgres(path))
        return 0;
    fprintf(stderr, "konsil %s: %s: PostgreSQL is not available for this command yet\n", cmd,
            path);
    return -1;
}

int cli_db_open(cli_db *out, const char *cmd, const char *path, const char *master_file,
                const char *keys_path)
{
    unsigned char master[SEALED_KEY_LEN];
    char err[512] = "", bound[33] = "", kpath[4200];
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (cli_db_refuse_postgres(cmd, path) != 0)
        return -1;
    snprintf(kpath, sizeof kpath, "%.4000s%s", keys_path ? keys_path : path,
             keys_path ? "" : ".keys");
    if (sqlite3_open_v2(path, &out->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        store_schema_configure(out->db, 10000, err, sizeof err) != 0 ||
        store_schema_migrate(out->db, err, sizeof err) != 0 ||
        store_crypt_bound(out->db, bound, err, sizeof err) != 0)
        goto out;
    if (master_file && store_keys_read_master(master_file, master, err, sizeof err) != 0)
        goto out;
    if ((bound[0] || master_file) &&
        (store_keys_open(kpath, master_file ? master : NULL, 0, &out->keys, err,
                         sizeof err) != 0 ||
         store_crypt_attach(out->db, out->keys, 0, err, sizeof err) != 0))
        goto out;
    if (store_crypt_register(out->db, out->keys, err, sizeof err) != 0)
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(master, sizeof master);
    if (rc != 0) {
        fprintf(stderr, "konsil %s: %s: %s\n", cmd, path,
                err[0] ? err : out->db ? sqlite3_errmsg(out->db) : "out of memory");
        cli_db_close(out);
    }
    return rc;
}

void cli_db_close(cli_db *d)
{
    sqlite3_close(d->db);
    store_keys_free(d->keys);
    memset(d, 0, sizeof *d);
}
