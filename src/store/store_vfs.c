/*
 * The writer's files through a thin SQLite VFS that times every fsync (see
 * store_vfs.h): each method is handed to the default VFS unchanged, only xSync is
 * measured, into the store's histogram. The VFS is the store's own (its name carries
 * its address), so its pointer to the histogram is no process-wide state.
 */
#include "store/store_vfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store_vfs {
    sqlite3_vfs vfs;            /* first: SQLite hands this pointer back to us */
    sqlite3_vfs *root;
    histo *fsync;
    char name[48];
};

/* A file: our methods, then the root VFS's file. */
typedef struct timed_file {
    sqlite3_file base;
    histo *fsync;
    sqlite3_file *real;
} timed_file;

#define REAL(f) (((timed_file *)(f))->real)

static int t_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    f->pMethods = NULL;
    return rc;
}
static int t_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int t_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int t_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int t_sync(sqlite3_file *f, int flags)
{
    struct timespec a, b;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = REAL(f)->pMethods->xSync(REAL(f), flags);
    clock_gettime(CLOCK_MONOTONIC, &b);
    histo_observe(((timed_file *)f)->fsync, (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL +
                                                       (b.tv_nsec - a.tv_nsec)));
    return rc;
}
static int t_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int t_lock(sqlite3_file *f, int lock)
{
    return REAL(f)->pMethods->xLock(REAL(f), lock);
}
static int t_unlock(sqlite3_file *f, int lock)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}
static int t_check_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int t_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int t_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int t_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int t_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int t_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void t_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int t_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int t_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int t_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

/* The methods for each version the root's file may have (1: no shared memory, 2: WAL,
 * 3: memory-mapped reads): ours offer exactly what the real file offers. */
static const sqlite3_io_methods methods[3] = {
    {1, t_close, t_read, t_write, t_truncate, t_sync, t_size, t_lock, t_unlock, t_check_lock,
     t_control, t_sector, t_device, NULL, NULL, NULL, NULL, NULL, NULL},
    {2, t_close, t_read, t_write, t_truncate, t_sync, t_size, t_lock, t_unlock, t_check_lock,
     t_control, t_sector, t_device, t_shm_map, t_shm_lock, t_shm_barrier, t_shm_unmap,
     NULL, NULL},
    {3, t_close, t_read, t_write, t_truncate, t_sync, t_size, t_lock, t_unlock, t_check_lock,
     t_control, t_sector, t_device, t_shm_map, t_shm_lock, t_shm_barrier, t_shm_unmap,
     t_fetch, t_unfetch},
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                  int *out_flags)
{
    store_vfs *v = (store_vfs *)vfs;
    timed_file *t = (timed_file *)f;
    int rc, version;

    t->fsync = v->fsync;
    t->real = (sqlite3_file *)(t + 1);
    t->real->pMethods = NULL;
    f->pMethods = NULL;
    rc = v->root->xOpen(v->root, name, t->real, flags, out_flags);
    if (t->real->pMethods) {
        version = t->real->pMethods->iVersion;
        f->pMethods = &methods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
    }
    return rc;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xDelete(root, name, sync_dir);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xAccess(root, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xFullPathname(root, name, n, out);
}
static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xDlOpen(root, name);
}
static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    root->xDlError(root, n, out);
}
static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xDlSym(root, h, sym);
}
static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    root->xDlClose(root, h);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xRandomness(root, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xSleep(root, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xCurrentTime(root, out);
}
static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xGetLastError ? root->xGetLastError(root, n, out) : 0;
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    sqlite3_vfs *root = ((store_vfs *)vfs)->root;
    return root->xCurrentTimeInt64(root, out);
}

int store_vfs_open(store_vfs **out, histo *fsync, char *err, size_t errlen)
{
    sqlite3_vfs *root = sqlite3_vfs_find(NULL);
    store_vfs *v;

    *out = NULL;
    if (!root || root->iVersion < 2 || !root->xCurrentTimeInt64) {
        snprintf(err, errlen, "SQLite's default VFS is too old to wrap");
        return -1;
    }
    v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->root = root;
    v->fsync = fsync;
    snprintf(v->name, sizeof v->name, "konsil-timed-%p", (void *)v);
    v->vfs.iVersion = 2;
    v->vfs.szOsFile = (int)sizeof(timed_file) + root->szOsFile;
    v->vfs.mxPathname = root->mxPathname;
    v->vfs.zName = v->name;
    v->vfs.xOpen = v_open;
    v->vfs.xDelete = v_delete;
    v->vfs.xAccess = v_access;
    v->vfs.xFullPathname = v_full;
    v->vfs.xDlOpen = v_dlopen;
    v->vfs.xDlError = v_dlerror;
    v->vfs.xDlSym = v_dlsym;
    v->vfs.xDlClose = v_dlclose;
    v->vfs.xRandomness = v_random;
    v->vfs.xSleep = v_sleep;
    v->vfs.xCurrentTime = v_time;
    v->vfs.xGetLastError = v_last_error;
    v->vfs.xCurrentTimeInt64 = v_time64;
    if (sqlite3_vfs_register(&v->vfs, 0) != SQLITE_OK) {
        snprintf(err, errlen, "cannot register the timing VFS");
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

const char *store_vfs_name(const store_vfs *v)
{
    return v->name;
}

void store_vfs_close(store_vfs *v)
{
    if (!v)
        return;
    sqlite3_vfs_unregister(&v->vfs);
    free(v);
}
