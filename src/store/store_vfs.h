/*
 * The writer's view of the disk, measured: an SQLite VFS of the store's own that hands
 * every call to the default VFS and times each fsync (xSync) of the database and its WAL
 * into a histogram (/metrics: konsil_fsync_seconds). Only the writer's connection opens
 * its files through it; the readers use the default VFS.
 *
 * Ownership: the store owns its store_vfs; the histogram must outlive it, and every
 * connection opened through it must be closed before store_vfs_close().
 */
#ifndef KONSIL_STORE_VFS_H
#define KONSIL_STORE_VFS_H

#include <stddef.h>

#include <sqlite3.h>

#include "util/histo.h"

typedef struct store_vfs store_vfs;

/* Registers a new VFS (not the default) timing fsyncs into fsync. 0 or -1 with err. */
int store_vfs_open(store_vfs **out, histo *fsync, char *err, size_t errlen);
/* Its name, for sqlite3_open_v2(). */
const char *store_vfs_name(const store_vfs *v);
/* Unregisters and frees it (NULL: nothing). */
void store_vfs_close(store_vfs *v);

#endif
