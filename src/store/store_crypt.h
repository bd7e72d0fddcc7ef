/*
 * Case data encrypted at rest (protocol/keystore.md): what is sealed, where, and the SQL
 * functions through which every statement reads and writes it, so that the writer, the
 * reader and the REST calls each seal or open a column where they name it:
 *
 *   konsil_seal(text, case_id, table, record)   the text sealed under the case's data key
 *                                               (a BLOB; sealed.h), the key made first
 *                                               (durably) when the case has none yet
 *   konsil_open(value, case_id, table, record)  a sealed BLOB opened; a TEXT (written
 *                                               before encryption, or without a key
 *                                               store) as it is
 *   konsil_key_create(case_id)                  makes the case's key durably: the key
 *                                               store's generation afterwards
 *   konsil_key_destroy(case_id)                 destroys it durably: the generation
 *   konsil_has_key(case_id)                     1 or 0
 *   konsil_keys_reload()                        reads the key store again if another
 *                                               process changed it
 *
 * Sealed: the op log's op texts (table "ops", record: the version), the stored snapshots
 * ("milestones", the version), the case's title ("cases.title", the case id) and its
 * clients' self-chosen names ("clients.display_name", the client id). Not sealed: ids,
 * times, versions, statuses, template names, team membership, the audit trail (whose
 * entries about a case lose their content when it is erased) and the reasons given for
 * holds, restrictions and erasures (texts for the record, to be written without the
 * client's story).
 *
 * Without a key store (no master key) the functions pass text through, and a sealed
 * value cannot be read: konsil_open fails with a message saying so. A database binds to
 * its key store (settings.keystore_id) the first time it is opened with one, and keeps
 * the newest key-store generation it has written (settings.keystore_generation): a key
 * store of another id, or older than that (restored from a backup, so missing the keys
 * made since), is refused.
 */
#ifndef KONSIL_STORE_CRYPT_H
#define KONSIL_STORE_CRYPT_H

#include <stddef.h>

#include <sqlite3.h>

#include "store/store_keys.h"

/* Registers the functions on db with keys (NULL: none). 0 or -1 with err. */
int store_crypt_register(sqlite3 *db, store_keys *keys, char *err, size_t errlen);

/* The key store this database is bound to: its id copied into id (33 bytes; "" when
 * none). 0 or -1 with err. */
int store_crypt_bound(sqlite3 *db, char id[33], char *err, size_t errlen);
/* Checks keys against the database's binding and generation, and binds an unbound
 * database to it (bind set). 0 or -1 with err. */
int store_crypt_attach(sqlite3 *db, store_keys *keys, int bind, char *err, size_t errlen);

/* The one-time step when a database is first opened with a master key: every case (and
 * every document of the op log) gets a key, and every plaintext record is sealed, in one
 * transaction, then the WAL is checkpointed and truncated (the plaintext was overwritten
 * with secure_delete). Later opens find settings.encryption = "on" and do nothing.
 * *sealed is the number of records sealed. 0 or -1 with err. */
int store_crypt_upgrade(sqlite3 *db, store_keys *keys, long *sealed, char *err,
                        size_t errlen);

/* Inside the caller's write transaction: makes case_id's key (when there is a key store)
 * and records the generation. 0 or -1 (sqlite3_errmsg says why). */
int store_crypt_key_create(sqlite3 *db, const char *case_id);
/* The key store read again if another process changed it (store_keys_reload). 0 or -1. */
int store_crypt_keys_reload(sqlite3 *db);
/* Inside the caller's write transaction: destroys case_id's key (when there is a key
 * store) and records the generation. 0 or -1. */
int store_crypt_key_destroy(sqlite3 *db, const char *case_id);

#endif
