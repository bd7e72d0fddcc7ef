/*
 * `konsil audit report ID [--format text|json] [--db FILE] [--master-key-file FILE]
 * [--keys FILE]`: who read and wrote what of a case, and when (ID a case's id, or one
 * of its sessions'), for the data-protection officer answering a client's request under
 * GDPR Art. 15 (the recipients of its data).
 * Read from the audit trail and the op log in one read transaction
 * (store_audit_report.h); the report itself is audited first (actor "cli", action
 * "audit.report", details {format}), in its own committed transaction, so no report
 * leaves without its trace. An unknown id writes nothing and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "cli/cli_db.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_audit_report.h"
#include "store/store_history.h"


static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil audit report ID [--format text|json] [--db FILE]\n"
            "                           [--master-key-file FILE] [--keys FILE]\n\n"
            "Who read and wrote what of a case, and when (ID: the case's id, or one of its\n"
            "sessions'): the recipients of the client's data a data-protection officer\n"
            "answers for under GDPR Art. 15. From the audit trail (every read that\n"
            "disclosed something of the case: the case sheet opened on /ws, history pages,\n"
            "snapshots, the lobby, exports, the client's copy; and everything else done to\n"
            "the case) and the op log (each author's changes, by part of the case sheet).\n"
            "People are named as the operator knows them, clients by the names they chose.\n\n"
            "  --format text   readable, one block per person (the default)\n"
            "  --format json   {case, people: [{id, name, role, specialty?, reads, other,\n"
            "                  writes}]} (protocol/access.md, \"The audit report\")\n"
            "  --db FILE       the database (default konsil.db); the server may be running\n"
            "  --master-key-file FILE, --keys FILE\n"
            "                  the master key and key store of a database whose case data\n"
            "                  is encrypted (as for konsil export; protocol/keystore.md)\n\n"
            "The report is recorded in the audit trail first (actor \"cli\", action\n"
            "\"audit.report\"). Exit status 0, 1 on an unknown id or a database error, 2 on a\n"
            "usage error.\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_time(FILE *out, double ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (gmtime_r(&secs, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        fprintf(out, "%s UTC", buf);
}

static const char *s_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double n_of(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* What one read disclosed, in words. */
static void put_read(FILE *out, const cJSON *e)
{
    const char *action = s_of(e, "action");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "details");
    int identified = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "identified"));

    fputs("    ", out);
    put_time(out, n_of(e, "ts"));
    fputs("  ", out);
    if (strcmp(action, "session.read.open") == 0)
        fputs("opened the case sheet (live)", out);
    else if (strcmp(action, "history.read") == 0)
        fprintf(out, "read the history, versions %.0f to %.0f%s", n_of(d, "from"), n_of(d, "to"),
                identified ? ", identified under a grant" : "");
    else if (strcmp(action, "snapshot.read") == 0)
        fprintf(out, "read the case sheet at version %.0f%s", n_of(d, "v"),
                identified ? ", identified under a grant" : "");
    else if (strcmp(action, "lobby.read") == 0)
        fprintf(out, "read the lobby (%d waiting)",
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "clients")));
    else if (strcmp(action, "export") == 0)
        fprintf(out, "exported the case (%s, %s)", s_of(d, "format") ? s_of(d, "format") : "?",
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "pseudonymised")) ?
                "pseudonymised" : "identified");
    else if (strcmp(action, "copy.read") == 0)
        fprintf(out, "took the client's copy (%s)",
                s_of(d, "for") && strcmp(s_of(d, "for"), "self") == 0 ? "its own" :
                "on the client's behalf");
    else if (strcmp(action, "client_view.read") == 0)
        fputs("read the sheet as the client sees it (print view)", out);
    else
        fputs(action, out);
    fputc('\n', out);
}

static void put_person(FILE *out, const cJSON *p)
{
    const cJSON *e, *w = cJSON_GetObjectItemCaseSensitive(p, "writes");
    const char *name = s_of(p, "name"), *role = s_of(p, "role"), *spec = s_of(p, "specialty");
    int n = 0;

    fprintf(out, "%s (%s%s%s) — %s\n", name ? name : "(unknown)", role ? role : "unknown",
            spec ? ", " : "", spec ? spec : "", s_of(p, "id"));
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "reads")) > 0) {
        fputs("  read:\n", out);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "reads"))
            put_read(out, e);
    }
    if (cJSON_IsObject(w)) {
        fprintf(out, "  wrote: %.0f change%s, versions %.0f to %.0f, ", n_of(w, "ops"),
                n_of(w, "ops") == 1 ? "" : "s", n_of(w, "first_v"), n_of(w, "last_v"));
        put_time(out, n_of(w, "first"));
        fputs(" to ", out);
        put_time(out, n_of(w, "last"));
        fputs(", in:", out);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(w, "parts"))
            fprintf(out, "%s %s (%.0f)", n++ ? "," : "", e->string, e->valuedouble);
        fputc('\n', out);
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "other")) > 0) {
        fputs("  other:\n", out);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "other")) {
            fputs("    ", out);
            put_time(out, n_of(e, "ts"));
            fprintf(out, "  %s\n", s_of(e, "action"));
        }
    }
    fputc('\n', out);
}

static void put_text(FILE *out, const cJSON *r, const char *db_path)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "case"), *p;

    fprintf(out, "Audit report of case %s \"%s\" (%s), opened ", s_of(c, "id"), s_of(c, "title"),
            s_of(c, "status"));
    put_time(out, n_of(c, "created_at"));
    fputs("\nMade ", out);
    put_time(out, (double)now_ms());
    fprintf(out, " from the audit trail and the op log of %s.\n\n", db_path);
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "people"))
        put_person(out, p);
}

/* Records the report on the case id names, committed. 0, 1 (no such case), -1. */
static int record_report(sqlite3 *db, const char *id, int json)
{
    cJSON *details = cJSON_CreateObject();
    char case_id[64], err[256] = "";
    int found, rc = -1;

    cJSON_AddStringToObject(details, "format", json ? "json" : "text");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    found = store_history_case_of(db, id, case_id);
    if (found == 1 && store_audit_append(db, now_ms(), "cli", "audit.report", case_id, details,
                                         err, sizeof err) == 0 &&
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        rc = 0;
    } else {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rc = found == 0 ? 1 : -1;
    }
done:
    if (rc < 0)
        fprintf(stderr, "konsil audit: the report could not be audited: %s\n",
                err[0] ? err : sqlite3_errmsg(db));
    cJSON_Delete(details);
    return rc;
}

int cli_audit_report(int argc, char **argv)
{
    const char *id = NULL, *db_path = "konsil.db", *master = NULL, *keys = NULL;
    char err[256] = "";
    int json = 0, rc;
    cJSON *report = NULL;
    cli_db d;
    sqlite3 *db;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "text") == 0 || strcmp(argv[i + 1], "json") == 0)) {
            json = strcmp(argv[++i], "json") == 0;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
        } else if (strcmp(argv[i], "--master-key-file") == 0 && i + 1 < argc) {
            master = argv[++i];
        } else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            keys = argv[++i];
        } else if (argv[i][0] != '-' && !id) {
            id = argv[i];
        } else {
            fprintf(stderr, "konsil audit report: unexpected '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!id) {
        usage(stderr);
        return 2;
    }
    if (cli_db_open(&d, "audit report", db_path, master, keys) != 0)
        return 1;
    if (d.keys && !store_keys_unlocked(d.keys)) {
        fprintf(stderr, "konsil audit report: %s: the case data is encrypted: give its master "
                "key (--master-key-file)\n", db_path);
        cli_db_close(&d);
        return 1;
    }
    db = d.db;
    rc = record_report(db, id, json);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "konsil audit report: no case or session %s\n", id);
        cli_db_close(&d);
        return 1;
    }
    rc = 1;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
        store_audit_report(db, id, &report, err, sizeof err) == 0) {
        if (json) {
            char *text = cJSON_PrintUnformatted(report);
            if (text && puts(text) >= 0)
                rc = 0;
            free(text);
        } else {
            put_text(stdout, report, db_path);
            rc = 0;
        }
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == 0 && fflush(stdout) != 0)
        rc = 1;
    if (rc != 0)
        fprintf(stderr, "konsil audit report: %s\n", err[0] ? err : "the report could not be written");
    cJSON_Delete(report);
    cli_db_close(&d);
    return rc;
}
