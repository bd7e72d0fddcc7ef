/*
 * A growable byte buffer for building outgoing messages as JSON text: a util/strbuf
 * with headroom.
 *
 * The buffer reserves `headroom` bytes in front of the text so that a transport can
 * write its frame header there without copying the message (the hub passes LWS_PRE).
 * Appends never fail visibly: the first allocation failure latches sb.failed, later
 * appends do nothing, and the caller checks once at the end with proto_buf_ok().
 *
 * Ownership: the buffer owns its memory; proto_buf_release() frees it,
 * proto_buf_take() hands it to the caller (who frees it with free()).
 */
#ifndef KONSIL_PROTO_BUF_H
#define KONSIL_PROTO_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/strbuf.h"

typedef struct proto_buf {
    strbuf sb;          /* headroom bytes, the text, one NUL; nothing before the first
                           append */
    size_t headroom;
} proto_buf;

void proto_buf_init(proto_buf *b, size_t headroom);
void proto_buf_release(proto_buf *b);
int proto_buf_ok(const proto_buf *b);

/* The text (NUL-terminated), or "" when nothing was appended. Borrowed. */
const char *proto_buf_text(const proto_buf *b);

/* Hands the text to the caller in one allocation trimmed to fit: *mem gets `prefix`
 * bytes for the caller's own use (uninitialised; a queued message keeps its header
 * there), then headroom + text + NUL. Returns the text length, or -1 if an append
 * failed or memory ran out (then nothing is handed over and the buffer is released).
 * The buffer is empty afterwards. */
long proto_buf_take(proto_buf *b, size_t prefix, char **mem);

/* Reserves the headroom before the first append. */
void proto_buf_start(proto_buf *b);

static inline void proto_buf_raw(proto_buf *b, const char *s, size_t n)
{
    if (!b->sb.data)
        proto_buf_start(b);
    strbuf_put(&b->sb, s, n);
}

void proto_buf_lit(proto_buf *b, const char *s);
/* s as a JSON string literal (quoted, escaped); s is UTF-8. */
void proto_buf_str(proto_buf *b, const char *s);
void proto_buf_i64(proto_buf *b, int64_t v);
/* Any cJSON value as compact JSON text. */
void proto_buf_json(proto_buf *b, const cJSON *v);

/* Makes s valid UTF-8 in place: a sequence cut off at the end (a message truncated to
 * its buffer) is dropped, any other invalid byte becomes '?'. WebSocket text frames
 * must be valid UTF-8, or the client closes the connection. */
void proto_utf8_repair(char *s);

#endif
