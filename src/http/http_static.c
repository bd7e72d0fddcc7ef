/*
 * The --web mount (see http_static.h). The origin is resolved to an absolute path once
 * at start, so a later change of directory cannot move what is served; every open is
 * checked against it after resolving symbolic links.
 */
#include "http/http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int http_static_init(http_static *s, const char *dir, char *err, size_t errlen)
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
    s->mount.mountpoint = "/";
    s->mount.mountpoint_len = 1;
    s->mount.origin = s->origin;
    s->mount.def = "index.html";
    s->mount.origin_protocol = LWSMPRO_FILE;
    s->mount.extra_mimetypes = &mime_wasm;
    s->fops.LWS_FOP_OPEN = contained_open;
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
