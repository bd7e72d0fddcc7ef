/*
 * `konsil serve`: parses the command line into a hub_config and runs the hub.
 * Every limit of protocol/limits.md has an option here, and --help lists them all
 * with their defaults.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/csrf.h"
#include "cli/cli.h"
#include "hub/hub.h"

enum kind { SIZE, COUNT, SECS, RATE };

static const struct option {
    const char *name;
    enum kind kind;
    size_t offset;
    const char *help;
} options[] = {
    {"--max-message", SIZE, offsetof(hub_config, max_message),
     "largest incoming message; larger ones close the socket with 1009"},
    {"--max-outq", SIZE, offsetof(hub_config, max_outq),
     "bytes queued for one connection; above it the connection is closed with 1013"},
    {"--op-rate", RATE, offsetof(hub_config, op_rate),
     "ops per second one connection may submit, sustained (reading pauses beyond)"},
    {"--op-burst", RATE, offsetof(hub_config, op_burst),
     "ops one connection may submit at once"},
    {"--ping-secs", SECS, offsetof(hub_config, ping_secs),
     "idle seconds before the server pings a connection"},
    {"--idle-secs", SECS, offsetof(hub_config, idle_secs),
     "idle seconds (no pong, no message) before the server hangs up"},
    {"--heartbeat-secs", SECS, offsetof(hub_config, heartbeat_secs),
     "silent seconds after which a connection that sends pp is hung up on"},
    {"--max-conns", COUNT, offsetof(hub_config, max_conns),
     "most WebSocket connections at once (503 server_full beyond)"},
    {"--max-conns-addr", COUNT, offsetof(hub_config, max_conns_addr),
     "most WebSocket connections from one client address (429 beyond)"},
    {"--max-conns-principal", COUNT, offsetof(hub_config, max_conns_principal),
     "most WebSocket connections of one principal (429 beyond)"},
    {"--max-pending", COUNT, offsetof(hub_config, max_pending),
     "most connections that are not (yet) WebSockets, at once (closed at accept beyond)"},
    {"--max-pending-addr", COUNT, offsetof(hub_config, max_pending_addr),
     "the same from one client address"},
    {"--handshake-secs", SECS, offsetof(hub_config, handshake_secs),
     "seconds a new connection has to send its request (and its body)"},
    {"--max-rooms", COUNT, offsetof(hub_config, max_rooms),
     "most documents held in memory at once"},
    {"--room-idle-secs", SECS, offsetof(hub_config, room_idle_secs),
     "seconds an unused document stays in memory"},
    {"--tail-ops", COUNT, offsetof(hub_config, tail_ops),
     "recent ops kept in memory per document"},
    {"--tail-bytes", SIZE, offsetof(hub_config, tail_bytes),
     "bytes of recent ops kept in memory per document"},
    {"--milestone-every", COUNT, offsetof(hub_config, milestone_every),
     "fewest versions between stored snapshots, more for large documents (bounds nf/nt and loading)"},
    {"--read-chunk", COUNT, offsetof(hub_config, read_chunk),
     "ops per history read"},
    {"--history-page", COUNT, offsetof(hub_config, history_page),
     "most ops in one page of GET /api/sessions/{id}/history"},
    {"--history-page-bytes", SIZE, offsetof(hub_config, history_page_bytes),
     "most bytes of ops in one history page (one op always fits)"},
    {"--max-name", SIZE, offsetof(hub_config, max_name),
     "longest document id, src, channel or presence id"},
    {"--max-bulk", COUNT, offsetof(hub_config, max_bulk),
     "most documents in one bf/bs/bu"},
    {"--max-presence-channels", COUNT, offsetof(hub_config, max_presence_channels),
     "presence channels one connection may subscribe to"},
    {"--max-presences", COUNT, offsetof(hub_config, max_presences),
     "presences one connection may hold"},
    {"--max-batch", COUNT, offsetof(hub_config, max_batch),
     "most ops written in one transaction (group commit)"},
    {"--tx-packet", SIZE, offsetof(hub_config, tx_packet),
     "bytes per send() and per outgoing frame"},
    {"--rx-buffer", SIZE, offsetof(hub_config, rx_buffer),
     "bytes per receive callback; every connection holds this much (min 128)"},
    {"--shutdown-grace-secs", SECS, offsetof(hub_config, shutdown_grace_secs),
     "seconds to wait for clients to close on SIGINT/SIGTERM"},
    {"--max-body", SIZE, offsetof(hub_config, max_body),
     "largest REST request body (413 above)"},
    {"--session-idle-secs", SECS, offsetof(hub_config, session_idle_secs),
     "a login session unused this long ends"},
    {"--session-max-secs", SECS, offsetof(hub_config, session_max_secs),
     "a login session ends this long after the login, used or not"},
    {"--login-window-secs", SECS, offsetof(hub_config, login_window_secs),
     "window over which login attempts are counted"},
    {"--login-max-pair", COUNT, offsetof(hub_config, login_max_pair),
     "failed (or pending) logins per username and address in the window (429 beyond)"},
    {"--login-max-addr", COUNT, offsetof(hub_config, login_max_addr),
     "failed (or pending) logins per client address in the window (429 beyond)"},
    {"--login-slow-after", COUNT, offsetof(hub_config, login_slow_after),
     "failed logins per username (any address) before its attempts are slowed"},
    {"--login-max-delay-secs", SECS, offsetof(hub_config, login_max_delay_secs),
     "the longest a slowed login waits (never refused for the username alone)"},
    {"--login-max-keys", COUNT, offsetof(hub_config, login_max_keys),
     "keys the login throttle remembers at most (oldest window forgotten first)"},
    {"--retention-interval-secs", SECS, offsetof(hub_config, retention_interval_secs),
     "seconds between runs of the retention job (due cases erased; protocol/retention.md)"},
    {"--inactive-days", COUNT, offsetof(hub_config, inactive_days),
     "an open case without activity this long is listed for its lead to close or keep"},
    {"--deletion-notice-days", COUNT, offsetof(hub_config, deletion_notice_days),
     "deletions this many days ahead are shown to the case's lead"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static void show_default(FILE *out, const hub_config *d, const struct option *o)
{
    const char *p = (const char *)d + o->offset;

    switch (o->kind) {
    case SIZE:
        fprintf(out, "%zu", *(const size_t *)p);
        break;
    case COUNT:
        if (o->offset == offsetof(hub_config, milestone_every))
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
    }
}

static void usage(FILE *out)
{
    hub_config d;

    hub_config_defaults(&d);
    fprintf(out,
            "usage: konsil serve [--listen HOST:PORT] [--db FILE] [--web DIR]\n"
            "                    [--tls-cert FILE --tls-key FILE] [--master-key-file FILE]\n"
            "                    [--keys FILE] [LIMITS]\n\n"
            "Serves the ShareDB WebSocket at /ws and static files from --web on one port.\n"
            "Prints \"listening on http://HOST:PORT\" when ready (port 0 picks a free one);\n"
            "SIGINT/SIGTERM close clients with 1001, write every queued op, exit 0.\n\n"
            "  --listen HOST:PORT   address to listen on (default %s:%d)\n"
            "  --db FILE            SQLite database, created if missing (default %s)\n"
            "  --web DIR            folder served at / (default: none)\n"
            "  --tls-cert FILE      PEM certificate: serve https and wss\n"
            "  --tls-key FILE       PEM private key for --tls-cert\n"
            "  --templates DIR      more case-sheet templates (*.json, protocol/access.md),\n"
            "                       each added as a version of its name when the server starts\n"
            "  --public-origin URL  the origin browsers use, e.g. https://konsil.example, when a\n"
            "                       proxy in front terminates TLS or changes the host; requests\n"
            "                       carrying another Origin are refused (default: the Host\n"
            "                       header with the scheme served)\n"
            "  --master-key-file FILE  the master key (64 hex digits, e.g. `openssl rand -hex\n"
            "                       32`, mode 600): case data is encrypted at rest under a key\n"
            "                       per case, kept in the key store; without it nothing is\n"
            "                       encrypted, and a database whose data is, is refused\n"
            "                       (protocol/keystore.md)\n"
            "  --keys FILE          the key store (default: the database's path + .keys); keep\n"
            "                       it apart from the database's backups\n"
            "\n"
            "Limits (sizes in bytes, K/M/G suffixes allowed; see protocol/limits.md):\n",
            d.host, d.port, d.db_path);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        fprintf(out, "  %-24s %s (default ", options[i].name, options[i].help);
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

static int set_option(hub_config *c, const struct option *o, const char *value)
{
    char *p = (char *)c + o->offset;
    double v;

    if (parse_number(value, o->kind == SIZE, &v) != 0)
        return -1;
    switch (o->kind) {
    case SIZE:
    case COUNT:
        if (v != (double)(size_t)v || v < 1)
            return -1;
        if (o->offset == offsetof(hub_config, milestone_every))
            *(int64_t *)p = (int64_t)v;
        else
            *(size_t *)p = (size_t)v;
        return 0;
    case SECS:
        if (v != (int)v || v < 1 || v > 65535)
            return -1;
        *(int *)p = (int)v;
        return 0;
    case RATE:
        if (v <= 0)
            return -1;
        *(double *)p = v;
        return 0;
    }
    return -1;
}

static int parse_listen(hub_config *c, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    char *end;
    long port;

    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof c->host)
        return -1;
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memcpy(c->host, arg, (size_t)(colon - arg));
    c->host[colon - arg] = '\0';
    c->port = (int)port;
    return 0;
}

int cli_serve(int argc, char **argv)
{
    hub_config c;

    hub_config_defaults(&c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t k;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "konsil serve: %s needs a value (see --help)\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            if (parse_listen(&c, v) != 0) {
                fprintf(stderr, "konsil serve: --listen wants HOST:PORT, got '%s'\n", v);
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--db") == 0) { c.db_path = v; continue; }
        if (strcmp(a, "--web") == 0) { c.web_dir = v; continue; }
        if (strcmp(a, "--tls-cert") == 0) { c.tls_cert = v; continue; }
        if (strcmp(a, "--tls-key") == 0) { c.tls_key = v; continue; }
        if (strcmp(a, "--templates") == 0) { c.templates_dir = v; continue; }
        if (strcmp(a, "--public-origin") == 0) {
            if (auth_csrf_origin_normalise(v, c.public_origin, sizeof c.public_origin) != 0) {
                fprintf(stderr, "konsil serve: --public-origin wants http(s)://HOST[:PORT] "
                        "without a path, got '%s'\n", v);
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--master-key-file") == 0) { c.master_key_file = v; continue; }
        if (strcmp(a, "--keys") == 0) { c.keys_path = v; continue; }
        for (k = 0; k < N_OPTIONS; k++)
            if (strcmp(a, options[k].name) == 0)
                break;
        if (k == N_OPTIONS) {
            fprintf(stderr, "konsil serve: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (set_option(&c, &options[k], v) != 0) {
            fprintf(stderr, "konsil serve: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!c.tls_cert != !c.tls_key) {
        fprintf(stderr, "konsil serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (c.rx_buffer < HUB_RX_BUFFER_MIN) {
        fprintf(stderr, "konsil serve: --rx-buffer must be at least %d (a WebSocket control "
                "frame)\n", HUB_RX_BUFFER_MIN);
        return 2;
    }
    if (c.idle_secs <= c.ping_secs) {
        fprintf(stderr, "konsil serve: --idle-secs must be greater than --ping-secs\n");
        return 2;
    }
    return hub_run(&c);
}
