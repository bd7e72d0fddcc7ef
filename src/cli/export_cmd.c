/*
 * `konsil export ID [--format jsonl|md] [--pseudonymise] [--db FILE]`: a case's whole
 * history on stdout (ID a case's id, or one of its sessions'), for the operator
 * (protocol/export.md). Works while
 * the server runs: the export reads inside one read transaction (WAL: the server's
 * writer goes on), so it is one consistent state of the log.
 *
 * The export is audited (actor "cli", action "export", details {format, pseudonymised})
 * in its own committed transaction before anything is written out: no export leaves
 * without its trace. An unknown id writes nothing and exits 1.
 *
 * jsonl streams one line per op or event as store_history_export hands them over;
 * md collects them and writes a report: title, sessions, the team, the final case sheet
 * (top-level keys as headings, fields as lists) and a timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "auth/access_names.h"
#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_api.h"
#include "store/store_audit.h"
#include "store/store_history.h"

/* Longest value shown inline in the Markdown timeline. */
#define EXPORT_VALUE_MAX 120

typedef struct export_opts {
    const char *id;             /* as given: a case's id, or a session's */
    char case_id[64];           /* the case it names */
    const char *db_path;
    const char *master_key_file, *keys_path;
    int markdown;
    int pseudonymise;
} export_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil export ID [--format jsonl|md] [--pseudonymise] [--db FILE]\n"
            "                        [--master-key-file FILE] [--keys FILE]\n"
            "\n"
            "Writes a case's history to stdout (ID: the case's id, or one of its sessions'):\n"
            "every op with its version, time, author and session, and the case events\n"
            "(session.create, enter, leave, link.use, join, session.end, case.close, ...),\n"
            "in time order.\n"
            "  --format jsonl   one JSON object per line (the default)\n"
            "  --format md      a Markdown report: sessions, team, final case sheet, timeline\n"
            "  --pseudonymise   as a supervisor reads it: the client's identity fields and\n"
            "                   names as \"%s\", names the case knows replaced in\n"
            "                   text, and free text (the title too) masked unless the\n"
            "                   client's supervision consent stands\n"
            "  --db FILE        the database (default konsil.db); the server may be running\n"
            "  --master-key-file FILE, --keys FILE\n"
            "                   the master key and key store of a database whose case data\n"
            "                   is encrypted (as for konsil serve; protocol/keystore.md)\n"
            "The export is recorded in the audit trail (actor \"cli\"). Exit status 0, 1 on\n"
            "an unknown id or a database error, 2 on a usage error.\n",
            ACCESS_PSEUDONYM);
}

/* 0, 1 (--help shown), or 2 (usage error shown). */
static int parse(int argc, char **argv, export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->db_path = "konsil.db";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--pseudonymise") == 0) {
            o->pseudonymise = 1;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "jsonl") == 0 || strcmp(argv[i + 1], "md") == 0)) {
            o->markdown = strcmp(argv[++i], "md") == 0;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            o->db_path = argv[++i];
        } else if (strcmp(argv[i], "--master-key-file") == 0 && i + 1 < argc) {
            o->master_key_file = argv[++i];
        } else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            o->keys_path = argv[++i];
        } else if (argv[i][0] != '-' && !o->id) {
            o->id = argv[i];
        } else {
            fprintf(stderr, "konsil export: unexpected '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o->id) {
        usage(stderr);
        return 2;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records the export of the case o->id names (its id into o->case_id), committed. 0, 1
 * (no such case or session, nothing written), -1 (a message printed). */
static int audit_export(sqlite3 *db, export_opts *o)
{
    cJSON *details = cJSON_CreateObject();
    char err[200] = "";
    int found = 0, rc = -1;

    if (!details || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    found = store_history_case_of(db, o->id, o->case_id);
    cJSON_AddStringToObject(details, "format", o->markdown ? "md" : "jsonl");
    cJSON_AddBoolToObject(details, "pseudonymised", o->pseudonymise);
    if (found < 0)
        rc = -1;
    else if (!found)
        rc = 1;
    else if (store_audit_append(db, now_ms(), "cli", "export", o->case_id, details, err,
                                sizeof err) == 0 &&
             sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        rc = 0;
done:
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "konsil export: the audit entry could not be written%s%s\n",
                err[0] ? ": " : "", err);
    cJSON_Delete(details);
    return rc;
}

/* ---- jsonl -------------------------------------------------------------------------- */

static int emit_line(void *ctx, const cJSON *entry)
{
    char *text = cJSON_PrintUnformatted(entry);
    int rc = text && fputs(text, stdout) >= 0 && fputc('\n', stdout) != EOF ? 0 : -1;

    (void)ctx;
    cJSON_free(text);
    return rc;
}

/* ---- md ----------------------------------------------------------------------------- */

static int collect(void *ctx, const cJSON *entry)
{
    cJSON *copy = cJSON_Duplicate(entry, 1);

    return copy && cJSON_AddItemToArray(ctx, copy) ? 0 : -1;
}

static void put_time(FILE *out, double ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (gmtime_r(&secs, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        fprintf(out, "%s UTC", buf);
}

/* Text on one line: newlines and table-breaking characters become spaces. */
static void put_inline(FILE *out, const char *s, size_t max)
{
    size_t n = 0;

    for (; *s && n < max; s++, n++)
        fputc(*s == '\n' || *s == '\r' || *s == '|' ? ' ' : *s, out);
    if (*s)
        fputs("…", out);
}

/* A scalar or a short JSON text of any value, on one line. */
static void put_value(FILE *out, const cJSON *v)
{
    char *text;

    if (cJSON_IsString(v)) {
        put_inline(out, v->valuestring, EXPORT_VALUE_MAX);
        return;
    }
    text = cJSON_PrintUnformatted(v);
    put_inline(out, text ? text : "?", EXPORT_VALUE_MAX);
    cJSON_free(text);
}

static void put_path(FILE *out, const cJSON *p)
{
    const cJSON *e;
    int first = 1;

    cJSON_ArrayForEach(e, p) {
        if (cJSON_IsString(e))
            fprintf(out, "%s%s", first ? "" : ".", e->valuestring);
        else
            fprintf(out, "[%d]", e->valueint);
        first = 0;
    }
    if (first)
        fputs("(document)", out);
}

/* Fields as a nested list, indented by depth. */
static void put_fields(FILE *out, const cJSON *v, int depth)
{
    const cJSON *e;
    int i = 0;

    cJSON_ArrayForEach(e, v) {
        fprintf(out, "%*s- ", depth * 2, "");
        if (e->string)
            fprintf(out, "%s:", e->string);
        else
            fprintf(out, "%d.", ++i);
        if (cJSON_IsObject(e) || (cJSON_IsArray(e) && cJSON_GetArraySize(e) > 0)) {
            fputc('\n', out);
            put_fields(out, e, depth + 1);
        } else {
            fputc(' ', out);
            put_value(out, e);
            fputc('\n', out);
        }
    }
}

/* What one op component did, in words. */
static void put_component(FILE *out, const cJSON *c)
{
    static const char *const verbs[][2] = {
        {"si", "inserted text"}, {"sd", "deleted text"}, {"oi", "set"}, {"od", "removed"},
        {"li", "added"}, {"ld", "removed item"}, {"lm", "moved to"}, {"na", "added"},
    };
    int said = 0;

    put_path(out, cJSON_GetObjectItemCaseSensitive(c, "p"));
    fputs(":", out);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, verbs[i][0]);
        if (!v || (strcmp(verbs[i][0], "od") == 0 && cJSON_GetObjectItemCaseSensitive(c, "oi")))
            continue;
        fprintf(out, " %s “", verbs[i][1]);
        put_value(out, v);
        fputs("”", out);
        said = 1;
    }
    if (!said)
        fputs(" changed", out);
}

static void put_who(FILE *out, const cJSON *who)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "name"));
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "role"));
    const char *spec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "specialty"));

    fputs("**", out);
    put_inline(out, name ? name : "?", EXPORT_VALUE_MAX);
    fprintf(out, "** (%s%s%s)", role ? role : "unknown", spec ? ", " : "", spec ? spec : "");
}

static void put_timeline(FILE *out, const cJSON *entries)
{
    const cJSON *e, *op, *c;

    fputs("## Timeline\n\n", out);
    cJSON_ArrayForEach(e, entries) {
        int is_event = strcmp(cJSON_GetStringValue(
                                  cJSON_GetObjectItemCaseSensitive(e, "type")), "event") == 0;
        fputs("- ", out);
        put_time(out, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "ts")));
        fputs(" — ", out);
        put_who(out, cJSON_GetObjectItemCaseSensitive(e, is_event ? "actor" : "author"));
        if (is_event) {
            fprintf(out, " — event: %s\n", cJSON_GetStringValue(
                        cJSON_GetObjectItemCaseSensitive(e, "kind")));
            continue;
        }
        fprintf(out, " — v%d: ", cJSON_GetObjectItemCaseSensitive(e, "v")->valueint);
        if (cJSON_GetObjectItemCaseSensitive(e, "create")) {
            fputs("created the case sheet\n", out);
            continue;
        }
        if (cJSON_GetObjectItemCaseSensitive(e, "del")) {
            fputs("deleted the case sheet\n", out);
            continue;
        }
        op = cJSON_GetObjectItemCaseSensitive(e, "op");
        if (cJSON_GetArraySize(op) == 0)
            fputs("edited an identity field (pseudonymised)", out);
        cJSON_ArrayForEach(c, op) {
            if (c != op->child)
                fputs("; ", out);
            put_component(out, c);
        }
        fputc('\n', out);
    }
}

/* The team from the case meta; the clients as the export names them (about.clients:
 * their self-chosen names, or each the pseudonym, listed once). */
static void put_participants(FILE *out, const cJSON *meta, const cJSON *about)
{
    const cJSON *e;
    int pseudonyms = 0;

    fputs("## Participants\n\n", out);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "team")) {
        fputs("- ", out);
        put_who(out, e);
        fputs(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "lead")) ? " — lead\n" : "\n",
              out);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(about, "clients")) {
        int pseudonym = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "pseudonym"));
        if (pseudonym && pseudonyms++)
            continue;
        fputs("- **", out);
        put_inline(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name")),
                   EXPORT_VALUE_MAX);
        fputs(pseudonym ? "** (client, pseudonym)\n" : "** (client, name self-chosen)\n", out);
    }
    fputc('\n', out);
}

/* The case's sessions: when each ran and the versions edited during it. */
static void put_sessions(FILE *out, const cJSON *meta)
{
    const cJSON *e;

    fputs("## Sessions\n\n", out);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "sessions")) {
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "to");
        const cJSON *ended = cJSON_GetObjectItemCaseSensitive(e, "ended_at");
        fprintf(out, "- %s: ", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id")));
        put_time(out, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "started_at")));
        fputs(" to ", out);
        if (cJSON_IsNumber(ended))
            put_time(out, ended->valuedouble);
        else
            fputs("(running)", out);
        fprintf(out, ", versions %lld to ",
                (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "from")));
        if (cJSON_IsNumber(to))
            fprintf(out, "%lld\n", (long long)to->valuedouble);
        else
            fputs("now\n", out);
    }
    fputc('\n', out);
}

static void put_report(FILE *out, const export_opts *o, const cJSON *meta,
                       const cJSON *about, const cJSON *entries, const cJSON *final)
{
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(about, "title");
    const cJSON *closed = cJSON_GetObjectItemCaseSensitive(meta, "closed_at");
    const cJSON *e;
    int64_t head = 0;

    cJSON_ArrayForEach(e, entries)
        if (cJSON_GetObjectItemCaseSensitive(e, "v"))
            head = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "v")->valuedouble + 1;
    fputs("# ", out);
    put_inline(out, cJSON_GetStringValue(title) ? title->valuestring : "?", 200);
    fprintf(out, "\n\n- Case: %s\n- Opened: ", o->case_id);
    put_time(out, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "created_at")));
    fputs("\n- Closed: ", out);
    if (cJSON_IsNumber(closed))
        put_time(out, closed->valuedouble);
    else
        fputs("no (still open)", out);
    fprintf(out, "\n- Export: %s, ", o->pseudonymise ? "pseudonymised" : "identified");
    put_time(out, (double)now_ms());
    fputs("\n\n", out);
    put_sessions(out, meta);
    put_participants(out, meta, about);
    fprintf(out, "## Case sheet (version %lld)\n\n", (long long)head);
    cJSON_ArrayForEach(e, final) {
        fprintf(out, "### %s\n\n", e->string);
        if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
            if (cJSON_GetArraySize(e) == 0)
                fputs("(empty)\n", out);
            put_fields(out, e, 0);
        } else {
            put_value(out, e);
            fputc('\n', out);
        }
        fputc('\n', out);
    }
    put_timeline(out, entries);
}

/* ---- the command ---------------------------------------------------------------------- */

int cli_export(int argc, char **argv)
{
    export_opts o;
    cli_db d;
    sqlite3 *db;
    cJSON *entries = NULL, *final = NULL, *meta = NULL, *about = NULL;
    char err[200] = "";
    int rc = parse(argc, argv, &o), got;

    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (cli_db_open(&d, "export", o.db_path, o.master_key_file, o.keys_path) != 0)
        return 1;
    if (d.keys && !store_keys_unlocked(d.keys)) {
        fprintf(stderr, "konsil export: %s: the case data is encrypted: give its master key "
                "(--master-key-file)\n", o.db_path);
        cli_db_close(&d);
        return 1;
    }
    db = d.db;
    rc = audit_export(db, &o);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "konsil export: no case or session %s\n", o.id);
        cli_db_close(&d);
        return 1;
    }
    rc = 1;
    if (o.markdown && !(entries = cJSON_CreateArray()))
        goto done;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    got = store_history_export(db, o.case_id, o.pseudonymise, o.markdown ? collect : emit_line,
                               entries, &final, &about, err, sizeof err);
    if (got == 0 && o.markdown && store_case_meta(db, o.case_id, &meta) == 0 && meta) {
        put_report(stdout, &o, meta, about, entries, final);
        rc = 0;
    } else if (got == 0 && !o.markdown) {
        rc = 0;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == 0 && fflush(stdout) != 0)
        rc = 1;
done:
    if (rc != 0)
        fprintf(stderr, "konsil export: %s\n", err[0] ? err : "the export could not be written");
    cJSON_Delete(meta);
    cJSON_Delete(about);
    cJSON_Delete(final);
    cJSON_Delete(entries);
    cli_db_close(&d);
    return rc;
}
