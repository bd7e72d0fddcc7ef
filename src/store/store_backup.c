/*
 * Online copies of the database (see store_backup.h): the backup API in steps inside one
 * read transaction on the source, a partial file renamed into place once it is durable.
 */
#include "store/store_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

static const char *const companions[] = {"", "-wal", "-shm", "-journal"};

int store_backup_exists(const char *path, char *what, size_t whatlen, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        char name[4200];
        struct stat sb;
        snprintf(name, sizeof name, "%s%s", path, companions[i]);
        if (lstat(name, &sb) == 0) {
            snprintf(what, whatlen, "%s", name);
            return 1;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void remove_partial(const char *tmp)
{
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        char name[4200];
        snprintf(name, sizeof name, "%s%s", tmp, companions[i]);
        unlink(name);
    }
}

static int fsync_path(const char *path, int flags, char *err, size_t errlen)
{
    int fd = open(path, flags | O_CLOEXEC), rc;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = fsync(fd);
    if (rc != 0)
        snprintf(err, errlen, "fsync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* The folder holding path ("." when it names none). */
static void folder_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* Renames tmp to to unless something exists at to (then EEXIST). */
static int rename_noreplace(const char *tmp, const char *to)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: link refuses an existing name too. */
    if (link(tmp, to) != 0)
        return -1;
    unlink(tmp);
    return 0;
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

/* The first column of sql's first row as text into out ("" when no row). */
static int query_text(sqlite3 *db, const char *sql, char *out, size_t n, char *err,
                      size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int has_table(sqlite3 *db, const char *name, int *out, char *err, size_t errlen)
{
    char sql[160], v[8];

    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'", name);
    if (query_text(db, sql, v, sizeof v, err, errlen) != 0)
        return -1;
    *out = strcmp(v, "0") != 0;
    return 0;
}

/* What the snapshot the source's read transaction sees holds. */
static int describe(sqlite3 *db, store_backup_info *info, char *err, size_t errlen)
{
    char v[128];
    int has;

    if (query_text(db, "PRAGMA user_version", v, sizeof v, err, errlen) != 0)
        return -1;
    info->schema = atoi(v);
    if (has_table(db, "cases", &has, err, errlen) != 0)
        return -1;
    if (has && query_text(db, "SELECT count(*) FROM cases", v, sizeof v, err, errlen) != 0)
        return -1;
    info->cases = has ? atoll(v) : 0;
    if (has_table(db, "ops", &has, err, errlen) != 0)
        return -1;
    /* The op log is clustered on (doc, v): one step per document, not per op. */
    if (has && query_text(db, "WITH RECURSIVE d(doc) AS (SELECT min(doc) FROM ops UNION ALL "
                          "SELECT (SELECT min(doc) FROM ops WHERE doc > d.doc) FROM d "
                          "WHERE d.doc IS NOT NULL) SELECT count(doc) FROM d", v, sizeof v,
                          err, errlen) != 0)
        return -1;
    info->documents = has ? atoll(v) : 0;
    info->audit.seq = 0;
    snprintf(info->audit.hash, sizeof info->audit.hash, "%s", AUDIT_GENESIS_HASH);
    if (has_table(db, "audit", &has, err, errlen) != 0)
        return -1;
    if (has) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            return -1;
        }
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 1)) {
            info->audit.seq = sqlite3_column_int64(st, 0);
            snprintf(info->audit.hash, sizeof info->audit.hash, "%s",
                     (const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
    }
    if (has_table(db, "settings", &has, err, errlen) != 0)
        return -1;
    if (has && (query_text(db, "SELECT value FROM settings WHERE key = 'keystore_id'",
                           info->keystore_id, sizeof info->keystore_id, err, errlen) != 0 ||
                query_text(db, "SELECT value FROM settings WHERE key = 'keystore_generation'",
                           v, sizeof v, err, errlen) != 0))
        return -1;
    info->keystore_generation = has ? atoll(v) : 0;
    return 0;
}

/* Copies src's main database into dst page by page, in steps. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, store_backup_info *info, char *err,
                      size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int rc;

    if (!b) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(dst));
        return -1;
    }
    /* The source holds its read transaction: no step opens a newer snapshot, so the
     * copy never restarts however often the server commits meanwhile. */
    while ((rc = sqlite3_backup_step(b, STORE_BACKUP_STEP_PAGES)) == SQLITE_OK)
        sqlite3_sleep(STORE_BACKUP_PAUSE_MS);
    info->pages = sqlite3_backup_pagecount(b);
    if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
        snprintf(err, errlen, "copying: %s", sqlite3_errstr(rc == SQLITE_DONE ?
                                                            sqlite3_errcode(dst) : rc));
        return -1;
    }
    return 0;
}

/* Makes the filled copy one self-contained, sound file. */
static int finish_copy(sqlite3 *dst, store_backup_info *info, char *err, size_t errlen)
{
    char v[64];

    if (query_text(dst, "PRAGMA journal_mode=DELETE", v, sizeof v, err, errlen) != 0)
        return -1;
    if (strcmp(v, "delete") != 0) {
        snprintf(err, errlen, "the copy stays in journal mode %s", v);
        return -1;
    }
    if (query_text(dst, "PRAGMA quick_check", v, sizeof v, err, errlen) != 0)
        return -1;
    if (strcmp(v, "ok") != 0) {
        snprintf(err, errlen, "the copy fails its quick check: %s", v);
        return -1;
    }
    if (query_text(dst, "SELECT page_count * page_size FROM pragma_page_count, "
                   "pragma_page_size", v, sizeof v, err, errlen) != 0)
        return -1;
    info->bytes = atoll(v);
    return 0;
}

int store_backup_copy(const char *from, const char *to, store_backup_info *info, char *err,
                      size_t errlen)
{
    char tmp[4200], folder[4200], what[4200], why[600] = "";
    sqlite3 *src = NULL, *dst = NULL;
    int fd, in_read = 0, rc = -1;

    memset(info, 0, sizeof *info);
    switch (store_backup_exists(to, what, sizeof what, err, errlen)) {
    case 0: break;
    case 1:
        snprintf(err, errlen, "%s exists already: it is not replaced", what);
        return -1;
    default:
        return -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", to) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: the name is too long", to);
        return -1;
    }
    /* An empty file is an empty database; mkstemp makes it 0600 and ours alone. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    close(fd);
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(why, sizeof why, "%.300s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(why, sizeof why, "%.300s: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    /* One snapshot for the description and every page: the read transaction starts
     * with the first read and lasts until the COMMIT. */
    if (exec(src, "BEGIN", why, sizeof why) != 0)
        goto out;
    in_read = 1;
    if (describe(src, info, why, sizeof why) != 0 ||
        copy_pages(src, dst, info, why, sizeof why) != 0)
        goto out;
    exec(src, "COMMIT", why, sizeof why);
    in_read = 0;
    if (finish_copy(dst, info, why, sizeof why) != 0)
        goto out;
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(why, sizeof why, "%.300s: %s", tmp, sqlite3_errmsg(dst));
        dst = NULL;
        goto out;
    }
    dst = NULL;
    if (fsync_path(tmp, O_RDONLY, why, sizeof why) != 0)
        goto out;
    if (rename_noreplace(tmp, to) != 0) {
        if (errno == EEXIST)
            snprintf(why, sizeof why, "%s appeared meanwhile: it is not replaced", to);
        else
            snprintf(why, sizeof why, "cannot rename the copy to %s: %s", to,
                     strerror(errno));
        goto out;
    }
    folder_of(to, folder, sizeof folder);
    if (fsync_path(folder, O_RDONLY | O_DIRECTORY, why, sizeof why) != 0) {
        unlink(to);
        goto out;
    }
    rc = 0;
out:
    if (in_read)
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != 0) {
        remove_partial(tmp);
        snprintf(err, errlen, "%s", why);
    }
    return rc;
}
