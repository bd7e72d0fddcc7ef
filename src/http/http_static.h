/*
 * Static files over HTTP on the hub's port: the folder given with --web is mounted at
 * "/" (index.html for directories); /api and /j go to the hub's REST handlers.
 * libwebsockets serves the files itself, in chunks on the service thread, so nothing
 * blocks on a slow client.
 *
 * Containment: every file lws opens for the context (the mount and the join page) goes
 * through http_static's file operations, which open only a path whose real location
 * (symbolic links resolved) lies inside the folder, with O_NOFOLLOW on the resolved
 * path. A link inside --web to a file inside it is served; one leading out of it
 * (e.g. to /etc/passwd) answers 404.
 *
 * Ownership: the caller owns the http_static and keeps it alive as long as the lws
 * context that uses its mount and file operations.
 */
#ifndef KONSIL_HTTP_STATIC_H
#define KONSIL_HTTP_STATIC_H

#include <limits.h>
#include <stddef.h>

#include <libwebsockets.h>

typedef struct http_static {
    char origin[PATH_MAX];
    struct lws_http_mount mount;
    struct lws_plat_file_ops fops;
} http_static;

/* Prepares the mount for dir (which must be a readable folder). Returns 0, or -1 with
 * the reason in err. */
int http_static_init(http_static *s, const char *dir, char *err, size_t errlen);

/* Makes ctx open files only through s (call once the context exists). */
void http_static_attach(http_static *s, struct lws_context *ctx);

/* Whether path, resolved, lies inside the folder; the resolved path goes to out
 * (PATH_MAX bytes). 0 inside, -1 outside or not there. */
int http_static_resolve(const http_static *s, const char *path, char *out);

#endif
