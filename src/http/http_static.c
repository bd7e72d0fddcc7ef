/*
 * The --web mounts (see http_static.h). The origin is resolved to an absolute path once
 * at start, so a later change of directory cannot move what is served; every open is
 * checked against it after resolving symbolic links. The .gz copy is chosen in the same
 * open, the way lws's vfs expects: lws passes LWS_FOP_FLAG_COMPR_ACCEPTABLE_GZIP when the
 * request accepts gzip, and the open sets LWS_FOP_FLAG_COMPR_IS_GZIP when what it opened
 * is gzip, which makes lws send Content-Encoding: gzip (and the length and ETag of the
 * compressed file).
 */
#include "http/http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ASSETS "/assets"
#define IMMUTABLE "public, max-age=31536000, immutable"
#define REVALIDATE "no-cache"

static const struct lws_protocol_vhost_options mime_mjs = {
    NULL, NULL, ".mjs", "text/javascript"
};
static const struct lws_protocol_vhost_options mime_map = {
    &mime_mjs, NULL, ".map", "application/json"
};
static const struct lws_protocol_vhost_options mime_wasm = {
    &mime_map, NULL, ".wasm", "application/wasm"
};

int http_static_resolve(const http_static *s, const char *path, char *out)
{
    size_t n = strlen(s->origin);

    if (!realpath(path, out))
        return -1;
    if (strncmp(out, s->origin, n) != 0 || (out[n] != '/' && out[n] != '\0'))
        return -1;
    return 0;
}

/* lws's open, for a path inside the folder only. The final component is opened with
 * O_NOFOLLOW, so a link swapped in after the check is refused too. */
static lws_fop_fd_t contained_open(const struct lws_plat_file_ops *fops, const char *filename,
                                   const char *vpath, lws_fop_flags_t *flags)
{
    const http_static *s = lws_container_of(fops, http_static, fops);
    char resolved[PATH_MAX];

    if (http_static_resolve(s, filename, resolved) != 0)
        return NULL;
    *flags |= O_NOFOLLOW;
    return _lws_plat_file_open(fops, resolved, vpath, flags);
}

/* The precompressed copy when the client takes gzip and the copy exists, else the file. */
static lws_fop_fd_t open_file(const struct lws_plat_file_ops *fops, const char *filename,
                              const char *vpath, lws_fop_flags_t *flags)
{
    char gz[PATH_MAX];

    if ((*flags & LWS_FOP_FLAG_COMPR_ACCEPTABLE_GZIP) &&
        snprintf(gz, sizeof gz, "%s.gz", filename) < (int)sizeof gz) {
        lws_fop_flags_t f = *flags | LWS_FOP_FLAG_COMPR_IS_GZIP;
        lws_fop_fd_t fd = contained_open(fops, gz, vpath, &f);
        if (fd) {
            *flags = f;
            return fd;
        }
    }
    return contained_open(fops, filename, vpath, flags);
}

static void mount(struct lws_http_mount *m, const char *point, const char *origin,
                  const char *protocol)
{
    memset(m, 0, sizeof *m);
    m->mountpoint = point;
    m->mountpoint_len = (unsigned char)strlen(point);
    m->origin = origin;
    m->def = "index.html";
    m->origin_protocol = LWSMPRO_FILE;
    m->extra_mimetypes = &mime_wasm;
    m->protocol = protocol;     /* its callback adds the caching headers */
}

int http_static_init(http_static *s, const char *dir, const char *protocol, char *err,
                     size_t errlen)
{
    struct stat st;

    memset(s, 0, sizeof *s);
    if (!realpath(dir, s->origin) || stat(s->origin, &st) != 0) {
        snprintf(err, errlen, "--web %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--web %s: not a folder", dir);
        return -1;
    }
    if (snprintf(s->assets_origin, sizeof s->assets_origin, "%s%s", s->origin, ASSETS) >=
        (int)sizeof s->assets_origin) {
        snprintf(err, errlen, "--web %s: path too long", dir);
        return -1;
    }
    mount(&s->assets, ASSETS, s->assets_origin, protocol);
    mount(&s->mount, "/", s->origin, protocol);
    s->assets.mount_next = &s->mount;
    s->fops.LWS_FOP_OPEN = open_file;
    s->fops.LWS_FOP_CLOSE = _lws_plat_file_close;
    s->fops.LWS_FOP_SEEK_CUR = _lws_plat_file_seek_cur;
    s->fops.LWS_FOP_READ = _lws_plat_file_read;
    s->fops.LWS_FOP_WRITE = _lws_plat_file_write;
    return 0;
}

void http_static_attach(http_static *s, struct lws_context *ctx)
{
    lws_set_fops(ctx, &s->fops);
}

static int add(struct lws *wsi, const char *name, const char *value, unsigned char **p,
               unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p,
                                       end);
}

int http_static_add_headers(struct lws *wsi, void *in)
{
    struct lws_process_html_args *args = in;
    unsigned char *p = (unsigned char *)args->p, *end = p + args->max_len;
    char uri[512];
    int hashed;

    /* A path too long to copy is no asset of ours: it revalidates. */
    hashed = (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0 ||
              lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_HEAD_URI) > 0) &&
             strncmp(uri, ASSETS "/", sizeof ASSETS) == 0;
    if (add(wsi, "cache-control:", hashed ? IMMUTABLE : REVALIDATE, &p, end) ||
        add(wsi, "vary:", "Accept-Encoding", &p, end))
        return -1;
    args->p = (char *)p;
    return 0;
}
