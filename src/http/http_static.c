/*
 * The --web mount (see http_static.h). The origin is resolved to an absolute path once
 * at start, so a later change of directory cannot move what is served.
 */
#include "http/http_static.h"

#include <errno.h>
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
    return 0;
}
