/*
 * Unit tests for src/store/store_history.c on a real database: the page shape, paging
 * with `next`, projection for a client (hidden ops stay as empty ops), authors, the
 * start from a milestone rather than version 0, and refusals (non-members, versions
 * beyond the log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/template.h"
#include "doc/doc.h"
#include "store/store.h"
#include "store/store_history.h"
#include "unit.h"

extern const char template_default_json[];

static char path[256];
static store *s;
static char *last_text;      /* the latest text() result, freed by the next call */

static void exec(sqlite3 *db, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = NULL;

    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
}

/* Case "s1" (with its session "s1", as a migrated session has) led by "u-lead" (debt)
 * with client "c-1": v0 create, v1 a lead's internal
 * note, v2 the client's concern, v3..v11 the lead's concern; a milestone at v10 that
 * says "from the milestone", so reads that start there show it. */
static void setup(void)
{
    auth_error err = {{0}};
    template_spec *t = template_default(&err);
    cJSON *create = cJSON_CreateObject(), *doc;
    char *text, *ms;
    sqlite3 *db;
    store_config cfg = {.path = path, .busy_timeout_ms = 1000, .max_batch = 64};
    char e[256];

    snprintf(path, sizeof path, "/tmp/konsil-test-history-%d.db", (int)getpid());
    unlink(path);
    CHECK(store_open(&cfg, &s, e, sizeof e) == 0);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    exec(db, "INSERT INTO users (id, username, display_name, role, specialty, password, "
         "disabled, created_at) VALUES ('u-lead', 'lead', 'Lea', 'counsellor', 'debt', 'x', 0, 0)",
         NULL, NULL);
    exec(db, "INSERT INTO users (id, username, display_name, role, specialty, password, "
         "disabled, created_at) VALUES ('u-out', 'out', 'Out', 'counsellor', NULL, 'x', 0, 0)",
         NULL, NULL);
    exec(db, "INSERT INTO templates (name, version, text, added_at, added_by) VALUES"
         " ('default', 1, ?1, 0, 'konsil')", template_default_json, NULL);
    exec(db, "INSERT INTO cases (id, title, template_name, template_version, status, created_at,"
         " created_by) VALUES ('s1', 'T', 'default', 1, 'open', 0, 'u-lead')", NULL, NULL);
    exec(db, "INSERT INTO team (case_id, user_id, role, added_at, added_by) VALUES"
         " ('s1', 'u-lead', 'lead', 0, 'u-lead')", NULL, NULL);
    exec(db, "INSERT INTO sessions (id, case_id, started_at, started_by, start_v) VALUES"
         " ('s1', 's1', 0, 'u-lead', 0)", NULL, NULL);
    exec(db, "INSERT INTO clients VALUES ('c-1', 's1', 'l', 'Frau K.', 'admitted', 0)", NULL, NULL);
    cJSON_AddStringToObject(create, "type", DOC_TYPE_URI);
    cJSON_AddItemToObject(create, "data", cJSON_Duplicate(template_document(t), 1));
    text = cJSON_PrintUnformatted(create);
    exec(db, "INSERT INTO ops VALUES ('s1', 0, 1, 'konsil', 1, 1000, 'u-lead', ?1)", text, NULL);
    free(text);
    exec(db, "INSERT INTO ops VALUES ('s1', 1, 0, 'a', 1, 1001, 'u-lead', "
         "'[{\"p\":[\"internal\",\"notes\",0],\"li\":\"secret\"}]')", NULL, NULL);
    exec(db, "INSERT INTO ops VALUES ('s1', 2, 0, 'b', 1, 1002, 'c-1', "
         "'[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"k\"}]')", NULL, NULL);
    for (int v = 3; v < 12; v++) {
        char sql[200];
        snprintf(sql, sizeof sql, "INSERT INTO ops VALUES ('s1', %d, 0, 'a', %d, %d, 'u-lead', "
                 "'[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"L\"}]')", v, v, 1000 + v);
        exec(db, sql, NULL, NULL);
    }
    doc = cJSON_Duplicate(template_document(t), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "concern"),
                                           "own_words", cJSON_CreateString("from the milestone"));
    ms = cJSON_PrintUnformatted(doc);
    exec(db, "INSERT INTO milestones VALUES ('s1', 10, 1010, 'json0', ?1)", ms, NULL);
    free(ms);
    cJSON_Delete(doc);
    cJSON_Delete(create);
    template_free(t);
    sqlite3_close(db);
}

/* Runs a history (snapshot when `snapshot`) read for actor {id, session?}. */
static store_job *read_as(int snapshot, const char *actor, const char *bound, const char *args)
{
    cJSON *in = cJSON_Parse(args), *a = cJSON_AddObjectToObject(in, "actor");
    store_job *job;

    cJSON_AddStringToObject(in, "id", "s1");
    if (bound)      /* a client reads its session's part of the case */
        cJSON_AddTrueToObject(in, "of_session");
    cJSON_AddStringToObject(a, "id", actor);
    cJSON_AddStringToObject(a, "role", bound ? "client" : "counsellor");
    if (bound)
        cJSON_AddStringToObject(a, "session", bound);
    job = store_call_new(snapshot ? store_history_snapshot : store_history_read, STORE_READER, in);
    store_run_now(s, job);
    return job;
}

/* The read's answer (job->out) as printed text, for searching. */
static const char *text(store_job *job)
{
    free(last_text);
    last_text = job->out ? cJSON_PrintUnformatted(job->out) : NULL;
    return last_text ? last_text : "";
}

static cJSON *body(store_job *job)
{
    return job->out;
}

/* The call answered (it neither refused nor failed). */
static int answered(const store_job *job)
{
    return job->status == STORE_OK && job->err == STORE_ERR_NONE && job->out;
}

static const cJSON *at(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void test_pages(void)
{
    store_job *job = read_as(0, "u-lead", NULL, "{\"from\":0,\"page\":4,\"page_bytes\":1000000}");
    cJSON *b = body(job);
    const cJSON *ops = at(b, "ops"), *first = cJSON_GetArrayItem(ops, 0);

    CHECK(answered(job));
    CHECK(cJSON_IsNull(at(at(b, "snapshot"), "data")));
    CHECK(at(at(b, "snapshot"), "v")->valuedouble == 0);
    CHECK(cJSON_GetArraySize(ops) == 4);
    CHECK(at(b, "next")->valuedouble == 4);
    CHECK(at(first, "create") && !at(first, "op"));
    CHECK_STR(cJSON_GetStringValue(at(at(first, "author"), "name")), "Lea");
    CHECK_STR(cJSON_GetStringValue(at(at(first, "author"), "specialty")), "debt");
    CHECK(at(first, "ts")->valuedouble == 1000);
    CHECK(strstr(text(job), "secret") != NULL);
    CHECK(at(job->audit, "to")->valuedouble == 4 && at(job->audit, "from")->valuedouble == 0);
    store_job_free(job);
    /* `to` ends the last page; next is null there. */
    job = read_as(0, "u-lead", NULL, "{\"from\":8,\"to\":11,\"page\":4}");
    b = body(job);
    CHECK(cJSON_GetArraySize(at(b, "ops")) == 3 && cJSON_IsNull(at(b, "next")));
    store_job_free(job);
    /* One op always fits, however small the byte bound. */
    job = read_as(0, "u-lead", NULL, "{\"from\":3,\"page\":100,\"page_bytes\":1}");
    b = body(job);
    CHECK(cJSON_GetArraySize(at(b, "ops")) == 1 && at(b, "next")->valuedouble == 4);
    store_job_free(job);
}

static void test_client_projection(void)
{
    store_job *job = read_as(0, "c-1", "s1", "{\"from\":0,\"to\":3}");
    cJSON *b = body(job);
    const cJSON *ops = at(b, "ops"), *create = at(cJSON_GetArrayItem(ops, 0), "create");
    const cJSON *hidden = at(cJSON_GetArrayItem(ops, 1), "op");
    const cJSON *own = cJSON_GetArrayItem(ops, 2);

    CHECK(answered(job));
    CHECK(strstr(text(job), "secret") == NULL && strstr(text(job), "internal") == NULL);
    CHECK(!at(at(create, "data"), "internal") && at(at(create, "data"), "concern"));
    CHECK(cJSON_IsArray(hidden) && cJSON_GetArraySize(hidden) == 0);
    CHECK_STR(cJSON_GetStringValue(at(at(own, "author"), "role")), "client");
    CHECK_STR(cJSON_GetStringValue(at(at(own, "author"), "name")), "Frau K.");
    CHECK(cJSON_IsNull(at(at(own, "author"), "specialty")));
    store_job_free(job);
}

static void test_milestone(void)
{
    store_job *job = read_as(0, "u-lead", NULL, "{\"from\":10}");
    cJSON *b = body(job);

    CHECK(answered(job));
    CHECK_STR(cJSON_GetStringValue(at(at(at(at(b, "snapshot"), "data"), "concern"), "own_words")),
              "from the milestone");
    store_job_free(job);
    job = read_as(1, "c-1", "s1", "{\"v\":11}");
    b = body(job);
    CHECK(answered(job) && at(b, "v")->valuedouble == 11);
    CHECK_STR(cJSON_GetStringValue(at(at(at(b, "data"), "concern"), "own_words")),
              "Lfrom the milestone");
    store_job_free(job);
    job = read_as(1, "u-lead", NULL, "{\"v\":3}");
    b = body(job);
    CHECK_STR(cJSON_GetStringValue(at(at(at(b, "data"), "concern"), "own_words")), "k");
    store_job_free(job);
}

static void test_refusals(void)
{
    store_job *job = read_as(0, "u-out", NULL, "{\"from\":0}");

    CHECK(job->err == STORE_ERR_NOT_FOUND && !job->err_code && !job->out && !job->audit);
    CHECK_STR(job->err_message, "no such case");
    store_job_free(job);
    job = read_as(1, "c-1", "s2", "{}");
    CHECK(job->err == STORE_ERR_NOT_FOUND && !job->out);
    store_job_free(job);
    job = read_as(0, "u-lead", NULL, "{\"from\":13}");
    CHECK(job->err == STORE_ERR_VERSION_RANGE && !job->out);
    CHECK_STR(job->err_message, "from is beyond the latest version (12)");
    store_job_free(job);
    job = read_as(1, "u-lead", NULL, "{\"v\":13}");
    CHECK(job->err == STORE_ERR_VERSION_RANGE);
    store_job_free(job);
    job = read_as(0, "u-lead", NULL, "{\"from\":12}");
    CHECK(answered(job) && cJSON_GetArraySize(at(body(job), "ops")) == 0);
    store_job_free(job);
}

int main(void)
{
    setup();
    RUN(test_pages);
    RUN(test_client_projection);
    RUN(test_milestone);
    RUN(test_refusals);
    free(last_text);
    store_close(s);
    unlink(path);
    strcat(path, "-wal");
    unlink(path);
    return unit_finish("test_store_history");
}
