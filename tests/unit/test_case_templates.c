/*
 * The templates Konsil ships (src/case/case_templates.h): each built-in text equals its
 * file in protocol/templates/ and parses; and, for every template and every rule in it,
 * every kind of principal (a client, a counsellor of each specialty and of none, the
 * lead, a supervisor, an admin) reads and writes at that rule's path exactly what the
 * rule's selectors say, read independently from the template's JSON here: the engine's
 * answer (access_can_read, access_check_write on a probe op, the snapshot access_view
 * gives it)
 * against the table. Then what the new templates are for, spelled out, and the case
 * sheet's own checks (case_sheet.h): a new case's meta, task owners, tasks per owner,
 * the next appointment. Runs from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/access_view.h"
#include "auth/access_rules.h"
#include "auth/access_write.h"
#include "auth/template.h"
#include "case/case_sheet.h"
#include "case/case_templates.h"
#include "unit.h"
#include "util/json_util.h"

typedef struct who {
    const char *label;
    auth_principal p;
} who;

static who people[AUTH_SPECIALTY_COUNT + 5];
static size_t n_people;

static void person(const char *label, auth_role role, auth_specialty s, bool lead)
{
    who *w = &people[n_people++];
    auth_error err = {{0}};

    w->label = label;
    if (auth_principal_init(&w->p, label, label, role, s, lead, &err) != 0) {
        fprintf(stderr, "principal %s: %s\n", label, err.message);
        abort();
    }
}

static void setup_people(void)
{
    static char names[AUTH_SPECIALTY_COUNT][32];

    person("client", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false);
    for (int s = AUTH_SPECIALTY_NONE; s < AUTH_SPECIALTY_COUNT; s++) {
        snprintf(names[s], sizeof names[s], "counsellor-%s", auth_specialty_name((auth_specialty)s));
        person(names[s], AUTH_ROLE_COUNSELLOR, (auth_specialty)s, false);
    }
    person("lead", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_NONE, true);
    person("supervisor", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);
    person("admin", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false);
}

/* Whether the selector names who, as protocol/access.md defines the selectors. */
static bool selected(const char *sel, const auth_principal *p)
{
    if (strcmp(sel, "client") == 0)
        return p->role == AUTH_ROLE_CLIENT;
    if (strcmp(sel, "counsellor") == 0)
        return p->role == AUTH_ROLE_COUNSELLOR;
    if (strcmp(sel, "lead") == 0)
        return p->role == AUTH_ROLE_COUNSELLOR && p->is_lead;
    if (strcmp(sel, "supervisor") == 0)
        return p->role == AUTH_ROLE_SUPERVISOR;
    if (strncmp(sel, "counsellor:", 11) == 0)
        return p->role == AUTH_ROLE_COUNSELLOR && p->specialty != AUTH_SPECIALTY_NONE &&
               strcmp(sel + 11, auth_specialty_name(p->specialty)) == 0;
    fprintf(stderr, "unknown selector %s\n", sel);
    abort();
}

/* Whether a selector of list names p. A conditioned selector ({"role", "if"}) grants
 * nothing without its consent, and no consent stands here. */
static bool any_selected(const cJSON *list, const auth_principal *p)
{
    const cJSON *s;

    cJSON_ArrayForEach(s, list)
        if (cJSON_IsString(s) && selected(s->valuestring, p))
            return true;
    return false;
}

static const cJSON *at_path(const cJSON *v, const cJSON *path)
{
    const cJSON *k;

    cJSON_ArrayForEach(k, path)
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k->valuestring) : NULL;
    return v;
}

/* A write that only the rule at path governs: a new key in an object, an item at the
 * end of an append-only list, at the start of another list; NULL for a leaf (the
 * rule's own key, replaced by a value of its type). */
static cJSON *probe_op(const cJSON *path, const cJSON *value, bool append_only)
{
    cJSON *op = cJSON_CreateArray(), *c = cJSON_CreateObject();
    cJSON *p = cJSON_Duplicate(path, 1);

    if (cJSON_IsObject(value)) {
        cJSON_AddItemToArray(p, cJSON_CreateString("konsil_probe"));
        cJSON_AddStringToObject(c, "oi", "probe");
    } else if (cJSON_IsArray(value)) {
        cJSON_AddItemToArray(p, cJSON_CreateNumber(append_only ? cJSON_GetArraySize(value) : 0));
        cJSON_AddStringToObject(c, "li", "probe");
    } else if (cJSON_IsString(value)) {
        cJSON_AddItemToObject(c, "od", cJSON_Duplicate(value, 1));
        cJSON_AddStringToObject(c, "oi", "probe");
    } else {
        cJSON_Delete(p);
        cJSON_Delete(c);
        cJSON_Delete(op);
        return NULL;
    }
    cJSON_AddItemToObject(c, "p", p);
    cJSON_AddItemToArray(op, c);
    return op;
}

/* Every rule of template text, for everyone: reading, writing and the projection agree
 * with the rule's selectors. */
static void rules_hold(const char *text)
{
    auth_error err = {{0}};
    template_spec *t = template_parse(text, strlen(text), &err);
    cJSON *json = cJSON_Parse(text);
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(json, "document"), *rule;
    int checked = 0;

    CHECK(t != NULL && json != NULL);
    if (!t || !json) {
        template_free(t);
        cJSON_Delete(json);
        return;
    }
    cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(json, "rules")) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(rule, "path");
        const cJSON *value = at_path(doc, path);
        bool append = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rule, "append_only"));
        cJSON *op = probe_op(path, value, append);
        char *where = cJSON_PrintUnformatted(path);

        for (size_t i = 0; i < n_people; i++) {
            const auth_principal *p = &people[i].p;
            bool reads = any_selected(cJSON_GetObjectItemCaseSensitive(rule, "read"), p);
            bool writes = any_selected(cJSON_GetObjectItemCaseSensitive(rule, "write"), p) &&
                          auth_principal_may_write(p);
            access_view v = {access_principal_set(p), 0};   /* its rules, no consent */
            access_frame none = {0, false, NULL};
            cJSON *view = access_view_snapshot(t, &v, &none, doc, &err);
            const cJSON *seen = cJSON_GetArraySize(path) ? at_path(view, path) : view;
            /* unreadable: gone, or only a container on the way to a readable part (the
             * root stays, empty for who reads nothing), or the empty place of a part it
             * reads only under a consent */
            bool hidden = seen == NULL || access_may_read_below(template_rules(t), v.roles, path) ||
                          (!cJSON_GetArraySize(path) && cJSON_GetArraySize(seen) == 0);
            bool ok = access_can_read(template_rules(t), p, path) == reads &&
                      access_can_write(template_rules(t), p, path) == writes &&
                      (reads ? seen != NULL : hidden);
            if (op) {
                auth_error werr = {{0}};
                ok = ok && (access_check_write(template_rules(t), p, op, doc, &werr) == 0) ==
                           writes;
            }
            if (!ok)
                fprintf(stderr, "  %s: rule %s, %s: reads %d writes %d expected\n",
                        template_name(t), where, people[i].label, reads, writes);
            CHECK(ok);
            cJSON_Delete(view);
            checked++;
        }
        free(where);
        cJSON_Delete(op);
    }
    CHECK(checked > 0);
    template_free(t);
    cJSON_Delete(json);
}

static void shipped_equal_their_files(void)
{
    const char *text;
    size_t n = 0;

    for (size_t i = 0; (text = case_templates_shipped(i)); i++, n++) {
        cJSON *built = cJSON_Parse(text), *file;
        char path[200], *disk;
        size_t len = 0;
        snprintf(path, sizeof path, "protocol/templates/%s.json",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(built, "name")));
        disk = unit_read_file(path, &len);
        file = disk ? cJSON_ParseWithLength(disk, len) : NULL;
        if (!file || !json_equal(file, built))
            fprintf(stderr, "  %s differs from its built-in text (scripts/embed-templates.js)\n",
                    path);
        CHECK(file && json_equal(file, built));
        cJSON_Delete(file);
        cJSON_Delete(built);
        free(disk);
    }
    CHECK(n == 3);
}

static void every_rule_of_every_template(void)
{
    const char *text;

    for (size_t i = 0; (text = case_templates_shipped(i)); i++)
        rules_hold(text);
}

static const who *find(const char *label)
{
    for (size_t i = 0; i < n_people; i++)
        if (strcmp(people[i].label, label) == 0)
            return &people[i];
    abort();
}

/* May label read / write at the path (a JSON array) of template name? */
static void expect(const char *name, const char *path_text, const char *label, bool reads,
                   bool writes)
{
    const char *text;
    cJSON *path = cJSON_Parse(path_text);

    for (size_t i = 0; (text = case_templates_shipped(i)); i++) {
        auth_error err = {{0}};
        template_spec *t = template_parse(text, strlen(text), &err);
        if (t && strcmp(template_name(t), name) == 0) {
            const auth_principal *p = &find(label)->p;
            access_view v = {access_principal_set(p), 0};   /* its rules, no consent */
            access_frame none = {0, false, NULL};
            cJSON *view = access_view_snapshot(t, &v, &none, template_document(t), &err);
            const cJSON *seen = at_path(view, path);
            /* it reads all of it: what it receives there is all there is */
            bool r = seen && json_equal(seen, at_path(template_document(t), path));
            bool w = access_can_write(template_rules(t), p, path);
            cJSON_Delete(view);
            if (r != reads || w != writes)
                fprintf(stderr, "  %s %s %s: read %d write %d\n", name, path_text, label, r, w);
            CHECK(r == reads && w == writes);
        }
        template_free(t);
    }
    cJSON_Delete(path);
}

static void what_the_new_templates_are_for(void)
{
    const char *debt = "schuldnerberatung-erstgespraech", *hpg = "hilfeplangespraech";

    /* The client supplies the budget and reads the creditors, never the assessment. */
    expect(debt, "[\"budget\",\"income\"]", "client", true, true);
    expect(debt, "[\"creditors\"]", "client", true, false);
    expect(debt, "[\"creditors\"]", "counsellor-debt", true, true);
    expect(debt, "[\"assessment\",\"strategy\"]", "client", false, false);
    expect(debt, "[\"assessment\",\"strategy\"]", "counsellor-debt", true, true);
    /* Other specialties see neither budget nor assessment; the lead reads both. */
    expect(debt, "[\"budget\"]", "counsellor-housing", false, false);
    expect(debt, "[\"assessment\"]", "lead", true, false);
    expect(debt, "[\"help_plan\",\"tasks\"]", "client", true, true);
    expect(debt, "[\"internal\"]", "client", false, false);
    expect(debt, "[\"person\",\"legal_name\"]", "counsellor-debt", true, true);
    expect(debt, "[\"person\",\"legal_name\"]", "counsellor-housing", true, false);
    /* Help-plan review: each specialty writes its own report, the client its view and
     * its agreement; child welfare stays with the family counsellors and the lead. */
    expect(hpg, "[\"reports\",\"housing\"]", "counsellor-housing", true, true);
    expect(hpg, "[\"reports\",\"housing\"]", "counsellor-debt", true, false);
    expect(hpg, "[\"reports\",\"housing\"]", "client", true, false);
    expect(hpg, "[\"review\",\"client_view\"]", "client", true, true);
    expect(hpg, "[\"review\",\"professional_view\"]", "client", true, false);
    expect(hpg, "[\"agreement\"]", "client", true, true);
    expect(hpg, "[\"agreement\"]", "lead", true, false);
    expect(hpg, "[\"internal\",\"child_welfare\"]", "counsellor-family", true, true);
    expect(hpg, "[\"internal\",\"child_welfare\"]", "counsellor-housing", false, false);
    expect(hpg, "[\"internal\",\"child_welfare\"]", "client", false, false);
    expect(hpg, "[\"internal\",\"child_welfare\"]", "supervisor", true, false);
    expect(hpg, "[\"internal\",\"notes\"]", "counsellor-housing", true, true);
}

/* ---- case_sheet.h ------------------------------------------------------------------------ */

static int team(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "u-team") == 0;
}

/* The owner check on op_text: 0 accepted, -1 refused (message in msg). */
static int owners(const char *op_text, char msg[160])
{
    cJSON *op = cJSON_Parse(op_text), *path = cJSON_Parse("[\"help_plan\",\"tasks\"]");
    int rc;

    msg[0] = '\0';
    rc = case_sheet_check_owners(path, op, team, NULL, msg, 160);
    cJSON_Delete(op);
    cJSON_Delete(path);
    return rc;
}

static void task_owners(void)
{
    char msg[160];

    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"a\",\"owner\":\"u-team\"}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"a\",\"owner\":\"client\"}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"a\",\"owner\":\"\"}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"a\",\"owner\":null}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"a\"}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"owner\":\"u-other\"}}]", msg) == -1);
    CHECK(strstr(msg, "component 0") && strstr(msg, "u-other") &&
          strstr(msg, "not a counsellor of this case's team"));
    CHECK(owners("[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"x\"},"
                 "{\"p\":[\"help_plan\",\"tasks\",2,\"owner\"],\"od\":\"\",\"oi\":\"u-x\"}]", msg) == -1);
    CHECK(strstr(msg, "component 1") != NULL);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",2,\"owner\"],\"od\":\"\",\"oi\":\"u-team\"}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",2,\"owner\"],\"od\":\"u-team\"}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",2,\"owner\"],\"oi\":7}]", msg) == -1);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",2,\"owner\",0],\"si\":\"u\"}]", msg) == -1);
    CHECK(strstr(msg, "set whole") != NULL);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",2,\"what\",0],\"si\":\"u\"}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\",0,1],\"lm\":0}]", msg) == 0);
    /* A task list or a help plan replaced whole carries its owners with it. */
    CHECK(owners("[{\"p\":[\"help_plan\",\"tasks\"],\"od\":[],\"oi\":[{\"owner\":\"u-x\"}]}]", msg) == -1);
    CHECK(owners("[{\"p\":[\"help_plan\"],\"od\":{},\"oi\":{\"tasks\":[{\"owner\":\"u-team\"},"
                 "{\"owner\":\"u-x\"}]}}]", msg) == -1);
    CHECK(owners("[{\"p\":[\"help_plan\"],\"od\":{},\"oi\":{\"tasks\":[{\"owner\":\"u-team\"}]}}]", msg) == 0);
    CHECK(owners("[{\"p\":[\"help\"],\"oi\":{\"tasks\":[{\"owner\":\"u-x\"}]}}]", msg) == 0);
}

static void new_sheet_and_lists(void)
{
    auth_error err = {{0}};
    template_spec *t = template_default(&err);
    cJSON *doc = t ? case_sheet_new(t, "case-1", "Familie B.", "Lea") : NULL;
    cJSON *mine = cJSON_CreateArray(), *tasks, *appts;
    const cJSON *next;

    CHECK(doc != NULL);
    if (!doc) {
        template_free(t);
        cJSON_Delete(mine);
        return;
    }
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(doc, "meta"), "case_id")), "case-1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(doc, "meta"), "title")), "Familie B.");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(doc, "meta"), "lead")), "Lea");
    tasks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "help_plan"),
                                             "tasks");
    cJSON_AddItemToArray(tasks, cJSON_Parse("{\"what\":\"a\",\"owner\":\"u1\",\"due\":\"2026-01-01\",\"done\":false}"));
    cJSON_AddItemToArray(tasks, cJSON_Parse("{\"what\":\"b\",\"owner\":\"u2\",\"due\":\"2026-01-01\",\"done\":false}"));
    cJSON_AddItemToArray(tasks, cJSON_Parse("{\"what\":\"c\",\"owner\":\"u1\",\"due\":\"2026-01-01\",\"done\":true}"));
    cJSON_AddItemToArray(tasks, cJSON_Parse("{\"what\":\"d\",\"owner\":\"u1\",\"due\":\"\",\"done\":false}"));
    CHECK(case_sheet_tasks_of(doc, template_tasks(t), "u1", "2026-02-01", mine) == 0);
    CHECK(cJSON_GetArraySize(mine) == 3);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mine, 0), "overdue")));
    CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mine, 1), "index")->valueint == 2);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mine, 1), "overdue")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mine, 2), "overdue")));
    appts = cJSON_GetObjectItemCaseSensitive(doc, "appointments");
    cJSON_AddItemToArray(appts, cJSON_Parse("{\"start\":\"2026-03-05T10:00\",\"status\":\"gebucht\"}"));
    cJSON_AddItemToArray(appts, cJSON_Parse("{\"start\":\"2026-03-01T09:00\",\"status\":\"abgesagt\"}"));
    cJSON_AddItemToArray(appts, cJSON_Parse("{\"start\":\"2026-03-02\",\"status\":\"gebucht\"}"));
    cJSON_AddItemToArray(appts, cJSON_Parse("{\"start\":\"2026-02-01T08:00\",\"status\":\"gebucht\"}"));
    next = case_sheet_next_appointment(doc, template_appointments(t), "2026-03-01T12:00");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(next, "start")), "2026-03-02");
    next = case_sheet_next_appointment(doc, template_appointments(t), "2026-03-02T12:00");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(next, "start")), "2026-03-02");
    CHECK(case_sheet_next_appointment(doc, template_appointments(t), "2026-03-06T00:00") == NULL);
    cJSON_Delete(mine);
    cJSON_Delete(doc);
    template_free(t);
}

static void list_paths_are_checked(void)
{
    static const char *const bad[] = {
        "\"tasks\": [\"meta\"]", "\"tasks\": []", "\"tasks\": [\"nope\"]",
        "\"appointments\": [\"meta\", \"title\"]", "\"appointments\": \"appointments\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        auth_error err = {{0}};
        template_spec *t;
        snprintf(text, sizeof text, "{\"name\":\"t\",\"title\":\"T\",\"document\":{\"meta\":"
                 "{\"title\":\"\"},\"appointments\":[]},\"rules\":[{\"path\":[],\"read\":[],"
                 "\"write\":[]}],%s}", bad[i]);
        t = template_parse(text, strlen(text), &err);
        CHECK(t == NULL && (strstr(err.message, "\"tasks\"") ||
                            strstr(err.message, "\"appointments\"")));
        template_free(t);
    }
}

int main(void)
{
    setup_people();
    RUN(shipped_equal_their_files);
    RUN(every_rule_of_every_template);
    RUN(what_the_new_templates_are_for);
    RUN(task_owners);
    RUN(new_sheet_and_lists);
    RUN(list_paths_are_checked);
    return unit_finish("test_case_templates");
}
