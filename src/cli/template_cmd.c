/*
 * `konsil template list|show|add`: the case-sheet templates the server offers, straight
 * on the database (works while the server runs; a new version is offered to the next
 * case created). The shipped templates are added first, as the server does when it
 * starts (store_templates.h). `add` validates the file (protocol/access.md, "Templates")
 * and adds it as the next version of its name; a case keeps the version it started with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "auth/template.h"
#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_templates.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil template list [--db FILE]\n"
            "       konsil template show NAME [--version N] [--db FILE]\n"
            "       konsil template add FILE [--db FILE]\n\n"
            "list   every version of every template: name, version, title, who added it\n"
            "       (konsil: shipped; cli: konsil template add; serve: --templates), when;\n"
            "       new cases take the latest version of a name\n"
            "show   a template's text (the latest version, or --version N)\n"
            "add    checks FILE (protocol/access.md, \"Templates\") and adds it as the next\n"
            "       version of its name; a file already stored as a version is not added\n"
            "       again. Exit status 1 when the file is not a valid template.\n"
            "The database defaults to konsil.db; the server may be running.\n");
}

/* Opens the database, migrates it and adds the shipped templates (in one transaction). */
static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    char err[300] = "";

    if (cli_db_refuse_postgres("template", path) != 0)
        return NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        store_schema_configure(db, 10000, err, sizeof err) != 0 ||
        store_schema_migrate(db, err, sizeof err) != 0 ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        store_templates_seed(db, now_ms(), err, sizeof err) != 0 ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "konsil template: %s: %s\n", path,
                err[0] ? err : db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int template_list(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT name, version, text, added_by, added_at FROM templates"
                           " ORDER BY name, version", -1, &st, NULL) != SQLITE_OK)
        return 1;
    printf("%-32s %-7s %-9s %-20s %s\n", "NAME", "VERSION", "ADDED_BY", "ADDED_AT", "TITLE");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *t = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "title"));
        time_t at = (time_t)(sqlite3_column_int64(st, 4) / 1000);
        char when[32];
        struct tm tm;
        if (!gmtime_r(&at, &tm) || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            snprintf(when, sizeof when, "?");
        printf("%-32s %-7d %-9s %-20s %s\n", sqlite3_column_text(st, 0),
               sqlite3_column_int(st, 1), sqlite3_column_text(st, 3), when, title ? title : "");
        cJSON_Delete(t);
    }
    sqlite3_finalize(st);
    return 0;
}

static int template_show(sqlite3 *db, const char *name, int version)
{
    sqlite3_stmt *st = NULL;
    int rc = 1;

    if (sqlite3_prepare_v2(db, version > 0 ?
                           "SELECT text FROM templates WHERE name = ?1 AND version = ?2" :
                           "SELECT text FROM templates WHERE name = ?1 ORDER BY version DESC"
                           " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (version > 0)
        sqlite3_bind_int(st, 2, version);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(text);
        fputs(text, stdout);
        if (len && text[len - 1] != '\n')
            fputc('\n', stdout);
        rc = 0;
    } else if (version > 0) {
        fprintf(stderr, "konsil template show: no version %d of '%s'\n", version, name);
    } else {
        fprintf(stderr, "konsil template show: no template '%s'\n", name);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The whole file, at most TEMPLATE_TEXT_MAX + 1 bytes (so a larger one is refused by
 * the parser's own limit). NULL when it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(TEMPLATE_TEXT_MAX + 2) : NULL;

    if (!buf) {
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, TEMPLATE_TEXT_MAX + 1, f);
    buf[*len] = '\0';
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int template_add(sqlite3 *db, const char *path)
{
    size_t len = 0;
    char *text = read_all(path, &len), err[300] = "", name[65] = "";
    int version = 0, rc;

    if (!text) {
        fprintf(stderr, "konsil template add: cannot read %s\n", path);
        return 1;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        free(text);
        fprintf(stderr, "konsil template add: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    rc = store_templates_add(db, text, len, STORE_TEMPLATE_CLI, now_ms(), &version, name,
                             err, sizeof err);
    free(text);
    if (rc < 0 || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        fprintf(stderr, "konsil template add: %s: %s\n", path, err[0] ? err : sqlite3_errmsg(db));
        return 1;
    }
    if (rc == 0)
        printf("%s version %d holds this text already\n", name, version);
    else
        printf("added %s version %d\n", name, version);
    return 0;
}

int cli_template(int argc, char **argv)
{
    const char *db_path = "konsil.db", *verb = argc > 1 ? argv[1] : NULL, *arg = NULL;
    int version = 0, rc;
    sqlite3 *db;

    if (!verb || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(verb ? stdout : stderr);
        return verb ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-' && !arg) {
            arg = a;
        } else if (strcmp(a, "--db") == 0 && v) {
            db_path = v;
            i++;
        } else if (strcmp(a, "--version") == 0 && v && strcmp(verb, "show") == 0 &&
                   (version = (int)strtol(v, &end, 10)) > 0 && *end == '\0') {
            i++;
        } else {
            fprintf(stderr, "konsil template: unexpected '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0 && strcmp(verb, "add") != 0) {
        fprintf(stderr, "konsil template: unknown command '%s' (see --help)\n", verb);
        return 2;
    }
    if ((strcmp(verb, "list") == 0) != !arg) {
        fprintf(stderr, "konsil template %s: %s (see --help)\n", verb,
                arg ? "takes no NAME" : strcmp(verb, "add") == 0 ? "FILE is required" :
                "NAME is required");
        return 2;
    }
    if (!(db = open_db(db_path)))
        return 1;
    rc = strcmp(verb, "list") == 0 ? template_list(db) :
         strcmp(verb, "show") == 0 ? template_show(db, arg, version) : template_add(db, arg);
    sqlite3_close(db);
    return rc;
}
