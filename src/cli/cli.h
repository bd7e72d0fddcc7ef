/*
 * Sub-commands of `konsil`. Each gets argv starting at its own name and returns the
 * process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef KONSIL_CLI_H
#define KONSIL_CLI_H

#include <stdio.h>

#include <sqlite3.h>

int cli_ot(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_audit(int argc, char **argv);
/* `konsil audit report` (argv[1] is "report"). */
int cli_audit_report(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_template(int argc, char **argv);
int cli_case(int argc, char **argv);
int cli_retention(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_check(int argc, char **argv);

/* Where the key store of a database being checked is (encryption at rest). */
typedef struct cli_check_keys {
    const char *path;           /* the key store; NULL: db_path + ".keys" */
    const char *db_path;        /* the database it belongs with */
    const char *master_file;    /* the master key; NULL: sealed contents go unchecked */
} cli_check_keys;

/* check_cmd.c: `konsil check`'s checks and report on an open database (read only, in one
 * read transaction), printed to out; `cmd` names the command in messages on stderr.
 * 0 sound, 1 problems found, -1 it cannot be read. */
int cli_check_db(sqlite3 *db, const char *cmd, const cli_check_keys *keys, FILE *out);

#endif
