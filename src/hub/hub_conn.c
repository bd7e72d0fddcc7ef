/*
 * Connection lifecycle on libwebsockets: upgrade, message reassembly, sending, limits,
 * close. Invariants:
 *   - one lws_write() per WRITEABLE callback; a message longer than tx_packet goes
 *     out as several fragments over several callbacks, so nothing is copied into lws;
 *     small whole messages queued together go out as consecutive frames in one write
 *     (copied into a stack buffer), so a batch of ops costs one send() a connection;
 *   - a message larger than max_message closes the connection with 1009, a binary
 *     frame with 1003; neither is kept or parsed (its bytes are read and dropped up
 *     to its end, or up to 16 times max_message);
 *   - a connection whose output queue passes max_outq is closed with 1013 (it
 *     reconnects and catches up; room_peer.h keeps the bound for every message);
 *     reading pauses while its queue is half full, its op budget is spent, or an nf/nt
 *     or bulk answer is being built, so a client cannot grow the queue by asking;
 *   - every close the hub decides (hub_conn_close) is handed to lws once, from a
 *     WRITEABLE callback; lws sends the close frame and closes the socket when the
 *     client has answered with its own (or after its 5 s close timeouts). Until then
 *     the connection reads on and drops what arrives.
 */
#include "hub/hub_internal.h"

#include "http/http_static.h"
#include "hub/hub_edge.h"
#include "hub/hub_meeting.h"
#include "util/klog.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>


/* Seconds a close decided by the hub may wait to be written before lws cuts the
 * socket (the time lws itself allows a close frame to be sent). */
#define HUB_CLOSE_SEND_SECS 5

/* Per lws connection: a WebSocket connection, or the HTTP request being answered. */
struct pss {
    hub_conn *c;
    hub_req *req;
};

int64_t hub_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hub_conn_unref(hub_conn *c)
{
    if (--c->refs > 0)
        return;
    room_outq_clear(&c->peer.outq);
    for (size_t i = 0; i < c->n_reads; i++)
        free(c->reads[i]);
    free(c->reads);
    hub_meeting_forget(c);
    free(c->rx);
    if (c->src != c->id)
        free(c->src);
    free(c);
}

/* Pauses or resumes reading for one reason; a closing connection is never paused (see
 * hub_conn_close). */
static void set_rx(hub_conn *c, int flag, int on)
{
    int was = c->rx_paused;

    if (on && c->close_code)
        return;
    if (on)
        c->rx_paused |= flag;
    else
        c->rx_paused &= ~flag;
    if (!was != !c->rx_paused && c->wsi)
        lws_rx_flow_control(c->wsi, !c->rx_paused);
}

/* Every close the hub decides goes through here and leaves from conn_writeable(). */
void hub_conn_close(hub_conn *c, int code, const char *reason)
{
    if (!c->wsi || c->close_code)
        return;
    hub_metrics_close(c->hub, code);
    c->close_code = code;
    c->close_reason = reason;
    c->peer.dead = 1;
    /* Read on while closing (what arrives is dropped): the client's close reply may wait
     * behind ops a paused connection has not read, and a socket closed with unread data
     * is reset, which can destroy our close frame before the client has read it. */
    set_rx(c, RX_RATE | RX_BACKPRESSURE | RX_BUSY, 0);
    /* A peer that never lets us write is cut off after lws's own close-send time. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, HUB_CLOSE_SEND_SECS);
    lws_callback_on_writable(c->wsi);
}

void hub_conn_note_read(hub_conn *c, const char *session)
{
    char **grown, *id;

    for (size_t i = 0; i < c->n_reads; i++)
        if (strcmp(c->reads[i], session) == 0)
            return;
    grown = realloc(c->reads, (c->n_reads + 1) * sizeof *grown);
    if (grown)
        c->reads = grown;
    id = grown ? strdup(session) : NULL;
    if (id)
        c->reads[c->n_reads++] = id;
    hub_audit(c->hub, c->principal.id, "session.read.open", session);
}

static int confirm_upgrade(hub *h, struct lws *wsi)
{
    const char *code = NULL, *why = NULL;
    hub_login *l;
    char uri[16];
    int status;

    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
        return -1;
    if (h->stopping)
        return -1;
    if ((status = hub_http_guard(h, wsi, "GET", 1, &code, &why)) != 0)
        return hub_http_refuse_upgrade(wsi, (unsigned int)status, code, why);
    if (!(l = hub_identity_from_upgrade(h, wsi)))
        return hub_http_refuse_upgrade(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized",
                                       "log in first");
    if ((status = hub_edge_upgrade(h, wsi, l->who.id, &code, &why)) != 0)
        return hub_http_refuse_upgrade(wsi, (unsigned int)status, code, why);
    return 0;
}

static int random_id(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

/* A connection's life at debug level: its server-given id, the principal's role and
 * the close code the server chose (0: the client closed). No names, no addresses. */
static void conn_log(const hub_conn *c, const char *what)
{
    klog_line l;

    if (!klog_enabled(KLOG_DEBUG))
        return;
    klog_begin(&l, KLOG_DEBUG, "websocket", what);
    klog_str(&l, "conn", c->id);
    klog_str(&l, "role", auth_role_name(c->principal.role));
    klog_int(&l, "close", c->close_code);
    klog_end(&l);
}

static int conn_open(hub *h, struct lws *wsi, struct pss *pss)
{
    hub_conn *c = calloc(1, sizeof *c);
    hub_login *l = hub_identity_from_upgrade(h, wsi);
    proto_buf b;

    if (!c)
        return -1;
    if (l) {
        c->principal = l->who;
        snprintf(c->bound_session, sizeof c->bound_session, "%s", l->session);
        snprintf(c->bound_case, sizeof c->bound_case, "%s", l->case_id);
        snprintf(c->login_hash, sizeof c->login_hash, "%s", l->hash);
    }
    if (!l || random_id(c->id) != 0) {
        free(c);
        return -1;
    }
    c->src = c->id;
    c->hub = h;
    c->wsi = wsi;
    h->metrics.websockets_opened++;
    c->refs = 1;
    c->tokens = h->cfg.op_burst;
    c->tokens_at = hub_now_ms();
    room_peer_init(&c->peer, c->principal.id, c->src);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->n_conns++;
    pss->c = c;
    conn_log(c, "websocket opened");
    /* ShareDB's agent greets first with the legacy init; the client answers with hs. */
    proto_buf_init(&b, LWS_PRE);
    proto_emit_init(&b, 0, c->id);
    room_peer_reply(h->rooms, &c->peer, &b);
    if (h->stopping)
        hub_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
    return 0;
}

static void conn_closed(hub *h, struct pss *pss)
{
    hub_conn *c = pss->c;

    if (!c)
        return;
    conn_log(c, "websocket closed");
    pss->c = NULL;
    c->wsi = NULL;
    c->peer.dead = 1;
    room_peer_detach(h->rooms, &c->peer);
    for (size_t i = 0; i < c->n_reads; i++)
        hub_audit(h, c->principal.id, "session.read.close", c->reads[i]);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->n_conns--;
    hub_conn_unref(c);
}


/* Refills the op budget, then spends `cost`; reading pauses until the next op is
 * affordable, and the lws timer resumes it. */
void hub_conn_spend(hub_conn *c, double cost)
{
    hub *h = c->hub;
    int64_t now = hub_now_ms();
    double wait_ms;

    c->tokens += (double)(now - c->tokens_at) * h->cfg.op_rate / 1000.0;
    if (c->tokens > h->cfg.op_burst)
        c->tokens = h->cfg.op_burst;
    c->tokens_at = now;
    c->tokens -= cost;
    if (c->tokens >= 1) {
        set_rx(c, RX_RATE, 0);
        return;
    }
    wait_ms = (1 - c->tokens) * 1000.0 / h->cfg.op_rate;
    if (!(c->rx_paused & RX_RATE))
        hub_metrics_limit(h, HUB_LIMIT_OP_RATE);
    set_rx(c, RX_RATE, 1);
    lws_set_timer_usecs(c->wsi, (lws_usec_t)(wait_ms * 1000) + 1000);
}

void hub_conn_busy(hub_conn *c, int delta)
{
    c->busy = (unsigned)((int)c->busy + delta);
    set_rx(c, RX_BUSY, c->busy > 0);
}

static void rx_release(hub_conn *c)
{
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
}

/* Closes with code. A refused message is read to its end first, so that the peer's
 * kernel gets no reset while it still sends, and it reads the close frame. The close
 * leaves from the next writeable like every other (see conn_writeable): returned from
 * here, while lws still held bytes of an earlier message, lws would send those and
 * then close without a close frame. */
static int refuse(hub *h, hub_conn *c, struct lws *wsi, int code, size_t len)
{
    if (!c->rx_refuse && code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
        hub_metrics_limit(h, HUB_LIMIT_MAX_MESSAGE);
    c->rx_refuse = code;
    c->rx_dropped += len;
    rx_release(c);
    if (!lws_is_final_fragment(wsi) && c->rx_dropped <= 16 * h->cfg.max_message)
        return 0;
    hub_conn_close(c, code, code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE ?
                   "message too large" : "binary frames are not accepted");
    return 0;
}

/* Appends a callback's bytes to the message being reassembled. The buffer is sized for
 * the rest of the current frame at once (lws tells how much of it is still to come),
 * and doubles for further frames, never past max_message. */
static int rx_append(hub *h, hub_conn *c, struct lws *wsi, const void *in, size_t len)
{
    size_t need = c->rx_len + len;

    if (need > c->rx_cap) {
        size_t cap = need + lws_remaining_packet_payload(wsi);
        char *grown;
        if (cap < 2 * c->rx_cap)
            cap = 2 * c->rx_cap;
        if (cap > h->cfg.max_message)
            cap = h->cfg.max_message;
        grown = realloc(c->rx, cap);
        if (!grown)
            return -1;
        c->rx = grown;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len = need;
    return 0;
}

/* A message that arrives in one callback is parsed where lws holds it; one that spans
 * callbacks (longer than --rx-buffer, or fragmented) is reassembled, and the buffer is
 * freed once it is dispatched, so an idle connection holds no receive memory. */
static int conn_receive(hub *h, hub_conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->close_code) {        /* closing: read on, drop what arrives */
        rx_release(c);
        return 0;
    }
    if (c->rx_refuse)
        return refuse(h, c, wsi, c->rx_refuse, len);
    if (lws_frame_is_binary(wsi))
        return refuse(h, c, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, len);
    if (c->rx_len + len > h->cfg.max_message)
        return refuse(h, c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, c->rx_len + len);
    if (lws_is_final_fragment(wsi) && c->rx_len == 0) {
        hub_dispatch(h, c, in, len);
    } else {
        if (rx_append(h, c, wsi, in, len) != 0)
            return -1;
        if (!lws_is_final_fragment(wsi))
            return 0;
        hub_dispatch(h, c, c->rx, c->rx_len);
        rx_release(c);
    }
    if (c->peer.outq.bytes > h->cfg.max_outq / 2)
        set_rx(c, RX_BACKPRESSURE, 1);
    return 0;
}

/* Writes (part of) the oldest queued message: one lws_write per callback. */
/* Bytes of small queued messages that write_frames() sends at once. */
#define FRAMES_MAX 8192

/* Two or more whole messages at the head of the queue as unfragmented WebSocket text
 * frames (server frames are not masked) in one lws_write(): 1 when written, 0 when
 * fewer than two fit (the caller writes the head alone), -1 on a write error. */
static int write_frames(hub *h, hub_conn *c, struct lws *wsi)
{
    unsigned char buf[LWS_PRE + FRAMES_MAX], *o = buf + LWS_PRE;
    room_outq *q = &c->peer.outq;
    size_t limit = h->cfg.tx_packet < FRAMES_MAX ? h->cfg.tx_packet : FRAMES_MAX;
    size_t total = 0, n = 0;

    if (q->sent)
        return 0;
    for (; n < q->count; n++) {
        size_t len = room_outq_at(q, n)->len;
        size_t frame = (len < 126 ? 2 : 4) + len;
        if (len > 0xffff || total + frame > limit)
            break;
        total += frame;
    }
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++) {
        room_msg *m = room_outq_at(q, i);
        *o++ = 0x81;    /* FIN, text */
        if (m->len < 126) {
            *o++ = (unsigned char)m->len;
        } else {
            *o++ = 126;
            *o++ = (unsigned char)(m->len >> 8);
            *o++ = (unsigned char)m->len;
        }
        memcpy(o, room_msg_text(m), m->len);
        o += m->len;
    }
    /* RAW: the bytes go out as they are (lws keeps what the socket did not take). */
    if (lws_write(wsi, buf + LWS_PRE, total, LWS_WRITE_RAW) < (int)total)
        return -1;
    while (n--)
        room_outq_pop(q);
    return 1;
}

/* Writes what the queue holds, as far as one write goes (several small messages at once,
 * or the next fragment of the head), and asks for a writeable when more is left. From
 * WRITEABLE, or from hub_conn_flush() when lws holds nothing unsent. -1 on a write
 * error. */
static int conn_write(hub *h, hub_conn *c, struct lws *wsi)
{
    room_outq *q = &c->peer.outq;
    room_msg *m;

    m = NULL;
    switch (write_frames(h, c, wsi)) {
    case -1:
        return -1;
    case 1:
        if (room_outq_head(q))
            lws_callback_on_writable(wsi);
        break;
    default:
        m = room_outq_head(q);
    }
    if (m) {
        size_t left = m->len - q->sent;
        size_t n = left < h->cfg.tx_packet ? left : h->cfg.tx_packet;
        unsigned char *p = (unsigned char *)room_msg_text(m) + q->sent;
        int first = q->sent == 0, last = n == left;
        unsigned char saved[LWS_PRE];
        int rc;

        /* A later fragment's header goes over bytes of the shared message that were
         * already sent; keep them for the other connections sending it. */
        if (!first)
            memcpy(saved, p - LWS_PRE, LWS_PRE);
        rc = lws_write(wsi, p, n, lws_write_ws_flags(LWS_WRITE_TEXT, first, last));
        if (!first)
            memcpy(p - LWS_PRE, saved, LWS_PRE);
        if (rc < 0)
            return -1;
        q->sent += n;
        if (q->sent == m->len)
            room_outq_pop(q);
        if (room_outq_head(q))
            lws_callback_on_writable(wsi);
    }
    if (q->bytes <= h->cfg.max_outq / 4) {
        if (c->peer.paused)
            room_peer_drained(h->rooms, &c->peer);
        if (c->rx_paused & RX_BACKPRESSURE)
            set_rx(c, RX_BACKPRESSURE, 0);
    }
    return 0;
}

static int conn_writeable(hub *h, hub_conn *c, struct lws *wsi)
{
    /* The close is handed to lws once, here, where lws holds no unsent bytes (it only
     * calls WRITEABLE then). lws sends the close frame, waits up to 5 s for the
     * client's and only then closes the socket. But it leaves POLLOUT armed after
     * sending the frame, so one more WRITEABLE comes while it waits. Returning -1 there
     * too made lws close the socket at once (shutdown(SHUT_WR) then close(): the
     * half-closed drain in lws 4.1.6's close path never runs), while a client under
     * load had not read our frame yet and was still sending ops. Those ops hit a
     * closed socket, the server's kernel answered with a reset (or sent one at once,
     * dropping our unsent frame, if ops were unread), and node's `ws` got EPIPE on its
     * next write and destroyed the socket without reading the close frame waiting in
     * its receive queue: 1006 instead of our code. So a later WRITEABLE does nothing.
     *
     * The close starts here (a synchronous lws close, which with a close reason set
     * only queues the close frame), not by returning -1: Debian's lws 4.1.6 is a
     * debug build, and on the libuv loop its service path closes a connection that a
     * callback asked to close a second time, "to confirm close has no problem being
     * called again" (lws_service_fd_tsi); for a connection whose close frame is still
     * queued the second call kills the socket without it (clients saw 1006). */
    if (c->close_code) {
        if (c->close_sent)
            return 0;
        c->close_sent = 1;
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
        return 0;
    }
    return conn_write(h, c, wsi);
}

/* A connection's queue gained messages. They go out at the end of the loop pass
 * (hub_conn_flush), all of the pass's at once, written straight to the socket: asking lws
 * for a WRITEABLE instead costs two epoll_ctl calls (POLLOUT on, and off again after the
 * write) and one more loop pass per message. lws 4.1 takes a write outside WRITEABLE:
 * what the socket does not take it keeps and sends before the next WRITEABLE. A closing
 * connection, or one whose bytes lws still holds, waits for WRITEABLE as before. */
void hub_conn_wake(hub *h, hub_conn *c)
{
    if (!c->wsi)
        return;
    if (c->close_code || lws_partial_buffered(c->wsi)) {
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (c->flush_queued)
        return;
    c->flush_queued = 1;
    c->refs++;
    c->flush_next = h->flush_list;
    h->flush_list = c;
}

void hub_conn_flush(hub *h)
{
    while (h->flush_list) {
        hub_conn *c = h->flush_list;

        h->flush_list = c->flush_next;
        c->flush_queued = 0;
        if (c->wsi && !c->close_code) {
            if (lws_partial_buffered(c->wsi))
                lws_callback_on_writable(c->wsi);
            else if (conn_write(h, c, c->wsi) < 0)
                /* the socket failed: lws closes it on its next pass */
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        } else if (c->wsi) {
            lws_callback_on_writable(c->wsi);
        }
        hub_conn_unref(c);
    }
}

int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    hub *h = ctx ? lws_context_user(ctx) : NULL;
    struct pss *pss = user;

    if (!h)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:    /* user: the accept's arguments */
        return hub_edge_accept(h, user);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        hub_edge_bind(h, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        hub_edge_destroyed(h, wsi);
        return 0;
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
        hub_edge_request(h, wsi);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(h, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return conn_open(h, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return pss && pss->c ? conn_receive(h, pss->c, wsi, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss && pss->c ? conn_writeable(h, pss->c, wsi) : 0;
    case LWS_CALLBACK_TIMER:
        if (pss && pss->c && pss->c->wsi && !pss->c->close_code)
            hub_conn_spend(pss->c, 0);
        else if (pss && pss->req)
            return hub_http_callback(h, wsi, reason, &pss->req, in, len);
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (pss)
            conn_closed(h, pss);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        hub_on_wake(h);
        return 0;
    case LWS_CALLBACK_ADD_HEADERS:      /* a file of --web (http_static.h) */
        return http_static_add_headers(wsi, in);
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        return hub_http_callback(h, wsi, reason, pss ? &pss->req : NULL, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
