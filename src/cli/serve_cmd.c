/*
 * `konsil serve`: the command line and the configuration file (--config) into a
 * hub_config, then the hub. One table holds every option: its name (also the file's
 * key), how its value is read, and its --help line; the command line and the file both
 * go through it, and the command line wins. Every limit of protocol/limits.md has an
 * option here, and --help lists them all with their defaults.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/csrf.h"
#include "auth/totp.h"
#include "cli/cli.h"
#include "hub/hub.h"
#include "hub/hub_loop.h"
#include "util/config_file.h"
#include "util/klog.h"

/* How a value is read: numbers (SIZE and SHEET_SIZE take K/M/G), or by the option's own
 * `set`. SHEET_SIZE and SHEET_SECS: a case-sheet limit that, when not given, is each
 * template's own (else the HUB_DEFAULT_ one, fallback_of). */
enum kind { SIZE, COUNT, SECS, RATE, SHEET_SIZE, SHEET_SECS, OTHER };

typedef struct option option;
struct option {
    const char *name;       /* without "--": also its key in the configuration file */
    enum kind kind;
    size_t offset;          /* of the field in hub_config it sets */
    const char *arg;        /* OTHER: the value's name in --help (FILE, DIR, ...) */
    int (*set)(hub_config *c, const option *o, const char *value, char *err, size_t n);
    const char *help;       /* OTHER: lines after the first indented like it */
};

static int set_text(hub_config *c, const option *o, const char *value, char *err, size_t n);
static int set_listen(hub_config *c, const option *o, const char *value, char *err,
                      size_t n);
static int set_origin(hub_config *c, const option *o, const char *value, char *err,
                      size_t n);
static int set_netmasks(hub_config *c, const option *o, const char *value, char *err,
                        size_t n);
static int set_log_format(hub_config *c, const option *o, const char *value, char *err,
                          size_t n);
static int set_log_level(hub_config *c, const option *o, const char *value, char *err,
                         size_t n);
static int set_totp_roles(hub_config *c, const option *o, const char *value, char *err,
                          size_t n);
static int set_event_loop(hub_config *c, const option *o, const char *value, char *err,
                          size_t n);

static const option options[] = {
    {"listen", OTHER, 0, "HOST:PORT", set_listen,
     "address to listen on (port 0 picks a free one)"},
    {"db", OTHER, offsetof(hub_config, db_path), "FILE", set_text,
     "SQLite database, created if missing"},
    {"web", OTHER, offsetof(hub_config, web_dir), "DIR", set_text,
     "folder served at /"},
    {"tls-cert", OTHER, offsetof(hub_config, tls_cert), "FILE", set_text,
     "PEM certificate: serve https and wss"},
    {"tls-key", OTHER, offsetof(hub_config, tls_key), "FILE", set_text,
     "PEM private key for --tls-cert"},
    {"templates", OTHER, offsetof(hub_config, templates_dir), "DIR", set_text,
     "more case-sheet templates (*.json, protocol/access.md),\n"
     "each added as a version of its name when the server starts"},
    {"public-origin", OTHER, offsetof(hub_config, public_origin), "URL", set_origin,
     "the origin browsers use, e.g. https://konsil.example, when a\n"
     "proxy in front terminates TLS or changes the host; requests\n"
     "carrying another Origin are refused (default: the Host\n"
     "header with the scheme served)"},
    {"master-key-file", OTHER, offsetof(hub_config, master_key_file), "FILE", set_text,
     "the master key (64 hex digits, e.g. `openssl rand -hex 32`,\n"
     "mode 600): case data and second factors are encrypted at\n"
     "rest under keys kept in the key store; without it nothing is\n"
     "encrypted, no second factor can be set up, and a database\n"
     "whose data is encrypted is refused (protocol/keystore.md)"},
    {"keys", OTHER, offsetof(hub_config, keys_path), "FILE", set_text,
     "the key store (default: the database's path + .keys); keep\n"
     "it apart from the database's backups"},
    {"totp-required", OTHER, 0, "ROLES", set_totp_roles,
     "roles that log in with a second factor (TOTP), e.g.\n"
     "admin,supervisor,counsellor, or none"},
    {"metrics-allow", OTHER, 0, "CIDRS", set_netmasks,
     "networks that may read /metrics, e.g. 10.0.0.0/8,::1\n"
     "(comma-separated; never through a proxy)"},
    {"log-format", OTHER, 0, "text|json", set_log_format,
     "text for people, json for log shippers: one JSON object\n"
     "per line on stderr"},
    {"log-level", OTHER, 0, "LEVEL", set_log_level,
     "error, warn, info or debug (debug adds one line per\n"
     "request and connection)"},
    {"event-loop", OTHER, 0, "epoll|poll", set_event_loop,
     "epoll (default: libev's loop) or poll (libwebsockets' own\n"
     "loop, which polls every socket on each wakeup)"},
    {"max-message", SIZE, offsetof(hub_config, max_message), NULL, NULL,
     "largest incoming message; larger ones close the socket with 1009"},
    {"max-outq", SIZE, offsetof(hub_config, max_outq), NULL, NULL,
     "bytes queued for one connection, replies and snapshots included; above: close 1013"},
    {"op-rate", RATE, offsetof(hub_config, op_rate), NULL, NULL,
     "ops per second one connection may submit, sustained (reading pauses beyond)"},
    {"op-burst", RATE, offsetof(hub_config, op_burst), NULL, NULL,
     "ops one connection may submit at once"},
    {"ping-secs", SECS, offsetof(hub_config, ping_secs), NULL, NULL,
     "idle seconds before the server pings a connection"},
    {"idle-secs", SECS, offsetof(hub_config, idle_secs), NULL, NULL,
     "idle seconds (no pong, no message) before the server hangs up"},
    {"heartbeat-secs", SECS, offsetof(hub_config, heartbeat_secs), NULL, NULL,
     "silent seconds after which a connection that sends pp is hung up on"},
    {"max-conns", COUNT, offsetof(hub_config, max_conns), NULL, NULL,
     "most WebSocket connections at once (503 server_full beyond)"},
    {"max-conns-addr", COUNT, offsetof(hub_config, max_conns_addr), NULL, NULL,
     "most WebSocket connections from one client address (429 beyond)"},
    {"max-conns-principal", COUNT, offsetof(hub_config, max_conns_principal), NULL, NULL,
     "most WebSocket connections of one principal (429 beyond)"},
    {"max-pending", COUNT, offsetof(hub_config, max_pending), NULL, NULL,
     "most connections that are not (yet) WebSockets, at once (closed at accept beyond)"},
    {"max-pending-addr", COUNT, offsetof(hub_config, max_pending_addr), NULL, NULL,
     "the same from one client address"},
    {"handshake-secs", SECS, offsetof(hub_config, handshake_secs), NULL, NULL,
     "seconds a new connection has to send its request (and its body)"},
    {"max-rooms", COUNT, offsetof(hub_config, max_rooms), NULL, NULL,
     "most documents held in memory at once"},
    {"room-idle-secs", SECS, offsetof(hub_config, room_idle_secs), NULL, NULL,
     "seconds an unused document stays in memory"},
    {"tail-ops", COUNT, offsetof(hub_config, tail_ops), NULL, NULL,
     "recent ops kept in memory per document"},
    {"tail-bytes", SIZE, offsetof(hub_config, tail_bytes), NULL, NULL,
     "bytes of recent ops kept in memory per document"},
    {"milestone-every", COUNT, offsetof(hub_config, milestone_every), NULL, NULL,
     "fewest versions between stored snapshots, more for large documents (bounds nf/nt and loading)"},
    {"read-chunk", COUNT, offsetof(hub_config, read_chunk), NULL, NULL,
     "ops per history read"},
    {"history-page", COUNT, offsetof(hub_config, history_page), NULL, NULL,
     "most ops in one page of GET /api/sessions/{id}/history"},
    {"history-page-bytes", SIZE, offsetof(hub_config, history_page_bytes), NULL, NULL,
     "most bytes of ops in one history page (one op always fits)"},
    {"max-name", SIZE, offsetof(hub_config, max_name), NULL, NULL,
     "longest document id, src, channel or presence id"},
    {"max-bulk", COUNT, offsetof(hub_config, max_bulk), NULL, NULL,
     "most documents in one bf/bs/bu"},
    {"max-presence-channels", COUNT, offsetof(hub_config, max_presence_channels), NULL, NULL,
     "presence channels one connection may subscribe to"},
    {"max-presences", COUNT, offsetof(hub_config, max_presences), NULL, NULL,
     "presences one connection may hold"},
    {"max-batch", COUNT, offsetof(hub_config, max_batch), NULL, NULL,
     "most ops written in one transaction (group commit)"},
    {"commit-wait-us", COUNT, offsetof(hub_config, commit_wait_us), NULL, NULL,
     "most microseconds an op waits for others to share its transaction (0: never)"},
    {"tx-packet", SIZE, offsetof(hub_config, tx_packet), NULL, NULL,
     "bytes per send() and per outgoing frame"},
    {"rx-buffer", SIZE, offsetof(hub_config, rx_buffer), NULL, NULL,
     "bytes per receive callback; every connection holds this much (min 128)"},
    {"shutdown-grace-secs", SECS, offsetof(hub_config, shutdown_grace_secs), NULL, NULL,
     "seconds to wait for clients to close on SIGINT/SIGTERM"},
    {"max-body", SIZE, offsetof(hub_config, max_body), NULL, NULL,
     "largest REST request body (413 above)"},
    {"session-idle-secs", SECS, offsetof(hub_config, session_idle_secs), NULL, NULL,
     "a login session unused this long ends"},
    {"session-max-secs", SECS, offsetof(hub_config, session_max_secs), NULL, NULL,
     "a login session ends this long after the login, used or not"},
    {"login-window-secs", SECS, offsetof(hub_config, login_window_secs), NULL, NULL,
     "window over which login attempts are counted"},
    {"login-max-pair", COUNT, offsetof(hub_config, login_max_pair), NULL, NULL,
     "failed (or pending) logins per username and address in the window (429 beyond)"},
    {"login-max-addr", COUNT, offsetof(hub_config, login_max_addr), NULL, NULL,
     "failed (or pending) logins per client address in the window (429 beyond)"},
    {"login-slow-after", COUNT, offsetof(hub_config, login_slow_after), NULL, NULL,
     "failed logins per username (any address) before its attempts are slowed"},
    {"login-max-delay-secs", SECS, offsetof(hub_config, login_max_delay_secs), NULL, NULL,
     "the longest a slowed login waits (never refused for the username alone)"},
    {"password-link-secs", COUNT, offsetof(hub_config, password_link_secs), NULL, NULL,
     "seconds a set-password link of a new or reset account works"},
    {"password-min", COUNT, offsetof(hub_config, password_min), NULL, NULL,
     "fewest characters of a password set through a link"},
    {"login-max-keys", COUNT, offsetof(hub_config, login_max_keys), NULL, NULL,
     "keys the login throttle remembers at most (oldest window forgotten first)"},
    {"retention-interval-secs", SECS, offsetof(hub_config, retention_interval_secs), NULL,
     NULL, "seconds between runs of the retention job (due cases erased; protocol/retention.md)"},
    {"inactive-days", COUNT, offsetof(hub_config, inactive_days), NULL, NULL,
     "an open case without activity this long is listed for its lead to close or keep"},
    {"deletion-notice-days", COUNT, offsetof(hub_config, deletion_notice_days), NULL, NULL,
     "deletions this many days ahead are shown to the case's lead"},
    {"max-sheet", SHEET_SIZE, offsetof(hub_config, max_sheet), NULL, NULL,
     "bytes of one case sheet (its JSON); an op growing it beyond: ERR_OP_SUBMIT_REJECTED"},
    {"max-item", SHEET_SIZE, offsetof(hub_config, max_item), NULL, NULL,
     "bytes of one value an op inserts, li or oi (ERR_OP_SUBMIT_REJECTED beyond)"},
    {"max-string", SHEET_SIZE, offsetof(hub_config, max_string), NULL, NULL,
     "bytes of one string of a case sheet (ERR_OP_SUBMIT_REJECTED beyond)"},
    {"append-budget", SHEET_SIZE, offsetof(hub_config, append_budget), NULL, NULL,
     "bytes one principal may add to one case sheet per window (ERR_OP_SUBMIT_REJECTED)"},
    {"append-window-secs", SHEET_SECS, offsetof(hub_config, append_window_secs), NULL, NULL,
     "the window of --append-budget"},
    {"max-op-lag", COUNT, offsetof(hub_config, max_op_lag), NULL, NULL,
     "versions an op may be behind its document (ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND beyond)"},
    {"max-rooms-principal", COUNT, offsetof(hub_config, max_rooms_principal), NULL, NULL,
     "documents one principal's requests may keep loaded (ERR_LIMIT_EXCEEDED beyond)"},
    {"max-creates", COUNT, offsetof(hub_config, max_creates), NULL, NULL,
     "cases, sessions and links an account may create per window (429 rate_limited)"},
    {"create-window-secs", SECS, offsetof(hub_config, create_window_secs), NULL, NULL,
     "the window of --max-creates"},
    {"budget-max-keys", COUNT, offsetof(hub_config, budget_max_keys), NULL, NULL,
     "keys the append and create budgets remember at most (oldest window forgotten)"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* Where each option's value came from while parsing: the command line wins. */
enum { FROM_DEFAULT, FROM_FILE, FROM_COMMAND_LINE };

static const option *find(const char *name)
{
    for (size_t k = 0; k < N_OPTIONS; k++)
        if (strcmp(name, options[k].name) == 0)
            return &options[k];
    return NULL;
}

/* The counts kept as int64_t. */
static int is_int64(const option *o)
{
    return o->offset == offsetof(hub_config, milestone_every) ||
           o->offset == offsetof(hub_config, max_op_lag);
}

/* What a case-sheet limit is when neither the option nor the template sets it. */
static size_t fallback_of(const option *o)
{
    switch (o->offset) {
    case offsetof(hub_config, max_sheet): return HUB_DEFAULT_SHEET;
    case offsetof(hub_config, max_item): return HUB_DEFAULT_ITEM;
    case offsetof(hub_config, max_string): return HUB_DEFAULT_STRING;
    case offsetof(hub_config, append_budget): return HUB_DEFAULT_APPEND;
    default: return HUB_DEFAULT_APPEND_WINDOW_SECS;
    }
}

static void show_default(FILE *out, const hub_config *d, const option *o)
{
    const char *p = (const char *)d + o->offset;

    switch (o->kind) {
    case SIZE:
        fprintf(out, "%zu", *(const size_t *)p);
        break;
    case COUNT:
        if (is_int64(o))
            fprintf(out, "%lld", (long long)*(const int64_t *)p);
        else
            fprintf(out, "%zu", *(const size_t *)p);
        break;
    case SECS:
        fprintf(out, "%d", *(const int *)p);
        break;
    case RATE:
        fprintf(out, "%g", *(const double *)p);
        break;
    case SHEET_SIZE:
    case SHEET_SECS:
        fprintf(out, "the template's, else %zu", fallback_of(o));
        break;
    case OTHER:
        break;
    }
}

/* An OTHER option's --help: its lines, the default after the first one that has it. */
static void show_other(FILE *out, const hub_config *d, const option *o)
{
    const char *line = o->help, *def = NULL;
    char flag[64], listen[300];

    if (o->set == set_listen) {
        snprintf(listen, sizeof listen, "%s:%d", d->host, d->port);
        def = listen;
    } else if (o->set == set_text) {
        def = *(const char *const *)((const char *)d + o->offset);
    } else if (o->set == set_netmasks) {
        def = HUB_METRICS_ALLOW_DEFAULT;
    } else if (o->set == set_log_format) {
        def = d->log_format == KLOG_JSON ? "json" : "text";
    } else if (o->set == set_log_level) {
        def = klog_level_name((klog_level)d->log_level);
    } else if (o->set == set_totp_roles) {
        def = AUTH_TOTP_REQUIRED_DEFAULT;
    }
    snprintf(flag, sizeof flag, "--%s %s", o->name, o->arg);
    fprintf(out, "  %-22s ", flag);
    while (line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(out, "%.*s", len, line);
        if (!nl && !strstr(o->help, "(default"))   /* unless the help says it itself */
            fprintf(out, def ? " (default %s)" : " (default: none)", def);
        fprintf(out, "\n");
        line = nl ? nl + 1 : NULL;
        if (line)
            fprintf(out, "  %-22s ", "");
    }
}

static void usage(FILE *out)
{
    hub_config d;

    hub_config_defaults(&d);
    fprintf(out,
            "usage: konsil serve [--config FILE] [--listen HOST:PORT] [--db FILE] [--web DIR]\n"
            "                    [--tls-cert FILE --tls-key FILE] [OPTIONS] [LIMITS]\n\n"
            "Serves the ShareDB WebSocket at /ws, the REST API under /api and static files\n"
            "from --web on one port. Prints \"listening on http://HOST:PORT\" when ready;\n"
            "SIGINT/SIGTERM close clients with 1001, write every queued op, exit 0.\n\n"
            "  %-22s %s\n"
            "  %-22s %s\n"
            "  %-22s %s\n"
            "  %-22s %s\n",
            "--config FILE", "options from FILE: `name = value` per line (the option's name",
            "", "without --), # comments; the command line wins (man konsil,",
            "", "CONFIGURATION)",
            "--help", "this text");
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].kind == OTHER)
            show_other(out, &d, &options[i]);
    fprintf(out, "\nLimits (sizes in bytes, K/M/G suffixes allowed; see protocol/limits.md):\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].kind == OTHER)
            continue;
        fprintf(out, "  --%-22s %s (default ", options[i].name, options[i].help);
        show_default(out, &d, &options[i]);
        fprintf(out, ")\n");
    }
}

static int parse_number(const char *s, int sizes, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (sizes && *end) {
        switch (*end++) {
        case 'k': case 'K': v *= 1024; break;
        case 'm': case 'M': v *= 1024 * 1024; break;
        case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
        default: return -1;
        }
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int set_number(hub_config *c, const option *o, const char *value)
{
    char *p = (char *)c + o->offset;
    double v;

    if (parse_number(value, o->kind == SIZE || o->kind == SHEET_SIZE, &v) != 0)
        return -1;
    switch (o->kind) {
    case SIZE:
    case COUNT:
    case SHEET_SIZE:
        if (v != (double)(size_t)v ||
            v < (o->offset == offsetof(hub_config, commit_wait_us) ? 0 : 1))
            return -1;
        if (is_int64(o))
            *(int64_t *)p = (int64_t)v;
        else
            *(size_t *)p = (size_t)v;
        return 0;
    case SECS:
    case SHEET_SECS:
        if (v != (int)v || v < 1 || v > 65535)
            return -1;
        *(int *)p = (int)v;
        return 0;
    case RATE:
        if (v <= 0)
            return -1;
        *(double *)p = v;
        return 0;
    case OTHER:
        break;
    }
    return -1;
}

static int set_text(hub_config *c, const option *o, const char *value, char *err, size_t n)
{
    (void)err;
    (void)n;
    *(const char **)((char *)c + o->offset) = value;
    return 0;
}

static int set_listen(hub_config *c, const option *o, const char *value, char *err, size_t n)
{
    const char *colon = strrchr(value, ':');
    char *end;
    long port;

    (void)o;
    if (!colon || colon == value || (size_t)(colon - value) >= sizeof c->host)
        goto bad;
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        goto bad;
    memcpy(c->host, value, (size_t)(colon - value));
    c->host[colon - value] = '\0';
    c->port = (int)port;
    return 0;
bad:
    snprintf(err, n, "--listen wants HOST:PORT, got '%.200s'", value);
    return -1;
}

static int set_origin(hub_config *c, const option *o, const char *value, char *err, size_t n)
{
    (void)o;
    if (auth_csrf_origin_normalise(value, c->public_origin, sizeof c->public_origin) == 0)
        return 0;
    snprintf(err, n, "--public-origin wants http(s)://HOST[:PORT] without a path, got "
             "'%.200s'", value);
    return -1;
}

static int set_netmasks(hub_config *c, const option *o, const char *value, char *err,
                        size_t n)
{
    auth_error aerr = {{0}};

    (void)o;
    if (auth_netmask_parse(value, &c->metrics_allow, &aerr) == 0)
        return 0;
    snprintf(err, n, "--metrics-allow: %s", aerr.message);
    return -1;
}

static int set_log_format(hub_config *c, const option *o, const char *value, char *err,
                          size_t n)
{
    klog_format f;

    (void)o;
    if (klog_format_parse(value, &f) == 0) {
        c->log_format = f;
        return 0;
    }
    snprintf(err, n, "--log-format is text or json, not '%.100s'", value);
    return -1;
}

static int set_event_loop(hub_config *c, const option *o, const char *value, char *err,
                          size_t n)
{
    int k = hub_loop_kind_parse(value);

    (void)o;
    if (k >= 0) {
        c->event_loop = k;
        return 0;
    }
    snprintf(err, n, "--event-loop is epoll or poll, not '%.100s'", value);
    return -1;
}

static int set_log_level(hub_config *c, const option *o, const char *value, char *err,
                         size_t n)
{
    klog_level l;

    (void)o;
    if (klog_level_parse(value, &l) == 0) {
        c->log_level = l;
        return 0;
    }
    snprintf(err, n, "--log-level is error, warn, info or debug, not '%.100s'", value);
    return -1;
}

static int set_totp_roles(hub_config *c, const option *o, const char *value, char *err,
                          size_t n)
{
    auth_error aerr = {{0}};

    (void)o;
    if (auth_totp_roles_parse(value, &c->totp_required, &aerr) == 0)
        return 0;
    snprintf(err, n, "--totp-required: %s", aerr.message);
    return -1;
}

/* Sets option o from value. 0, or -1 with err. */
static int apply(hub_config *c, const option *o, const char *value, char *err, size_t n)
{
    if (o->kind == OTHER)
        return o->set(c, o, value, err, n);
    if (set_number(c, o, value) == 0)
        return 0;
    snprintf(err, n, "bad value '%.200s' for --%s", value, o->name);
    return -1;
}

/* The configuration file's pairs, each applied unless the command line gives it. */
typedef struct file_ctx {
    hub_config *c;
    const unsigned char *from;  /* per option: FROM_COMMAND_LINE ones are skipped */
} file_ctx;

static int file_pair(void *arg, const char *key, const char *value, char *err, size_t n)
{
    file_ctx *f = arg;
    const option *o = find(key);

    if (!o) {
        snprintf(err, n, "unknown option '%.100s' (see konsil serve --help)", key);
        return -1;
    }
    if (f->from[o - options] == FROM_COMMAND_LINE)
        return 0;
    return apply(f->c, o, value, err, n);
}

/* Reads FILE whole into *text (kept by the caller: values point into it). */
static int read_config(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size <= 1024 * 1024 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        buf[size] = '\0';
        *text = buf;
        *len = (size_t)size;
        fclose(f);
        return 0;
    }
    if (!errno)
        errno = EFBIG;
    free(buf);
    fclose(f);
    return -1;
}

static int check(const hub_config *c)
{
    if (!c->tls_cert != !c->tls_key) {
        fprintf(stderr, "konsil serve: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (c->rx_buffer < HUB_RX_BUFFER_MIN) {
        fprintf(stderr, "konsil serve: --rx-buffer must be at least %d (a WebSocket control "
                "frame)\n", HUB_RX_BUFFER_MIN);
        return -1;
    }
    if (c->idle_secs <= c->ping_secs) {
        fprintf(stderr, "konsil serve: --idle-secs must be greater than --ping-secs\n");
        return -1;
    }
    return 0;
}

int cli_serve(int argc, char **argv)
{
    unsigned char from[N_OPTIONS] = {0};
    const char *config = NULL;
    char err[512], *text = NULL;
    size_t len = 0;
    hub_config c;
    int rc = 2;

    hub_config_defaults(&c);
    /* The command line first: it wins over the file, which is read after it. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const option *o;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        o = strncmp(a, "--", 2) == 0 ? find(a + 2) : NULL;
        if (!o && strcmp(a, "--config") != 0) {
            fprintf(stderr, "konsil serve: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "konsil serve: %s needs a value (see --help)\n", a);
            return 2;
        }
        i++;
        if (!o) {
            if (config) {
                fprintf(stderr, "konsil serve: --config is given twice\n");
                return 2;
            }
            config = v;
            continue;
        }
        if (from[o - options] == FROM_COMMAND_LINE) {
            fprintf(stderr, "konsil serve: %s is given twice\n", a);
            return 2;
        }
        from[o - options] = FROM_COMMAND_LINE;
        if (apply(&c, o, v, err, sizeof err) != 0) {
            fprintf(stderr, "konsil serve: %s\n", err);
            return 2;
        }
    }
    if (config) {
        file_ctx f = {&c, from};
        if (read_config(config, &text, &len) != 0) {
            fprintf(stderr, "konsil serve: --config %s: %s\n", config, strerror(errno));
            return 2;
        }
        if (config_file_parse(text, len, file_pair, &f, err, sizeof err) != 0) {
            fprintf(stderr, "konsil serve: %s: %s\n", config, err);
            goto out;
        }
    }
    if (check(&c) != 0)
        goto out;
    rc = hub_run(&c);
out:
    free(text);
    return rc;
}
