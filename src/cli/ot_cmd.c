/*
 * `konsil ot`: the json0 engine as a line filter. Reads one JSON request per line on
 * stdin and writes exactly one JSON answer line per request on stdout, in order; survives
 * every input line. Used by differential tests against ot-json0 and by client authors.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ot/ot_request.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil ot\n\n"
            "Reads JSON lines on stdin and answers one JSON line each on stdout:\n"
            "  {\"fn\":\"apply\",\"args\":[doc,op]}\n"
            "  {\"fn\":\"transform\",\"args\":[op,other,\"left\"|\"right\"]}\n"
            "  {\"fn\":\"compose\",\"args\":[op1,op2]}\n"
            "  {\"fn\":\"invert\",\"args\":[op]}\n"
            "  {\"fn\":\"normalize\",\"args\":[op]}\n"
            "Answers are {\"result\":...} or {\"error\":\"message\"}. String offsets count\n"
            "UTF-16 code units. See protocol/json0.md.\n");
}

int cli_ot(int argc, char **argv)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *reply = ot_request_handle(line, (size_t)len);
        if (!reply) {
            fputs("{\"error\":\"out of memory\"}\n", stdout);
        } else {
            fputs(reply, stdout);
            fputc('\n', stdout);
            free(reply);
        }
        if (fflush(stdout) != 0) {
            status = 1;
            break;
        }
    }
    free(line);
    return status;
}
