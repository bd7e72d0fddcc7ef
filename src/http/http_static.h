/*
 * Static files over HTTP on the hub's port: the folder given with --web is mounted at
 * "/" (index.html for directories); /api and /j go to the hub's REST handlers.
 * libwebsockets serves the files itself, in chunks on the service thread, so nothing
 * blocks on a slow client.
 *
 * Ownership: the caller owns the http_static and keeps it alive as long as the lws
 * context that uses its mount.
 */
#ifndef KONSIL_HTTP_STATIC_H
#define KONSIL_HTTP_STATIC_H

#include <limits.h>
#include <stddef.h>

#include <libwebsockets.h>

typedef struct http_static {
    char origin[PATH_MAX];
    struct lws_http_mount mount;
} http_static;

/* Prepares the mount for dir (which must be a readable folder). Returns 0, or -1 with
 * the reason in err. */
int http_static_init(http_static *s, const char *dir, char *err, size_t errlen);

#endif
