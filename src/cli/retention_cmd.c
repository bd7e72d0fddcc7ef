/*
 * `konsil retention run|list [--db FILE] [--keys FILE]` (protocol/retention.md), also
 * while the server runs:
 *
 *   run   what the server's retention job does, for cron: deletion dates settled for
 *         closed cases without one, then every closed case past its deletion date, not
 *         held and not restricted, erased, each in a transaction of its own, and every
 *         case whose data is sealed under a key the key store no longer has; then the
 *         WAL checkpointed and truncated. Prints one line per erased case.
 *   list  the officer's view, without any case's content: cases by deletion date
 *         (status, template and class, when closed, when due, held, restricted,
 *         inactive), the holds standing, the restrictions, the erasure requests waiting
 *         for confirmation, the erasures done. --json prints it as one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store_erase.h"
#include "store/store_retention.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil retention run [--db FILE] [--keys FILE]\n"
            "       konsil retention list [--json] [--inactive-days N] [--db FILE]\n\n"
            "  run    erases what is due now, as the server's retention job does (for cron):\n"
            "         closed cases past their deletion date that no legal hold keeps and that\n"
            "         are not restricted, and cases whose key is gone; one line per case\n"
            "  list   the officer's view: cases by deletion date, holds, restrictions,\n"
            "         erasure requests, erasures done; no case's content\n\n"
            "  --db FILE          the database (default konsil.db); it must exist\n"
            "  --keys FILE        its key store (default: the database's path + .keys)\n"
            "  --json             (list) one JSON object instead of the tables\n"
            "  --inactive-days N  (list) an open case without activity this long is listed\n"
            "                     as inactive (default 365, as for konsil serve)\n\n"
            "Exit status: 0, 1 on a database error (or a case that could not be erased),\n"
            "2 usage error.\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one STORE_CALL function on db in a transaction of its own; the finished job (the
 * caller frees it), or NULL (told). */
static store_job *call(sqlite3 *db, int (*fn)(sqlite3 *, store_job *), cJSON *in, int write)
{
    store_job *job = store_call_new(fn, write ? STORE_WRITER : STORE_READER, in);
    int rc;

    if (!job || sqlite3_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL) !=
                SQLITE_OK) {
        fprintf(stderr, "konsil retention: %s\n", job ? sqlite3_errmsg(db) : "out of memory");
        store_job_free(job);
        return NULL;
    }
    rc = fn(db, job);
    if (rc != 0 || job->err != STORE_ERR_NONE ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        fprintf(stderr, "konsil retention: %s%s%s\n", job->err_message[0] ? job->err_message :
                sqlite3_errmsg(db), job->error[0] ? ": " : "", job->error);
        store_job_free(job);
        return NULL;
    }
    return job;
}

static cJSON *input(int64_t now)
{
    cJSON *in = cJSON_CreateObject(), *actor = cJSON_AddObjectToObject(in, "actor");

    cJSON_AddStringToObject(actor, "id", "cli");
    cJSON_AddStringToObject(actor, "role", "cli");
    cJSON_AddNumberToObject(in, "now", (double)now);
    return in;
}

static int run(cli_db *d, const char *db_path)
{
    int64_t now = now_ms();
    store_job *listed, *job = call(d->db, store_api_retention_settle, input(now), 1);
    const char *const kinds[] = {"key_destroyed", "due"};
    const cJSON *e;
    char err[200];
    int rc = 0, erased = 0;

    if (!job)
        return 1;
    store_job_free(job);
    if (!(listed = call(d->db, store_api_erase_due_list, input(now), 0)))
        return 1;
    for (int k = 0; k < 2; k++)
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(listed->out, kinds[k])) {
            cJSON *in = input(now_ms());
            cJSON_AddStringToObject(in, "id", cJSON_GetStringValue(e));
            cJSON_AddStringToObject(in, "how", kinds[k]);
            job = call(d->db, store_api_erase_due, in, 1);
            if (!job) {
                rc = 1;
                continue;
            }
            if (cJSON_IsObject(job->out)) {
                printf("erased %s (%s)\n", e->valuestring, kinds[k]);
                erased++;
            }
            store_job_free(job);
        }
    store_job_free(listed);
    if (erased && store_erase_checkpoint(db_path, 200, err, sizeof err) != 0) {
        fprintf(stderr, "konsil retention run: %s\n", err);
        rc = 1;
    }
    return rc;
}

static void put_time(const cJSON *v)
{
    char text[32] = "-";
    time_t t;
    struct tm tm;

    if (cJSON_IsNumber(v)) {
        t = (time_t)(v->valuedouble / 1000);
        if (localtime_r(&t, &tm))
            strftime(text, sizeof text, "%Y-%m-%d", &tm);
    }
    printf("%-11s", text);
}

static const char *s(const cJSON *o, const char *k)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return v ? v : "";
}

static const cJSON *at(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void print_list(const cJSON *v)
{
    const cJSON *e;

    printf("Cases by deletion date\n%-37s %-10s %-28s %-11s %-11s %s\n", "case", "status",
           "template/class", "closed", "delete at", "notes");
    cJSON_ArrayForEach(e, at(v, "cases")) {
        char tc[64];
        snprintf(tc, sizeof tc, "%s v%d/%s", s(e, "template"),
                 (int)cJSON_GetNumberValue(at(e, "template_version")), s(e, "class"));
        printf("%-37s %-10s %-28s ", s(e, "id"), s(e, "status"), tc);
        put_time(at(e, "closed_at"));
        printf(" ");
        put_time(at(e, "delete_at"));
        printf(" %s%s%s%s\n", cJSON_IsTrue(at(e, "due")) ? "due " : "",
               cJSON_IsTrue(at(e, "held")) ? "held " : "",
               cJSON_IsTrue(at(e, "restricted")) ? "restricted " : "",
               cJSON_IsTrue(at(e, "inactive")) ? "inactive" : "");
    }
    printf("\nLegal holds\n");
    cJSON_ArrayForEach(e, at(v, "holds")) {
        printf("%-37s since ", s(e, "case_id"));
        put_time(at(e, "set_at"));
        printf(" until ");
        put_time(at(e, "until"));
        printf(" by %s: %s\n", s(e, "set_by"), s(e, "reason"));
    }
    printf("\nRestrictions\n");
    cJSON_ArrayForEach(e, at(v, "restrictions")) {
        printf("%-37s since ", s(e, "case_id"));
        put_time(at(e, "since"));
        printf(" by %s (was %s): %s\n", s(e, "by"), s(e, "from"), s(e, "reason"));
    }
    printf("\nErasure requests waiting for confirmation\n");
    cJSON_ArrayForEach(e, at(v, "requests")) {
        printf("%-37s asked ", s(e, "case_id"));
        put_time(at(e, "requested_at"));
        printf(" by %s: %s\n", s(e, "requested_by"), s(e, "reason"));
    }
    printf("\nErasures done\n");
    cJSON_ArrayForEach(e, at(v, "erasures")) {
        printf("%-37s erased ", s(e, "case_id"));
        put_time(at(e, "erased_at"));
        printf(" %-14s audit entry %d\n", s(e, "how"),
               (int)cJSON_GetNumberValue(at(e, "audit_seq")));
    }
}

int cli_retention(int argc, char **argv)
{
    const char *db_path = "konsil.db", *keys_path = NULL;
    long inactive_days = 365;
    int json = 0, list, rc;
    cli_db d;
    cJSON *out = NULL;

    if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "list") != 0)) {
        int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        if (!help && argc > 1)
            fprintf(stderr, "konsil retention: unknown command '%s'\n\n", argv[1]);
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    list = strcmp(argv[1], "list") == 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--db") == 0 && v) {
            db_path = argv[++i];
        } else if (strcmp(a, "--keys") == 0 && v) {
            keys_path = argv[++i];
        } else if (list && strcmp(a, "--json") == 0) {
            json = 1;
        } else if (list && strcmp(a, "--inactive-days") == 0 && v &&
                   (inactive_days = strtol(v, &end, 10)) >= 1 && end && !*end) {
            i++;
        } else {
            fprintf(stderr, "konsil retention %s: unexpected '%s'\n\n", argv[1], a);
            usage(stderr);
            return 2;
        }
    }
    if (cli_db_open(&d, list ? "retention list" : "retention run", db_path, NULL,
                    keys_path) != 0)
        return 1;
    if (!list) {
        rc = run(&d, db_path);
        cli_db_close(&d);
        return rc;
    }
    rc = store_retention_officer(d.db, now_ms(), inactive_days * 86400000LL, &out);
    cli_db_close(&d);
    if (rc != 0) {
        fprintf(stderr, "konsil retention list: the database could not answer\n");
        return 1;
    }
    if (json) {
        char *text = cJSON_PrintUnformatted(out);
        printf("%s\n", text ? text : "null");
        cJSON_free(text);
    } else {
        print_list(out);
    }
    cJSON_Delete(out);
    return 0;
}
