/*
 * The key store on disk and in memory: each case's data key (src/auth/keyfile.h has the
 * file format), in its own file apart from the database (by default the database's path
 * with ".keys" added), read once at start and kept in memory, written atomically and
 * durably whenever a key is added or destroyed: under an exclusive lock (flock on
 * FILE.lock) the file is read again (another process — `konsil case erase`, `konsil
 * retention run` — may have changed it), changed, written to a temporary file, fsync'ed,
 * renamed over the old one, and the folder fsync'ed; only then does the change count.
 * Every write raises the file's generation.
 *
 * Without the master key a key store opens for removals only (the command-line tools that
 * erase cases need no master key: a removed line needs no unwrapping); keys can then
 * be neither read nor added.
 *
 * Threads: any store thread may call these; reads take a shared lock, writes are
 * serialised. None of them may run on the service thread (writes fsync).
 */
#ifndef KONSIL_STORE_KEYS_H
#define KONSIL_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/sealed.h"

typedef struct store_keys store_keys;

/* Reads the master key file: 64 hex digits, a regular file that neither group nor others
 * may read or write (chmod 600). 0 or -1 with err. */
int store_keys_read_master(const char *path, unsigned char out[SEALED_KEY_LEN], char *err,
                           size_t errlen);

/* Opens the key store at path with master (NULL: removals only). A missing file is
 * created (empty) when create is set and master given; otherwise it is an error. 0 or
 * -1 with err (a wrong master key, a damaged file). */
int store_keys_open(const char *path, const unsigned char *master, int create,
                    store_keys **out, char *err, size_t errlen);
void store_keys_free(store_keys *k);

/* The key store's id and its generation as last read or written. */
const char *store_keys_id(store_keys *k);
int64_t store_keys_generation(store_keys *k);
/* Whether it holds the master key (keys can be read and added). */
int store_keys_unlocked(const store_keys *k);

/* Copies case_id's data key into key: 1, or 0 when it has none (or the store is not
 * unlocked). */
int store_keys_get(store_keys *k, const char *case_id, unsigned char key[SEALED_KEY_LEN]);
/* Whether case_id has a key (also without the master key). */
int store_keys_has(store_keys *k, const char *case_id);

/* Makes sure each of ids[0..n) has a key, durably (one write for all; none when every
 * one has one). Returns the generation afterwards, or -1 with err. */
int64_t store_keys_create(store_keys *k, const char *const *ids, size_t n, char *err,
                          size_t errlen);
/* Destroys case_id's key, durably (nothing to write when it has none). Returns the
 * generation afterwards, or -1 with err. */
int64_t store_keys_destroy(store_keys *k, const char *case_id, char *err, size_t errlen);
/* Reads the file again if it changed since (another process wrote it). 0 or -1. */
int store_keys_reload(store_keys *k, char *err, size_t errlen);
/* Rewraps every key under new_master (the old one given to open it), durably: key
 * rotation, with the server stopped. 0 or -1 with err. */
int store_keys_rotate(store_keys *k, const unsigned char new_master[SEALED_KEY_LEN],
                      char *err, size_t errlen);

#endif
