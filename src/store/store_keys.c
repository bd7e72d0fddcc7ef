/*
 * The key store file and its copy in memory (see store_keys.h).
 */
#include "store/store_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/keyfile.h"

/* A key store of more than this is refused (about 100,000 cases' keys fit). */
#define KEYS_FILE_MAX (64 * 1024 * 1024)

struct store_keys {
    char *path;
    char *lock_path;
    unsigned char master[SEALED_KEY_LEN];
    int has_master;
    pthread_rwlock_t lock;      /* guards kf and seen */
    pthread_mutex_t write;      /* one write at a time in this process */
    keyfile kf;
    struct stat seen;           /* the file as last read or written */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_keys_read_master(const char *path, unsigned char out[SEALED_KEY_LEN], char *err,
                           size_t errlen)
{
    char text[256];
    struct stat st;
    auth_error aerr = {{0}};
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "--master-key-file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "--master-key-file %s: not a regular file", path);
        return -1;
    }
    if (st.st_mode & 077) {
        close(fd);
        snprintf(err, errlen, "--master-key-file %s: others may read it (mode %03o); "
                 "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0 || keyfile_master_parse(text, (size_t)n, out, &aerr) != 0) {
        OPENSSL_cleanse(text, sizeof text);
        snprintf(err, errlen, "--master-key-file %s: %s", path,
                 n < 0 ? strerror(errno) : aerr.message);
        return -1;
    }
    OPENSSL_cleanse(text, sizeof text);
    return 0;
}

/* The file's text into *text (malloc'ed) and its stat into *st: 1, 0 when it does not
 * exist, -1 (err). */
static int read_file(const char *path, char **text, size_t *len, struct stat *st, char *err,
                     size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t got = 0;

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "key store %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > KEYS_FILE_MAX) {
        close(fd);
        snprintf(err, errlen, "key store %s: not a regular file of at most %d MiB", path,
                 KEYS_FILE_MAX >> 20);
        return -1;
    }
    buf = malloc((size_t)st->st_size + 1);
    while (buf && got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)st->st_size) {
        free(buf);
        snprintf(err, errlen, "key store %s: cannot read it", path);
        return -1;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 1;
}

/* Reads and parses the file into kf (unlocked with the master key when there is one,
 * reusing the keys of `known`). 1, 0 (no file), -1 (err). */
static int load(store_keys *k, keyfile *kf, const keyfile *known, struct stat *st, char *err,
                size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    auth_error aerr = {{0}};
    int rc = read_file(k->path, &text, &len, st, err, errlen);

    if (rc <= 0)
        return rc;
    if (keyfile_parse(kf, text, len, &aerr) != 0 ||
        (k->has_master && keyfile_unlock(kf, k->master, known, &aerr) != 0)) {
        keyfile_clear(kf);
        snprintf(err, errlen, "key store %s: %s", k->path, aerr.message);
        rc = -1;
    }
    free(text);
    return rc;
}

static int fsync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;

    if (!copy)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

/* Writes kf to the file atomically and durably: a temporary file, fsync, rename, fsync
 * of the folder. *st is the new file's. 0 or -1 (err). */
static int write_file(store_keys *k, const keyfile *kf, struct stat *st, char *err,
                      size_t errlen)
{
    char *text = keyfile_format(kf), tmp[4200];
    size_t len = text ? strlen(text) : 0, done = 0;
    int fd;

    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%.4000s.tmp.%ld", k->path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    free(text);
    if (fd < 0 || done != len || fsync(fd) != 0 || fstat(fd, st) != 0 || close(fd) != 0 ||
        rename(tmp, k->path) != 0 || fsync_dir(k->path) != 0) {
        snprintf(err, errlen, "key store %s: cannot write it: %s", k->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef int (*change_fn)(store_keys *k, keyfile *kf, void *arg, char *err, size_t errlen);

/* One write: under the lock file, the file as it is now, changed by fn (which returns 1
 * when it changed something, 0 when not, -1 on error), written back with its generation
 * raised, and taken as the copy in memory. Returns the generation afterwards or -1. */
static int64_t update(store_keys *k, change_fn fn, void *arg, char *err, size_t errlen)
{
    keyfile kf;
    struct stat st;
    int lock_fd, rc, changed;
    int64_t generation = -1;

    memset(&kf, 0, sizeof kf);
    pthread_mutex_lock(&k->write);
    lock_fd = open(k->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "key store %s: cannot lock it: %s", k->lock_path,
                 strerror(errno));
        goto out;
    }
    pthread_rwlock_rdlock(&k->lock);
    rc = load(k, &kf, &k->kf, &st, err, errlen);
    pthread_rwlock_unlock(&k->lock);
    if (rc < 0)
        goto out;
    if (rc == 0 || strcmp(kf.id, k->kf.id) != 0) {
        snprintf(err, errlen, "key store %s: %s", k->path, rc == 0 ? "it is gone" :
                 "it was replaced by another key store");
        goto out;
    }
    changed = fn(k, &kf, arg, err, errlen);
    if (changed < 0)
        goto out;
    if (changed) {
        kf.generation++;
        if (write_file(k, &kf, &st, err, errlen) != 0)
            goto out;
    }
    pthread_rwlock_wrlock(&k->lock);
    keyfile_clear(&k->kf);
    k->kf = kf;
    k->seen = st;
    generation = kf.generation;
    pthread_rwlock_unlock(&k->lock);
    memset(&kf, 0, sizeof kf);
out:
    keyfile_clear(&kf);
    if (lock_fd >= 0)
        close(lock_fd);     /* releases the flock */
    pthread_mutex_unlock(&k->write);
    return generation;
}

int store_keys_open(const char *path, const unsigned char *master, int create,
                    store_keys **out, char *err, size_t errlen)
{
    store_keys *k = calloc(1, sizeof *k);
    struct stat st;
    int rc;

    *out = NULL;
    if (!k || !(k->path = strdup(path)) || !(k->lock_path = malloc(strlen(path) + 6))) {
        if (k)
            free(k->path);
        free(k);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sprintf(k->lock_path, "%s.lock", path);
    pthread_rwlock_init(&k->lock, NULL);
    pthread_mutex_init(&k->write, NULL);
    if (master) {
        memcpy(k->master, master, SEALED_KEY_LEN);
        k->has_master = 1;
    }
    rc = load(k, &k->kf, NULL, &k->seen, err, errlen);
    if (rc == 0 && create && master) {
        auth_error aerr = {{0}};
        int lock_fd = open(k->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
            snprintf(err, errlen, "key store %s: cannot lock it", k->lock_path);
            rc = -1;
        } else if ((rc = load(k, &k->kf, NULL, &k->seen, err, errlen)) == 0) {
            /* Still missing under the lock: this process makes it. */
            rc = keyfile_new(&k->kf, master, &aerr) == 0 &&
                 write_file(k, &k->kf, &k->seen, err, errlen) == 0 ? 1 : -1;
            if (aerr.message[0])
                snprintf(err, errlen, "key store %s: %s", path, aerr.message);
        }
        if (lock_fd >= 0)
            close(lock_fd);
    } else if (rc == 0) {
        snprintf(err, errlen, "no key store at %s", path);
        rc = -1;
    }
    if (rc < 0) {
        store_keys_free(k);
        return -1;
    }
    (void)st;
    *out = k;
    return 0;
}

void store_keys_free(store_keys *k)
{
    if (!k)
        return;
    keyfile_clear(&k->kf);
    OPENSSL_cleanse(k->master, sizeof k->master);
    pthread_rwlock_destroy(&k->lock);
    pthread_mutex_destroy(&k->write);
    free(k->path);
    free(k->lock_path);
    free(k);
}

const char *store_keys_id(store_keys *k)
{
    return k->kf.id;
}

int64_t store_keys_generation(store_keys *k)
{
    int64_t g;

    pthread_rwlock_rdlock(&k->lock);
    g = k->kf.generation;
    pthread_rwlock_unlock(&k->lock);
    return g;
}

int store_keys_unlocked(const store_keys *k)
{
    return k->has_master;
}

int store_keys_get(store_keys *k, const char *case_id, unsigned char key[SEALED_KEY_LEN])
{
    const keyfile_entry *e;
    int found = 0;

    pthread_rwlock_rdlock(&k->lock);
    e = keyfile_find(&k->kf, case_id);
    if (e && e->unlocked) {
        memcpy(key, e->key, SEALED_KEY_LEN);
        found = 1;
    }
    pthread_rwlock_unlock(&k->lock);
    return found;
}

int store_keys_has(store_keys *k, const char *case_id)
{
    int found;

    pthread_rwlock_rdlock(&k->lock);
    found = keyfile_find(&k->kf, case_id) != NULL;
    pthread_rwlock_unlock(&k->lock);
    return found;
}

typedef struct create_arg {
    const char *const *ids;
    size_t n;
} create_arg;

static int add_keys(store_keys *k, keyfile *kf, void *arg, char *err, size_t errlen)
{
    create_arg *a = arg;
    int64_t now = now_ms();
    int changed = 0;

    for (size_t i = 0; i < a->n; i++) {
        auth_error aerr = {{0}};
        if (keyfile_find(kf, a->ids[i]))
            continue;
        if (!keyfile_add(kf, k->master, a->ids[i], now, &aerr)) {
            snprintf(err, errlen, "key store: %s", aerr.message);
            return -1;
        }
        changed = 1;
    }
    return changed;
}

int64_t store_keys_create(store_keys *k, const char *const *ids, size_t n, char *err,
                          size_t errlen)
{
    create_arg a = {ids, n};
    size_t missing = 0;

    if (!k->has_master) {
        snprintf(err, errlen, "key store %s: keys are made only with the master key", k->path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        missing += !store_keys_has(k, ids[i]);
    if (!missing)
        return store_keys_generation(k);
    return update(k, add_keys, &a, err, errlen);
}

static int remove_key(store_keys *k, keyfile *kf, void *arg, char *err, size_t errlen)
{
    (void)k;
    (void)err;
    (void)errlen;
    return keyfile_remove(kf, arg);
}

int64_t store_keys_destroy(store_keys *k, const char *case_id, char *err, size_t errlen)
{
    return update(k, remove_key, (void *)case_id, err, errlen);
}

static int rewrap(store_keys *k, keyfile *kf, void *arg, char *err, size_t errlen)
{
    auth_error aerr = {{0}};

    (void)k;
    if (keyfile_rewrap(kf, arg, &aerr) != 0) {
        snprintf(err, errlen, "key store: %s", aerr.message);
        return -1;
    }
    return 1;
}

int store_keys_rotate(store_keys *k, const unsigned char new_master[SEALED_KEY_LEN],
                      char *err, size_t errlen)
{
    if (!k->has_master) {
        snprintf(err, errlen, "key store %s: rotation needs the current master key", k->path);
        return -1;
    }
    if (update(k, rewrap, (void *)new_master, err, errlen) < 0)
        return -1;
    memcpy(k->master, new_master, SEALED_KEY_LEN);
    return 0;
}

int store_keys_reload(store_keys *k, char *err, size_t errlen)
{
    struct stat st;
    keyfile kf;
    int rc, same;

    if (stat(k->path, &st) != 0) {
        snprintf(err, errlen, "key store %s: %s", k->path, strerror(errno));
        return -1;
    }
    pthread_rwlock_rdlock(&k->lock);
    same = st.st_ino == k->seen.st_ino && st.st_dev == k->seen.st_dev &&
           st.st_size == k->seen.st_size && st.st_mtim.tv_sec == k->seen.st_mtim.tv_sec &&
           st.st_mtim.tv_nsec == k->seen.st_mtim.tv_nsec;
    pthread_rwlock_unlock(&k->lock);
    if (same)
        return 0;
    pthread_mutex_lock(&k->write);
    pthread_rwlock_rdlock(&k->lock);
    rc = load(k, &kf, &k->kf, &st, err, errlen);
    pthread_rwlock_unlock(&k->lock);
    if (rc > 0 && strcmp(kf.id, k->kf.id) != 0) {
        keyfile_clear(&kf);
        snprintf(err, errlen, "key store %s: it was replaced by another key store", k->path);
        rc = -1;
    }
    if (rc > 0) {
        pthread_rwlock_wrlock(&k->lock);
        keyfile_clear(&k->kf);
        k->kf = kf;
        k->seen = st;
        pthread_rwlock_unlock(&k->lock);
    } else if (rc == 0) {
        snprintf(err, errlen, "key store %s: it is gone", k->path);
    }
    pthread_mutex_unlock(&k->write);
    return rc > 0 ? 0 : -1;
}
