/*
 * The `konsil` command: dispatches to one sub-command per concept (src/cli/).
 * Each sub-command parses its own options and returns the process exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"ot", cli_ot, "json0 engine on JSON lines: stdin requests, stdout answers"},
    {"serve", cli_serve, "the hub: ShareDB over WebSocket, REST API, static files, op log"},
    {"user", cli_user, "accounts: add, list, disable, enable, passwd, totp-reset"},
    {"audit", cli_audit, "the audit trail: head (a checkpoint), verify, report (who read and wrote what)"},
    {"template", cli_template, "case-sheet templates: list, show, add (versioned)"},
    {"export", cli_export, "a case's history as JSON lines or a Markdown report"},
    {"case", cli_case, "a case: erase (on request, confirmed by a second staff member)"},
    {"retention", cli_retention, "retention: run (erase what is due, for cron), list"},
    {"keys", cli_keys, "the key store of encryption at rest: rotate the master key"},
    {"backup", cli_backup, "a consistent copy of the database, also while the server runs"},
    {"restore", cli_restore, "a backup checked and put in place as a new database"},
    {"check", cli_check, "integrity, audit chain and op log of a database"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: konsil COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`konsil COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "konsil: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
