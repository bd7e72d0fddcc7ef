/*
 * How the command-line tools open the database: existing only (a tool never creates
 * one), configured and migrated as the server does it, with the SQL functions of
 * encryption at rest (store_crypt.h) and, when the database is bound to a key store,
 * that key store: with the master key (--master-key-file) for tools that read case data,
 * or for removals only (erasing a case destroys its key, which needs no master key).
 */
#ifndef KONSIL_CLI_DB_H
#define KONSIL_CLI_DB_H

#include <sqlite3.h>

#include "store/store_keys.h"

typedef struct cli_db {
    sqlite3 *db;
    store_keys *keys;       /* NULL when the database is bound to no key store */
} cli_db;

/* Opens path for `cmd` (its name in messages). master_file and keys_path may be NULL
 * (the key store is then the database's path + ".keys"). A database bound to a key
 * store that cannot be opened is an error. 0, or -1 with the reason on stderr. */
int cli_db_open(cli_db *out, const char *cmd, const char *path, const char *master_file,
                const char *keys_path);
void cli_db_close(cli_db *d);
/* Refuses a PostgreSQL target for `cmd`, whose SQL has not moved onto the database layer
 * yet (protocol/cluster.md), saying so on stderr: -1; 0 for an SQLite path. */
int cli_db_refuse_postgres(const char *cmd, const char *path);

#endif
