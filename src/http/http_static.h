/*
 * Static files over HTTP on the hub's port: the folder given with --web is mounted at
 * "/" (index.html for directories), its assets/ folder at "/assets"; /api and /j go to
 * the hub's REST handlers. libwebsockets serves the files itself, in chunks on the
 * service thread, so nothing blocks on a slow client.
 *
 * Containment: every file lws opens for the context (the mounts and the join page) goes
 * through http_static's file operations, which open only a path whose real location
 * (symbolic links resolved) lies inside the folder, with O_NOFOLLOW on the resolved
 * path. A link inside --web to a file inside it is served; one leading out of it
 * (e.g. to /etc/passwd) answers 404.
 *
 * Compression: a browser that accepts gzip gets the precompressed copy `<file>.gz`
 * beside a file when there is one (web-demo/build.js writes them), with
 * Content-Encoding: gzip; nothing is compressed on the fly.
 * Caching: files under /assets are named by their content (app.<hash>.js) and sent with
 * Cache-Control: public, max-age=31536000, immutable; everything else (index.html,
 * sw.js) with no-cache, so a new build reaches browsers on their next load. Every file
 * carries Vary: Accept-Encoding. (A revalidation lws answers with 304 carries its own
 * Cache-Control: no-store.)
 *
 * Ownership: the caller owns the http_static and keeps it alive (at a fixed address) as
 * long as the lws context that uses its mounts and file operations.
 */
#ifndef KONSIL_HTTP_STATIC_H
#define KONSIL_HTTP_STATIC_H

#include <limits.h>
#include <stddef.h>

#include <libwebsockets.h>

typedef struct http_static {
    char origin[PATH_MAX];
    char assets_origin[PATH_MAX];
    struct lws_http_mount assets;   /* "/assets", then `mount` */
    struct lws_http_mount mount;    /* "/" */
    struct lws_plat_file_ops fops;
} http_static;

/* Prepares the mounts for dir (which must be a readable folder); `protocol` names the
 * lws protocol whose callback passes LWS_CALLBACK_ADD_HEADERS to
 * http_static_add_headers(). Returns 0, or -1 with the reason in err. The mounts are
 * chained: hand lws &s->assets. */
int http_static_init(http_static *s, const char *dir, const char *protocol, char *err,
                     size_t errlen);

/* Makes ctx open files only through s (containment, the .gz choice); call once the
 * context exists. */
void http_static_attach(http_static *s, struct lws_context *ctx);

/* LWS_CALLBACK_ADD_HEADERS for a file of the mounts: the caching headers above. `in` is
 * lws's struct lws_process_html_args. Returns 0, or -1 when the headers do not fit. */
int http_static_add_headers(struct lws *wsi, void *in);

/* Whether path, resolved, lies inside the folder; the resolved path goes to out
 * (PATH_MAX bytes). 0 inside, -1 outside or not there. */
int http_static_resolve(const http_static *s, const char *path, char *out);

#endif
