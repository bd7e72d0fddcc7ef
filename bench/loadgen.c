/*
 * Load generator for ShareDB-protocol servers: `konsil serve` and the npm sharedb peer
 * (bench/sharedb-server.js). bench/run-bench.sh drives it against both.
 *
 *   loadgen --url ws://127.0.0.1:PORT/ws [--rooms N] [--clients-per-room N]
 *           [--observers-per-room N] [--rate OPS_PER_S] [--duration S] [--warmup S]
 *           [--idle] [--server-pid PID] [--cookie VALUE] [--header "Name: value"]...
 *           [--docs FILE]
 *
 * One libwebsockets service thread drives every connection, on libuv's epoll loop (the
 * libwebsockets-evlib-uv plugin): lws's own poll() loop scans every socket on each wakeup,
 * which with thousands of connections would make the load generator the bottleneck.
 *
 * Each client sends the handshake (hs) and subscribes (s) to its room's document; the
 * first client of a room creates the document when it does not exist (--docs names
 * existing documents, such as Konsil sessions, instead of generated ids). Editors then
 * insert tokens at the front of the document's "log" list with one op in flight each;
 * tokens typed while an op is in flight are composed into the next op, as the stock
 * ShareDB client does. A token carries its author, its number and the time it was typed
 * (CLOCK_MONOTONIC; all clients live in this process), so every other client of the room
 * measures the end-to-end latency when the op reaches it. --rate 0 is saturation: each
 * editor sends its next op as soon as the previous one is acknowledged. --idle makes no
 * edits and holds the connections open, for measuring the server's memory per connection.
 *
 * When the time is up the editors stop typing, the ops still queued drain, and one client
 * per room fetches the snapshot: every acknowledged token must be in it exactly once, and
 * every client of the room must have seen every version. The summary is one JSON object on
 * stdout, progress and errors go to stderr; the exit status is 0 only if the run converged.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#define COLLECTION "cases"
#define JSON0_URI "http://sharejs.org/types/JSONv0"
#define MAX_HEADERS 8
#define MAX_PENDING_TOKENS 1024     /* typed but unsent tokens per editor; more are skipped */
#define MAX_TOKENS_PER_OP 256       /* composed into one op at most */
#define MAX_MESSAGE (512u << 20)    /* largest incoming message (a snapshot at the end) */
#define TICK_US 1000                /* period of the phase clock (a timerfd) */
#define HIST_SUB_BITS 6
#define HIST_BUCKETS (64 << HIST_SUB_BITS)

/* Latencies in microseconds, log-linear buckets (relative error under 1/64). */
typedef struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t samples;
    uint64_t max;
} histogram;

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the message */
} outmsg;

enum client_state { C_NEW, C_CONNECTING, C_OPEN, C_SUBSCRIBED, C_CLOSED };

typedef struct room room;

typedef struct client {
    int index; /* written into its tokens */
    room *room;
    bool editor;
    bool ready; /* subscribed and the document exists */
    bool failed; /* an op of it was refused: it stops editing */
    enum client_state state;
    struct lws *wsi;
    char src[128]; /* connection id from the hs reply */
    int64_t version; /* known document version */
    int64_t start_version; /* version when editing began */
    uint64_t seq; /* last op seq used */

    /* Tokens are numbered from 1: 1..acked are acknowledged, acked+1..sent are in the
     * op in flight, sent+1..typed wait for the next op. */
    uint32_t tokens_typed, tokens_sent, tokens_acked;
    int64_t pending_typed_at[MAX_PENDING_TOKENS]; /* by token number % MAX_PENDING_TOKENS */
    uint64_t inflight_seq; /* 0: none */
    bool inflight_create;
    int64_t inflight_sent_us;
    int64_t next_type_us;

    uint64_t ops_received; /* other clients' ops applied since editing began */
    uint64_t ops_acked; /* own ops acknowledged since editing began */

    char *rx;
    size_t rx_len, rx_cap;
    outmsg *out_head, *out_tail;
} client;

struct room {
    char doc[96];
    client *clients; /* clients[0] creates the document and fetches the snapshot */
    int n_clients;
    bool fetch_sent, fetched;
};

enum phase { P_CONNECT, P_RUN, P_DRAIN, P_FETCH, P_DONE };

typedef struct options {
    char url[256];
    char host[128];
    char host_header[160];
    char path[128];
    int port;
    int rooms, editors_per_room, observers_per_room;
    double rate, duration_s, warmup_s, drain_s, connect_s;
    bool idle;
    int server_pid;
    int connect_concurrency;
    char doc_prefix[64];
    const char *docs_file;
    const char *headers[MAX_HEADERS];
    int n_headers;
    char cookie_header[1024];
} options;

/* Everything that went wrong, by kind; any of them fails the run. */
typedef struct error_counts {
    uint64_t connect_failed, closed, error_replies, rejected_ops, version_gaps,
        ack_version_mismatches, unexpected_acks, bad_messages;
} error_counts;

typedef struct check_counts {
    int rooms_checked;
    uint64_t tokens_acked, tokens_missing, tokens_duplicated, tokens_unacked_present,
        tokens_unknown, clients_behind, clients_miscounted;
    size_t snapshot_bytes_max;
    int64_t version_max;
} check_counts;

typedef struct loadgen {
    options opt;
    struct lws_context *ctx;
    int clock_fd;
    client *clients;
    int n_clients;
    room *rooms;
    enum phase phase;
    bool aborted;
    int next_to_connect, connecting, ready;
    int64_t t_begin, t_measure, t_end, t_deadline;
    double interval_us;
    uint64_t rng;

    histogram latency, ack_latency;
    uint64_t window_acked_ops, window_acked_tokens, window_typed_tokens, skipped_tokens;
    double cpu_at_measure, cpu_at_end;
    double server_cpu_at_measure, server_cpu_at_end;
    long server_rss_before, server_rss_loaded;
    error_counts err;
    check_counts check;
    int errors_logged;
} loadgen;

static loadgen lg;

/* ---------------------------------------------------------------- clocks and counters */

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double own_cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of every thread of the process, from /proc/PID/stat; -1 if unreadable. */
static double process_cpu_seconds(int pid)
{
    char path[64], buf[1024];
    unsigned long long utime, stime;
    FILE *f;
    size_t n;
    const char *p;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of the process in KiB; -1 if unreadable. */
static long process_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static uint64_t next_random(void)
{
    lg.rng ^= lg.rng << 13;
    lg.rng ^= lg.rng >> 7;
    lg.rng ^= lg.rng << 17;
    return lg.rng;
}

static void report_error(const char *fmt, ...)
{
    va_list ap;

    if (lg.errors_logged++ >= 20)
        return;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static size_t histogram_index(uint64_t v)
{
    int shift;

    if (v < (1u << HIST_SUB_BITS))
        return (size_t)v;
    shift = 63 - __builtin_clzll(v) - HIST_SUB_BITS;
    return ((size_t)(shift + 1) << HIST_SUB_BITS) +
           (size_t)((v >> shift) & ((1u << HIST_SUB_BITS) - 1));
}

/* The largest value that falls in bucket i. */
static uint64_t histogram_bucket_top(size_t i)
{
    size_t shift;

    if (i < (1u << HIST_SUB_BITS))
        return i;
    shift = (i >> HIST_SUB_BITS) - 1;
    return ((((uint64_t)1 << HIST_SUB_BITS) + (i & ((1u << HIST_SUB_BITS) - 1)) + 1) << shift) - 1;
}

static void histogram_add(histogram *h, int64_t v)
{
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    size_t i = histogram_index(u);

    h->counts[i < HIST_BUCKETS ? i : HIST_BUCKETS - 1]++;
    h->samples++;
    if (u > h->max)
        h->max = u;
}

static uint64_t histogram_percentile(const histogram *h, double p)
{
    uint64_t rank = (uint64_t)(p * (double)h->samples), seen = 0;

    if (h->samples == 0)
        return 0;
    if (rank >= h->samples)
        rank = h->samples - 1;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > rank) {
            uint64_t top = histogram_bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

/* ---------------------------------------------------------------- sending */

static void send_text(client *c, const char *text, size_t len)
{
    outmsg *m;

    if (c->state == C_CLOSED || !c->wsi)
        return;
    m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(3);
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    lws_callback_on_writable(c->wsi);
}

static void send_printf(client *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        fprintf(stderr, "loadgen: message too long\n");
        exit(3);
    }
    send_text(c, buf, (size_t)n);
}

static void free_outq(client *c)
{
    while (c->out_head) {
        outmsg *next = c->out_head->next;
        free(c->out_head);
        c->out_head = next;
    }
    c->out_tail = NULL;
}

static void send_create(client *c)
{
    c->inflight_seq = ++c->seq;
    c->inflight_create = true;
    send_printf(c,
                "{\"a\":\"op\",\"c\":\"" COLLECTION "\",\"d\":\"%s\",\"v\":%" PRId64
                ",\"seq\":%" PRIu64 ",\"create\":{\"type\":\"" JSON0_URI "\","
                "\"data\":{\"title\":\"load test\",\"log\":[]}}}",
                c->room->doc, c->version, c->seq);
}

/* Sends every token typed and not yet sent (up to MAX_TOKENS_PER_OP) as one op. */
static void send_pending_tokens(client *c)
{
    char buf[256 + MAX_TOKENS_PER_OP * 64];
    uint32_t count = c->tokens_typed - c->tokens_sent;
    size_t len;
    int n;

    if (c->inflight_seq || count == 0 || c->failed || c->state != C_SUBSCRIBED)
        return;
    if (count > MAX_TOKENS_PER_OP)
        count = MAX_TOKENS_PER_OP;
    c->inflight_seq = ++c->seq;
    c->inflight_create = false;
    n = snprintf(buf, sizeof buf,
                 "{\"a\":\"op\",\"c\":\"" COLLECTION "\",\"d\":\"%s\",\"v\":%" PRId64
                 ",\"seq\":%" PRIu64 ",\"op\":[",
                 c->room->doc, c->version, c->seq);
    len = (size_t)n;
    for (uint32_t k = 1; k <= count; k++) {
        uint32_t token = c->tokens_sent + k;
        n = snprintf(buf + len, sizeof buf - len,
                     "%s{\"p\":[\"log\",0],\"li\":\"%d.%" PRIu32 ".%" PRId64 "\"}",
                     k > 1 ? "," : "", c->index, token,
                     c->pending_typed_at[token % MAX_PENDING_TOKENS]);
        len += (size_t)n;
    }
    buf[len++] = ']';
    buf[len++] = '}';
    c->tokens_sent += count;
    c->inflight_sent_us = now_us();
    send_text(c, buf, len);
}

static void type_token(client *c, int64_t now)
{
    if (c->tokens_typed - c->tokens_sent >= MAX_PENDING_TOKENS) {
        lg.skipped_tokens++;
        return;
    }
    c->tokens_typed++;
    c->pending_typed_at[c->tokens_typed % MAX_PENDING_TOKENS] = now - lg.t_begin;
    if (now >= lg.t_measure && now < lg.t_end)
        lg.window_typed_tokens++;
}

/* ---------------------------------------------------------------- reading messages */

/*
 * Ops are most of the traffic, so their fields are read by a small scanner instead of a
 * full parse: the top-level keys of one JSON object, each value's text span.
 */
typedef struct span {
    const char *p;
    size_t len;
} span;

typedef struct wire_msg {
    span a, src, v, seq, op, create, del, error, data;
} wire_msg;

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Returns the end of the JSON value starting at p, or NULL if it is cut off or malformed. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    if (p >= end)
        return NULL;
    if (*p != '"' && *p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        return p;
    }
    while (p < end) {
        char ch = *p++;
        if (ch == '"') {
            while (p < end && *p != '"')
                p += *p == '\\' ? 2 : 1;
            if (p >= end)
                return NULL;
            p++;
            if (depth == 0)
                return p;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (--depth == 0)
                return p;
        }
    }
    return NULL;
}

static bool span_is(span s, const char *text)
{
    size_t n = strlen(text);
    return s.p && s.len == n && memcmp(s.p, text, n) == 0;
}

/* A string value without its quotes. */
static span span_unquoted(span s)
{
    if (s.len >= 2 && s.p[0] == '"')
        return (span){s.p + 1, s.len - 2};
    return (span){NULL, 0};
}

static bool span_int(span s, int64_t *out)
{
    int64_t v = 0;

    if (!s.p || s.len == 0 || s.len > 18)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return true;
}

static bool scan_message(const char *p, size_t len, wire_msg *m)
{
    const char *end = p + len;

    memset(m, 0, sizeof *m);
    p = skip_space(p, end);
    if (p >= end || *p++ != '{')
        return false;
    for (;;) {
        const char *key, *value;
        size_t key_len;
        span *slot = NULL;

        p = skip_space(p, end);
        if (p < end && *p == '}')
            return true;
        if (p >= end || *p != '"')
            return false;
        key = p + 1;
        p = skip_value(p, end);
        if (!p)
            return false;
        key_len = (size_t)(p - key - 1);
        p = skip_space(p, end);
        if (p >= end || *p++ != ':')
            return false;
        value = skip_space(p, end);
        p = skip_value(value, end);
        if (!p)
            return false;
#define KEY(name) (key_len == sizeof(name) - 1 && memcmp(key, name, key_len) == 0)
        if (KEY("a"))
            slot = &m->a;
        else if (KEY("src"))
            slot = &m->src;
        else if (KEY("v"))
            slot = &m->v;
        else if (KEY("seq"))
            slot = &m->seq;
        else if (KEY("op"))
            slot = &m->op;
        else if (KEY("create"))
            slot = &m->create;
        else if (KEY("del"))
            slot = &m->del;
        else if (KEY("error"))
            slot = &m->error;
        else if (KEY("data"))
            slot = &m->data;
#undef KEY
        if (slot)
            *slot = (span){value, (size_t)(p - value)};
        p = skip_space(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p < end && *p == '}';
    }
}

/* A token "CLIENT.NUMBER.TYPED_AT_US" at p, ended by `terminator`; advances p past it. */
static bool parse_token(const char **pp, const char *end, char terminator,
                        int64_t *client_index, int64_t *number, int64_t *typed_at)
{
    int64_t *fields[3] = {client_index, number, typed_at};
    const char *p = *pp;

    for (int f = 0; f < 3; f++) {
        int64_t v = 0;
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        if (p == start || p - start > 18 || p >= end || *p != (f < 2 ? '.' : terminator))
            return false;
        *fields[f] = v;
        p++;
    }
    *pp = p;
    return true;
}

static void on_tokens_received(client *c, span op, int64_t now)
{
    static const char marker[] = "\"li\":\"";
    const char *p = op.p, *end = op.p + op.len;

    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), marker, sizeof marker - 1);
        int64_t author, number, typed_at;

        if (!hit)
            break;
        p = hit + sizeof marker - 1;
        if (!parse_token(&p, end, '"', &author, &number, &typed_at)) {
            lg.err.bad_messages++;
            report_error("client %d: unreadable token in an op", c->index);
            return;
        }
        if (lg.t_begin + typed_at >= lg.t_measure && lg.t_begin + typed_at < lg.t_end)
            histogram_add(&lg.latency, now - (lg.t_begin + typed_at));
    }
}

static void on_ack(client *c, int64_t v, int64_t now)
{
    uint32_t tokens = c->tokens_sent - c->tokens_acked;

    if (v != c->version) {
        lg.err.ack_version_mismatches++;
        report_error("client %d: ack at version %" PRId64 " while at %" PRId64, c->index, v,
                     c->version);
    }
    c->version = v + 1;
    c->inflight_seq = 0;
    if (c->inflight_create)
        return;
    c->tokens_acked = c->tokens_sent;
    if (lg.phase >= P_RUN)
        c->ops_acked++;
    histogram_add(&lg.ack_latency, now - c->inflight_sent_us);
    if (now >= lg.t_measure && now < lg.t_end) {
        lg.window_acked_ops++;
        lg.window_acked_tokens += tokens;
    }
    if (lg.phase == P_RUN && lg.opt.rate <= 0)
        type_token(c, now);
    send_pending_tokens(c);
}

static void mark_ready(client *c)
{
    if (!c->ready && c->state == C_SUBSCRIBED && c->version >= 1) {
        c->ready = true;
        lg.ready++;
    }
}

static void on_op_message(client *c, const wire_msg *m, int64_t now)
{
    int64_t v, seq;
    span src = span_unquoted(m->src);

    if (!span_int(m->v, &v)) {
        lg.err.bad_messages++;
        report_error("client %d: op message without a version", c->index);
        return;
    }
    if (src.p && src.len == strlen(c->src) && memcmp(src.p, c->src, src.len) == 0) {
        if (c->inflight_seq && span_int(m->seq, &seq) && (uint64_t)seq == c->inflight_seq &&
            !m->op.p && !m->create.p && !m->del.p) {
            on_ack(c, v, now);
            mark_ready(c);
        } else {
            lg.err.unexpected_acks++;
            report_error("client %d: unexpected message about its own op", c->index);
        }
        return;
    }
    if (c->state != C_SUBSCRIBED || v < c->version)
        return; /* before the snapshot, or already seen */
    if (v > c->version) {
        lg.err.version_gaps++;
        report_error("client %d: op at version %" PRId64 " while at %" PRId64, c->index, v,
                     c->version);
    }
    c->version = v + 1;
    if (lg.phase >= P_RUN)
        c->ops_received++;
    if (m->op.p)
        on_tokens_received(c, m->op, now);
    mark_ready(c);
}

static void verify_snapshot(room *r, const cJSON *data, size_t bytes);

static void on_error_reply(client *c, const wire_msg *m)
{
    cJSON *err = cJSON_ParseWithLength(m->error.p, m->error.len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
    const char *code_text = cJSON_IsString(code) ? code->valuestring : "?";
    int64_t seq;

    lg.err.error_replies++;
    report_error("client %d (%s): error %s on %.*s", c->index, c->room->doc, code_text,
                 (int)m->a.len, m->a.p);
    if (span_is(m->a, "\"op\"") && span_int(m->seq, &seq) && (uint64_t)seq == c->inflight_seq) {
        lg.err.rejected_ops++;
        c->failed = true;
        c->inflight_seq = 0;
    }
    cJSON_Delete(err);
}

static void on_snapshot_reply(client *c, const wire_msg *m, bool subscribe, size_t bytes)
{
    cJSON *data = cJSON_ParseWithLength(m->data.p, m->data.len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "v");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "type");

    if (!cJSON_IsNumber(v)) {
        lg.err.bad_messages++;
        report_error("client %d: snapshot without a version", c->index);
        cJSON_Delete(data);
        return;
    }
    if (subscribe) {
        bool exists = !cJSON_IsNull(type) && cJSON_GetObjectItemCaseSensitive(data, "data");
        c->state = C_SUBSCRIBED;
        c->version = (int64_t)v->valuedouble;
        if (!exists && c == &c->room->clients[0])
            send_create(c);
        mark_ready(c);
    } else if (c == &c->room->clients[0] && !c->room->fetched) {
        verify_snapshot(c->room, data, bytes);
    }
    cJSON_Delete(data);
}

static void on_message(client *c, const char *text, size_t len)
{
    int64_t now = now_us();
    wire_msg m;

    if (!scan_message(text, len, &m) || !m.a.p) {
        lg.err.bad_messages++;
        report_error("client %d: unreadable message: %.*s", c->index, (int)(len > 200 ? 200 : len),
                     text);
        return;
    }
    if (m.error.p) {
        on_error_reply(c, &m);
    } else if (span_is(m.a, "\"op\"")) {
        on_op_message(c, &m, now);
    } else if (span_is(m.a, "\"hs\"")) {
        cJSON *hs = cJSON_ParseWithLength(text, len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(hs, "id");
        if (cJSON_IsString(id) && strlen(id->valuestring) < sizeof c->src) {
            strcpy(c->src, id->valuestring);
        } else {
            lg.err.bad_messages++;
            report_error("client %d: hs reply without an id", c->index);
        }
        cJSON_Delete(hs);
    } else if ((span_is(m.a, "\"s\"") || span_is(m.a, "\"f\"")) && m.data.p) {
        on_snapshot_reply(c, &m, span_is(m.a, "\"s\""), len);
    }
    /* init (the legacy greeting), pp and presence need nothing. */
}

/* ---------------------------------------------------------------- convergence check */

static void verify_snapshot(room *r, const cJSON *data, size_t bytes)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "v");
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(data, "data");
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(doc, "log");
    int64_t version = (int64_t)v->valuedouble;
    uint8_t **seen = calloc((size_t)r->n_clients, sizeof *seen);
    const cJSON *item;

    r->fetched = true;
    lg.check.rooms_checked++;
    if (bytes > lg.check.snapshot_bytes_max)
        lg.check.snapshot_bytes_max = bytes;
    if (version > lg.check.version_max)
        lg.check.version_max = version;
    if (!seen || !cJSON_IsArray(log)) {
        report_error("room %s: snapshot has no log list", r->doc);
        lg.check.tokens_missing++;
        free(seen);
        return;
    }
    for (int i = 0; i < r->n_clients; i++) {
        seen[i] = calloc((size_t)r->clients[i].tokens_sent + 1, 1);
        if (!seen[i]) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(3);
        }
    }
    cJSON_ArrayForEach(item, log) {
        const char *p, *end;
        int64_t author, number, typed_at;
        int first = r->clients[0].index;

        if (!cJSON_IsString(item)) {
            lg.check.tokens_unknown++;
            continue;
        }
        p = item->valuestring;
        end = p + strlen(p) + 1; /* the terminating NUL ends the token */
        if (!parse_token(&p, end, '\0', &author, &number, &typed_at) || author < first ||
            author >= first + r->n_clients || number < 1 ||
            number > r->clients[author - first].tokens_sent) {
            lg.check.tokens_unknown++;
            continue;
        }
        if (seen[author - first][number] < 255)
            seen[author - first][number]++;
    }
    for (int i = 0; i < r->n_clients; i++) {
        client *c = &r->clients[i];
        for (uint32_t k = 1; k <= c->tokens_sent; k++) {
            if (k <= c->tokens_acked) {
                lg.check.tokens_acked++;
                if (seen[i][k] == 0)
                    lg.check.tokens_missing++;
            } else if (seen[i][k]) {
                lg.check.tokens_unacked_present++;
            }
            if (seen[i][k] > 1)
                lg.check.tokens_duplicated++;
        }
        if (c->state != C_SUBSCRIBED || c->version != version) {
            lg.check.clients_behind++;
            report_error("room %s: client %d at version %" PRId64 ", snapshot at %" PRId64,
                         r->doc, c->index, c->version, version);
        } else if ((int64_t)(c->ops_received + c->ops_acked) != version - c->start_version) {
            lg.check.clients_miscounted++;
            report_error("room %s: client %d saw %" PRIu64 " ops, expected %" PRId64, r->doc,
                         c->index, c->ops_received + c->ops_acked, version - c->start_version);
        }
        free(seen[i]);
    }
    free(seen);
}

/* ---------------------------------------------------------------- connections */

static void connect_client(client *c)
{
    struct lws_client_connect_info i;

    memset(&i, 0, sizeof i);
    i.context = lg.ctx;
    i.address = lg.opt.host;
    i.port = lg.opt.port;
    i.path = lg.opt.path;
    i.host = lg.opt.host_header;
    i.origin = lg.opt.host_header;
    i.ietf_version_or_minus_one = -1;
    i.local_protocol_name = "loadgen";
    i.userdata = c;
    i.pwsi = &c->wsi;
    c->state = C_CONNECTING;
    lg.connecting++;
    if (!lws_client_connect_via_info(&i)) {
        lg.connecting--;
        c->state = C_CLOSED;
        c->wsi = NULL;
        lg.err.connect_failed++;
        report_error("client %d: cannot start connecting", c->index);
    }
}

static int append_headers(unsigned char **p, unsigned char *end)
{
    for (int h = 0; h < lg.opt.n_headers; h++) {
        int n = snprintf((char *)*p, (size_t)(end - *p), "%s\x0d\x0a", lg.opt.headers[h]);
        if (n < 0 || n >= end - *p)
            return -1;
        *p += n;
    }
    return 0;
}

static int on_receive(client *c, struct lws *wsi, const char *in, size_t len)
{
    bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;

    if (lws_frame_is_binary(wsi)) {
        lg.err.bad_messages++;
        report_error("client %d: binary frame", c->index);
        return 0;
    }
    if (complete && c->rx_len == 0) {
        on_message(c, in, len);
        return 0;
    }
    if (c->rx_len + len > MAX_MESSAGE) {
        report_error("client %d: message over %u bytes", c->index, MAX_MESSAGE);
        return -1;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        char *grown;
        while (cap < c->rx_len + len)
            cap *= 2;
        grown = realloc(c->rx, cap);
        if (!grown) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(3);
        }
        c->rx = grown;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (complete) {
        on_message(c, c->rx, c->rx_len);
        c->rx_len = 0;
        if (c->rx_cap > (1u << 20)) {
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
    return 0;
}

static void on_closed(client *c, bool was_connecting)
{
    if (was_connecting)
        lg.connecting--;
    c->state = C_CLOSED;
    c->wsi = NULL;
    free_outq(c);
    if (lg.phase != P_DONE) {
        if (was_connecting)
            lg.err.connect_failed++;
        else
            lg.err.closed++;
        report_error("client %d (%s): %s", c->index, c->room->doc,
                     was_connecting ? "connection failed" : "connection closed");
    }
}

static void on_tick(void);

static int callback_loadgen(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
    client *c = user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return append_headers((unsigned char **)in, *(unsigned char **)in + len);

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        lg.connecting--;
        c->state = C_OPEN;
        send_printf(c, "{\"a\":\"hs\",\"id\":null,\"protocol\":1,\"protocolMinor\":2}");
        send_printf(c, "{\"a\":\"s\",\"c\":\"" COLLECTION "\",\"d\":\"%s\"}", c->room->doc);
        return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c && c->state != C_CLOSED) {
            if (in && len)
                report_error("client %d: %.*s", c->index, (int)len, (const char *)in);
            on_closed(c, c->state == C_CONNECTING);
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c && c->state != C_CLOSED)
            on_closed(c, c->state == C_CONNECTING);
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(c, wsi, in, len);

    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        outmsg *m = c->out_head;
        if (!m)
            return 0;
        if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) {
            report_error("client %d: write failed", c->index);
            return -1;
        }
        c->out_head = m->next;
        if (!c->out_head)
            c->out_tail = NULL;
        free(m);
        if (c->out_head)
            lws_callback_on_writable(wsi);
        return 0;
    }

    case LWS_CALLBACK_RAW_RX_FILE: {
        uint64_t expirations;
        if (read(lg.clock_fd, &expirations, sizeof expirations) == sizeof expirations)
            on_tick();
        return 0;
    }

    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"loadgen", callback_loadgen, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---------------------------------------------------------------- phases */

static void start_editing(int64_t now)
{
    lg.t_measure = now + (int64_t)(lg.opt.warmup_s * 1e6);
    lg.t_end = lg.t_measure + (int64_t)(lg.opt.duration_s * 1e6);
    lg.phase = P_RUN;
    fprintf(stderr, "loadgen: %d clients ready in %.1f s; running\n", lg.n_clients,
            (double)(now - lg.t_begin) / 1e6);
    for (int i = 0; i < lg.n_clients; i++) {
        client *c = &lg.clients[i];
        c->start_version = c->version;
        if (!c->editor || lg.opt.idle)
            continue;
        if (lg.opt.rate > 0) {
            c->next_type_us = now + (int64_t)(next_random() % (uint64_t)lg.interval_us);
        } else {
            type_token(c, now);
            send_pending_tokens(c);
        }
    }
}

static void type_due_tokens(int64_t now)
{
    for (int i = 0; i < lg.n_clients; i++) {
        client *c = &lg.clients[i];
        int typed = 0;
        if (!c->editor || c->failed || c->state != C_SUBSCRIBED)
            continue;
        while (c->next_type_us <= now && typed++ < MAX_PENDING_TOKENS) {
            type_token(c, now);
            c->next_type_us += (int64_t)lg.interval_us;
        }
        send_pending_tokens(c);
    }
}

/* True once no op is queued or in flight and every client of a room is at one version. */
static bool drained(void)
{
    for (int r = 0; r < lg.opt.rooms; r++) {
        room *rm = &lg.rooms[r];
        int64_t version = -1;
        for (int i = 0; i < rm->n_clients; i++) {
            client *c = &rm->clients[i];
            if (c->state != C_SUBSCRIBED)
                continue;
            if (c->inflight_seq || (!c->failed && c->tokens_typed != c->tokens_sent))
                return false;
            if (version >= 0 && c->version != version)
                return false;
            version = c->version;
        }
    }
    return true;
}

static void start_fetching(void)
{
    lg.phase = P_FETCH;
    lg.t_deadline = now_us() + (int64_t)(lg.opt.drain_s * 1e6);
    for (int r = 0; r < lg.opt.rooms; r++) {
        client *c = &lg.rooms[r].clients[0];
        if (c->state != C_SUBSCRIBED)
            continue;
        lg.rooms[r].fetch_sent = true;
        send_printf(c, "{\"a\":\"f\",\"c\":\"" COLLECTION "\",\"d\":\"%s\"}", c->room->doc);
    }
}

static bool all_fetched(void)
{
    for (int r = 0; r < lg.opt.rooms; r++)
        if (lg.rooms[r].fetch_sent && !lg.rooms[r].fetched)
            return false;
    return true;
}

static void print_summary(void);
static bool converged(void);

/*
 * Prints the summary and ends the process: the kernel closes the connections. (The
 * service loop is libuv's, which lws runs until the context is destroyed.)
 */
static void finish(void)
{
    lg.phase = P_DONE;
    print_summary();
    fflush(stdout);
    exit(converged() ? 0 : 1);
}

static void on_tick(void)
{
    int64_t now = now_us();

    switch (lg.phase) {
    case P_CONNECT:
        while (lg.next_to_connect < lg.n_clients && lg.connecting < lg.opt.connect_concurrency)
            connect_client(&lg.clients[lg.next_to_connect++]);
        if (lg.err.connect_failed || lg.err.closed || lg.err.error_replies ||
            now > lg.t_deadline) {
            report_error("setup failed: %d of %d clients ready", lg.ready, lg.n_clients);
            lg.aborted = true;
            finish();
            return;
        }
        if (lg.ready == lg.n_clients)
            start_editing(now);
        break;
    case P_RUN:
        if (now >= lg.t_measure && lg.cpu_at_measure < 0) {
            lg.cpu_at_measure = own_cpu_seconds();
            if (lg.opt.server_pid)
                lg.server_cpu_at_measure = process_cpu_seconds(lg.opt.server_pid);
        }
        if (!lg.opt.idle && lg.opt.rate > 0 && now < lg.t_end)
            type_due_tokens(now);
        if (now >= lg.t_end) {
            lg.cpu_at_end = own_cpu_seconds();
            if (lg.opt.server_pid) {
                lg.server_cpu_at_end = process_cpu_seconds(lg.opt.server_pid);
                lg.server_rss_loaded = process_rss_kib(lg.opt.server_pid);
            }
            lg.phase = P_DRAIN;
            lg.t_deadline = now + (int64_t)(lg.opt.drain_s * 1e6);
        }
        break;
    case P_DRAIN:
        if (drained() || now > lg.t_deadline) {
            if (now > lg.t_deadline)
                report_error("ops still in flight after %.0f s of draining", lg.opt.drain_s);
            start_fetching();
        }
        break;
    case P_FETCH:
        if (all_fetched() || now > lg.t_deadline) {
            finish();
            return;
        }
        break;
    case P_DONE:
        break;
    }
}

/*
 * The clock is a timerfd in the service loop rather than an lws timer: lws 4.1 turns timer
 * delays into whole milliseconds rounded down, so a timer less than 1 ms away makes the
 * loop spin until it is due.
 */
static int start_clock(void)
{
    struct itimerspec period = {{0, TICK_US * 1000}, {0, TICK_US * 1000}};
    lws_sock_file_fd_type fd;

    lg.clock_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (lg.clock_fd < 0 || timerfd_settime(lg.clock_fd, 0, &period, NULL) != 0)
        return -1;
    fd.filefd = lg.clock_fd;
    return lws_adopt_descriptor_vhost(lws_get_vhost_by_name(lg.ctx, "default"),
                                      LWS_ADOPT_RAW_FILE_DESC, fd, "loadgen", NULL)
               ? 0
               : -1;
}

/* ---------------------------------------------------------------- summary */

static void print_histogram(const char *name, const histogram *h)
{
    printf("\"%s\":{\"samples\":%" PRIu64 ",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
           name, h->samples, (double)histogram_percentile(h, 0.50) / 1e3,
           (double)histogram_percentile(h, 0.90) / 1e3,
           (double)histogram_percentile(h, 0.99) / 1e3, (double)h->max / 1e3);
}

static bool converged(void)
{
    const error_counts *e = &lg.err;
    const check_counts *k = &lg.check;

    return !lg.aborted && k->rooms_checked == lg.opt.rooms && !k->tokens_missing &&
           !k->tokens_duplicated && !k->tokens_unknown && !k->clients_behind &&
           !k->clients_miscounted && !e->connect_failed && !e->closed && !e->error_replies &&
           !e->version_gaps && !e->ack_version_mismatches && !e->unexpected_acks &&
           !e->bad_messages;
}

static void print_summary(void)
{
    double window = (double)(lg.t_end - lg.t_measure) / 1e6;
    const char *mode = lg.opt.idle ? "idle" : lg.opt.rate > 0 ? "rate" : "saturation";
    const error_counts *e = &lg.err;
    const check_counts *k = &lg.check;

    printf("{\"url\":\"%s\",\"mode\":\"%s\",\"rooms\":%d,\"editors_per_room\":%d,"
           "\"observers_per_room\":%d,\"clients\":%d,\"rate_per_editor\":%g,\"window_s\":%.3f,",
           lg.opt.url, mode, lg.opt.rooms, lg.opt.editors_per_room, lg.opt.observers_per_room,
           lg.n_clients, lg.opt.rate, window);
    printf("\"acked_ops\":%" PRIu64 ",\"acked_ops_per_s\":%.1f,\"acked_tokens_per_s\":%.1f,"
           "\"typed_tokens_per_s\":%.1f,\"skipped_tokens\":%" PRIu64 ",",
           lg.window_acked_ops, window > 0 ? (double)lg.window_acked_ops / window : 0,
           window > 0 ? (double)lg.window_acked_tokens / window : 0,
           window > 0 ? (double)lg.window_typed_tokens / window : 0, lg.skipped_tokens);
    print_histogram("latency_ms", &lg.latency);
    putchar(',');
    print_histogram("ack_latency_ms", &lg.ack_latency);
    printf(",\"loadgen_cpu\":%.3f",
           lg.cpu_at_measure >= 0 && window > 0 ? (lg.cpu_at_end - lg.cpu_at_measure) / window
                                                : -1.0);
    if (lg.opt.server_pid) {
        printf(",\"server_cpu\":%.3f,\"server_rss_kib\":{\"before\":%ld,\"loaded\":%ld}",
               lg.server_cpu_at_measure >= 0 && lg.server_cpu_at_end >= 0 && window > 0
                   ? (lg.server_cpu_at_end - lg.server_cpu_at_measure) / window
                   : -1.0,
               lg.server_rss_before, lg.server_rss_loaded);
        if (lg.opt.idle && lg.server_rss_loaded >= 0 && lg.server_rss_before >= 0)
            printf(",\"server_kib_per_connection\":%.2f",
                   (double)(lg.server_rss_loaded - lg.server_rss_before) / lg.n_clients);
    }
    printf(",\"check\":{\"rooms_checked\":%d,\"tokens_acked\":%" PRIu64
           ",\"tokens_missing\":%" PRIu64 ",\"tokens_duplicated\":%" PRIu64
           ",\"tokens_unacked_present\":%" PRIu64 ",\"tokens_unknown\":%" PRIu64
           ",\"clients_behind\":%" PRIu64 ",\"clients_miscounted\":%" PRIu64
           ",\"version_max\":%" PRId64 ",\"snapshot_bytes_max\":%zu}",
           k->rooms_checked, k->tokens_acked, k->tokens_missing, k->tokens_duplicated,
           k->tokens_unacked_present, k->tokens_unknown, k->clients_behind,
           k->clients_miscounted, k->version_max, k->snapshot_bytes_max);
    printf(",\"errors\":{\"connect_failed\":%" PRIu64 ",\"closed\":%" PRIu64
           ",\"error_replies\":%" PRIu64 ",\"rejected_ops\":%" PRIu64 ",\"version_gaps\":%" PRIu64
           ",\"ack_version_mismatches\":%" PRIu64 ",\"unexpected_acks\":%" PRIu64
           ",\"bad_messages\":%" PRIu64 "}",
           e->connect_failed, e->closed, e->error_replies, e->rejected_ops, e->version_gaps,
           e->ack_version_mismatches, e->unexpected_acks, e->bad_messages);
    printf(",\"aborted\":%s,\"converged\":%s}\n", lg.aborted ? "true" : "false",
           converged() ? "true" : "false");
}

/* ---------------------------------------------------------------- command line */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen --url ws://HOST:PORT/PATH [options]\n"
            "  --rooms N               documents, one room each (default 1)\n"
            "  --clients-per-room N    editors per room (default 4)\n"
            "  --observers-per-room N  clients that only subscribe (default 0)\n"
            "  --rate R                ops per second per editor; 0 = saturation, one op in\n"
            "                          flight each, the next sent on the ack (default 5)\n"
            "  --duration S            measured seconds (default 10)\n"
            "  --warmup S              seconds of load before measuring (default 2)\n"
            "  --idle                  no edits: hold the connections open for the duration\n"
            "  --server-pid PID        also report the server's CPU over the window and its\n"
            "                          resident memory before connecting and at the end\n"
            "  --cookie VALUE          send \"Cookie: VALUE\" with the upgrade request\n"
            "  --header \"Name: value\"  another upgrade request header (repeatable)\n"
            "  --doc-prefix P          document ids are P-<room> (default: unique per run)\n"
            "  --docs FILE             document ids, one per line, for the rooms in order\n"
            "                          (existing documents, e.g. Konsil sessions)\n"
            "  --connect-concurrency N connection attempts at once (default 64)\n"
            "  --connect-timeout S     seconds for every client to be ready (default 60)\n"
            "  --drain-timeout S       seconds for the last ops and the snapshots (default 30)\n"
            "  --seed N                seed for the editors' start offsets (default 1)\n");
}

static bool parse_url(options *o)
{
    int n = 0;

    if (sscanf(o->url, "ws://%127[^:/]:%d%n", o->host, &o->port, &n) != 2 || o->port <= 0 ||
        o->port > 65535)
        return false;
    if (o->url[n] == '\0')
        strcpy(o->path, "/");
    else if (o->url[n] == '/' && strlen(o->url + n) < sizeof o->path)
        strcpy(o->path, o->url + n);
    else
        return false;
    snprintf(o->host_header, sizeof o->host_header, "%s:%d", o->host, o->port);
    return true;
}

static bool parse_number(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"rooms", required_argument, NULL, 'r'},
        {"clients-per-room", required_argument, NULL, 'c'},
        {"observers-per-room", required_argument, NULL, 'o'},
        {"rate", required_argument, NULL, 'R'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"idle", no_argument, NULL, 'i'},
        {"server-pid", required_argument, NULL, 'p'},
        {"cookie", required_argument, NULL, 'k'},
        {"header", required_argument, NULL, 'H'},
        {"doc-prefix", required_argument, NULL, 'P'},
        {"docs", required_argument, NULL, 'F'},
        {"connect-concurrency", required_argument, NULL, 'C'},
        {"connect-timeout", required_argument, NULL, 'T'},
        {"drain-timeout", required_argument, NULL, 'D'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double v;
    int ch;

    memset(o, 0, sizeof *o);
    o->rooms = 1;
    o->editors_per_room = 4;
    o->rate = 5;
    o->duration_s = 10;
    o->warmup_s = 2;
    o->drain_s = 30;
    o->connect_s = 60;
    o->connect_concurrency = 64;
    lg.rng = 1;
    snprintf(o->doc_prefix, sizeof o->doc_prefix, "lg%ld-%d", (long)time(NULL), (int)getpid());

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            if (strlen(optarg) >= sizeof o->url)
                return -1;
            strcpy(o->url, optarg);
            break;
#define NUMBER(min, max, lvalue, cast)                                                             \
    if (!parse_number(optarg, min, max, &v))                                                       \
        return -1;                                                                                 \
    lvalue = (cast)v;                                                                              \
    break;
        case 'r': NUMBER(1, 100000, o->rooms, int)
        case 'c': NUMBER(0, 10000, o->editors_per_room, int)
        case 'o': NUMBER(0, 10000, o->observers_per_room, int)
        case 'R': NUMBER(0, 1e6, o->rate, double)
        case 'd': NUMBER(0.1, 86400, o->duration_s, double)
        case 'w': NUMBER(0, 86400, o->warmup_s, double)
        case 'p': NUMBER(1, 1 << 30, o->server_pid, int)
        case 'C': NUMBER(1, 100000, o->connect_concurrency, int)
        case 'T': NUMBER(1, 86400, o->connect_s, double)
        case 'D': NUMBER(1, 86400, o->drain_s, double)
        case 's': NUMBER(1, 1e15, lg.rng, uint64_t)
#undef NUMBER
        case 'i':
            o->idle = true;
            break;
        case 'k':
            if (snprintf(o->cookie_header, sizeof o->cookie_header, "Cookie: %s", optarg) >=
                    (int)sizeof o->cookie_header ||
                o->n_headers >= MAX_HEADERS)
                return -1;
            o->headers[o->n_headers++] = o->cookie_header;
            break;
        case 'H':
            if (o->n_headers >= MAX_HEADERS || !strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
                return -1;
            o->headers[o->n_headers++] = optarg;
            break;
        case 'P':
            if (strlen(optarg) >= sizeof o->doc_prefix || strpbrk(optarg, "\"\\"))
                return -1;
            strcpy(o->doc_prefix, optarg);
            break;
        case 'F':
            o->docs_file = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || !parse_url(o) || o->editors_per_room + o->observers_per_room < 1)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- main */

static void raise_open_file_limit(int needed)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t)needed)
        fprintf(stderr, "loadgen: open-file limit %llu is below the %d needed; raise ulimit -n\n",
                (unsigned long long)rl.rlim_cur, needed);
}

/* Reads one document id per line of the --docs file into the rooms. */
static int read_doc_ids(void)
{
    FILE *f = fopen(lg.opt.docs_file, "r");
    char line[256];
    int r = 0;

    if (!f) {
        fprintf(stderr, "loadgen: %s: %s\n", lg.opt.docs_file, strerror(errno));
        return -1;
    }
    while (r < lg.opt.rooms && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (strlen(line) >= sizeof lg.rooms[r].doc || strpbrk(line, "\"\\")) {
            fprintf(stderr, "loadgen: %s: unusable document id \"%s\"\n", lg.opt.docs_file, line);
            fclose(f);
            return -1;
        }
        strcpy(lg.rooms[r++].doc, line);
    }
    fclose(f);
    if (r < lg.opt.rooms) {
        fprintf(stderr, "loadgen: %s has %d document ids, %d rooms need them\n", lg.opt.docs_file,
                r, lg.opt.rooms);
        return -1;
    }
    return 0;
}

static int setup_clients(void)
{
    int per_room = lg.opt.editors_per_room + lg.opt.observers_per_room;

    lg.n_clients = lg.opt.rooms * per_room;
    lg.clients = calloc((size_t)lg.n_clients, sizeof *lg.clients);
    lg.rooms = calloc((size_t)lg.opt.rooms, sizeof *lg.rooms);
    if (!lg.clients || !lg.rooms)
        return -1;
    for (int r = 0; r < lg.opt.rooms; r++) {
        room *rm = &lg.rooms[r];
        snprintf(rm->doc, sizeof rm->doc, "%s-%d", lg.opt.doc_prefix, r);
        rm->clients = &lg.clients[r * per_room];
        rm->n_clients = per_room;
        for (int i = 0; i < per_room; i++) {
            client *c = &rm->clients[i];
            c->index = r * per_room + i;
            c->room = rm;
            c->editor = i < lg.opt.editors_per_room;
            c->version = -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;

    if (parse_options(argc, argv, &lg.opt) != 0) {
        usage(stderr);
        return 2;
    }
    if (setup_clients() != 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 3;
    }
    if (lg.opt.docs_file && read_doc_ids() != 0)
        return 2;
    raise_open_file_limit(lg.n_clients + 64);
    lg.interval_us = lg.opt.rate > 0 ? 1e6 / lg.opt.rate : 0;
    if (lg.opt.rate > 0 && lg.interval_us < 1)
        lg.interval_us = 1;
    lg.cpu_at_measure = -1;
    lg.server_cpu_at_measure = lg.server_cpu_at_end = -1;
    lg.server_rss_before = lg.server_rss_loaded = -1;
    if (lg.opt.server_pid)
        lg.server_rss_before = process_rss_kib(lg.opt.server_pid);

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned int)lg.n_clients + 64;
    /* epoll through libuv: lws's own poll() loop scans every socket on each wakeup. */
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.gid = -1;
    info.uid = -1;
    lg.ctx = lws_create_context(&info);
    if (!lg.ctx) {
        fprintf(stderr, "loadgen: cannot create the libwebsockets context\n");
        return 3;
    }
    lg.t_begin = now_us();
    lg.t_deadline = lg.t_begin + (int64_t)(lg.opt.connect_s * 1e6);
    lg.t_measure = lg.t_end = INT64_MAX;
    fprintf(stderr, "loadgen: %d rooms x (%d editors + %d observers) -> %s\n", lg.opt.rooms,
            lg.opt.editors_per_room, lg.opt.observers_per_room, lg.opt.url);
    if (start_clock() != 0) {
        fprintf(stderr, "loadgen: cannot start the clock: %s\n", strerror(errno));
        return 3;
    }
    lws_service(lg.ctx, 0); /* returns only if the loop stops before finish() */
    report_error("the service loop stopped");
    lg.aborted = true;
    finish();
    return 1;
}
