/*
 * Access decisions over the default template: what each principal's rules give it of a
 * snapshot and of each op (access_view.h read by the rules alone: no consent, no
 * reading mode — test_access_view.c has those), which ops it may submit, which presence
 * reaches it. Every boundary of protocol/access.md is crossed here by a principal that
 * must not cross it. (That projected snapshots and ops never drift apart is
 * test_access_view_props.c's, for every reading mode and consent state.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/access_view.h"
#include "auth/access_write.h"
#include "auth/template.h"
#include "ot/json0.h"
#include "unit.h"
#include "util/json_util.h"

static template_spec *tpl;
static const access_rules *R;
static auth_principal client, debt, migration, lead, plain, supervisor, admin;
static char last_error[AUTH_ERROR_MAX];

static cJSON *J(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!v) {
        fprintf(stderr, "test JSON does not parse: %s\n", text);
        abort();
    }
    return v;
}

static void make_principal(auth_principal *p, const char *id, auth_role role,
                           auth_specialty s, bool is_lead)
{
    auth_error err = {{0}};
    if (auth_principal_init(p, id, id, role, s, is_lead, &err) != 0) {
        fprintf(stderr, "principal %s: %s\n", id, err.message);
        abort();
    }
}

/* Checks op_text for who against *doc and applies it when accepted. Returns 0 when
 * accepted and applied, -1 when refused (message in last_error), -2 when accepted but
 * json0 refused to apply it. */
static int submit(const auth_principal *who, cJSON **doc, const char *op_text)
{
    cJSON *op = J(op_text);
    auth_error err = {{0}};
    int rc = access_check_write(R, who, op, *doc, &err);
    snprintf(last_error, sizeof last_error, "%s", err.message);
    if (rc == 0) {
        ot_error oerr = {{0}};
        if (ot_apply(doc, op, &oerr) != 0) {
            fprintf(stderr, "  accepted op does not apply: %s: %s\n", op_text, oerr.message);
            rc = -2;
        }
    }
    cJSON_Delete(op);
    return rc;
}

#define ACCEPTS(who, doc, op) do { \
        int rc_ = submit(&(who), (doc), (op)); \
        if (rc_ != 0) fprintf(stderr, "  refused: %s\n", last_error); \
        CHECK(rc_ == 0); \
    } while (0)

#define REFUSES(who, doc, op, fragment) do { \
        CHECK(submit(&(who), (doc), (op)) == -1); \
        if (!strstr(last_error, (fragment))) \
            fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", last_error, (fragment)); \
        CHECK(strstr(last_error, (fragment)) != NULL); \
    } while (0)

static cJSON *fresh_doc(void)
{
    return cJSON_Duplicate(template_document(tpl), 1);
}

/* A case sheet with something in every corner, each marked with a word a leak would
 * show. */
static cJSON *populated_doc(void)
{
    cJSON *doc = fresh_doc();
    ACCEPTS(debt, &doc, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"text\":\"SECRET-INTERNAL\"}}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"SECRET-DEBT\"}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"SUMMARY-DEBT\"}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"situation\",\"assessment\",0],\"si\":\"SECRET-ASSESSMENT\"}]");
    ACCEPTS(migration, &doc, "[{\"p\":[\"sections\",\"migration\",\"notes\",0],\"li\":\"SECRET-MIGRATION\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"person\",\"legal_name\",0],\"si\":\"PERSON-NAME\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"CONCERN-TEXT\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"chat\",0],\"li\":{\"text\":\"hello\"}}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"bring letters\",\"done\":false}}]");
    return doc;
}

static bool text_contains(const cJSON *v, const char *word)
{
    char *text = cJSON_PrintUnformatted(v);
    bool found = text && strstr(text, word) != NULL;
    cJSON_free(text);
    return found;
}

/* What who's rules give it: its selectors, values as they are, no consent given. */
static const access_frame no_consent = {0, false, NULL};

static access_view rules_of(const auth_principal *who)
{
    access_view v = {access_principal_set(who), 0};
    return v;
}

static cJSON *snapshot_for(const auth_principal *who, const cJSON *doc)
{
    auth_error err = {{0}};
    access_view v = rules_of(who);
    cJSON *s = access_view_snapshot(tpl, &v, &no_consent, doc, &err);
    if (!s) fprintf(stderr, "  projection failed: %s\n", err.message);
    return s;
}

static cJSON *op_for(const auth_principal *who, const char *op_text)
{
    cJSON *op = J(op_text);
    auth_error err = {{0}};
    access_view v = rules_of(who);
    cJSON *p = access_view_op(tpl, &v, &no_consent, NULL, NULL, op, &err);
    if (!p) fprintf(stderr, "  op projection failed: %s\n", err.message);
    cJSON_Delete(op);
    return p;
}

static bool path_in(const cJSON *doc, const char *path_text)
{
    cJSON *path = J(path_text);
    const cJSON *v = doc;
    for (const cJSON *e = path->child; v && e; e = e->next)
        v = cJSON_IsString(e) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring)
                              : cJSON_GetArrayItem(v, e->valueint);
    cJSON_Delete(path);
    return v != NULL;
}

static bool op_equals(const cJSON *op, const char *expected)
{
    cJSON *e = J(expected);
    bool eq = json_equal(op, e);
    if (!eq) {
        char *got = cJSON_PrintUnformatted(op);
        fprintf(stderr, "  op: expected %s, got %s\n", expected, got ? got : "(null)");
        cJSON_free(got);
    }
    cJSON_Delete(e);
    return eq;
}

/* ---- snapshots ------------------------------------------------------------------- */

static void client_snapshot_hides_internal_and_sections(void)
{
    cJSON *doc = populated_doc();
    cJSON *s = snapshot_for(&client, doc);
    CHECK(s != NULL);
    CHECK(!text_contains(s, "SECRET"));
    CHECK(!path_in(s, "[\"internal\"]"));
    CHECK(!path_in(s, "[\"situation\",\"assessment\"]"));
    CHECK(!path_in(s, "[\"sections\",\"debt\",\"notes\"]"));
    CHECK(path_in(s, "[\"sections\",\"debt\",\"client_summary\"]"));
    CHECK(path_in(s, "[\"sections\",\"addiction\",\"client_summary\"]"));
    CHECK(text_contains(s, "SUMMARY-DEBT"));
    CHECK(text_contains(s, "PERSON-NAME"));
    CHECK(text_contains(s, "CONCERN-TEXT"));
    CHECK(path_in(s, "[\"chat\",0]"));
    CHECK(path_in(s, "[\"help_plan\",\"tasks\",0,\"what\"]"));
    CHECK(path_in(s, "[\"meta\",\"status\"]"));
    /* The section keeps only its client summary: one key. */
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(s, "sections"), "debt")) == 1);
    cJSON_Delete(s);
    cJSON_Delete(doc);
}

static void counsellor_sees_own_section_only(void)
{
    cJSON *doc = populated_doc();
    cJSON *s = snapshot_for(&debt, doc);
    CHECK(text_contains(s, "SECRET-DEBT"));
    CHECK(text_contains(s, "SECRET-INTERNAL"));
    CHECK(text_contains(s, "SECRET-ASSESSMENT"));
    CHECK(text_contains(s, "PERSON-NAME"));
    CHECK(!text_contains(s, "SECRET-MIGRATION"));
    /* Another section's place stays (its summary would be read under the client's share
     * consent: structure never changes with consent), empty without it. */
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(s, "sections"), "migration")) == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "sections")) == 6);
    cJSON_Delete(s);
    s = snapshot_for(&migration, doc);
    CHECK(!text_contains(s, "SECRET-DEBT"));
    CHECK(!text_contains(s, "SUMMARY-DEBT"));
    CHECK(text_contains(s, "SECRET-MIGRATION"));
    cJSON_Delete(s);
    s = snapshot_for(&plain, doc);
    CHECK(!path_in(s, "[\"sections\"]"));
    CHECK(text_contains(s, "SECRET-INTERNAL"));
    cJSON_Delete(s);
    cJSON_Delete(doc);
}

static void lead_supervisor_admin_snapshots(void)
{
    cJSON *doc = populated_doc();
    cJSON *s = snapshot_for(&lead, doc);
    CHECK(json_equal(s, doc));
    cJSON_Delete(s);
    /* Read by the rules alone, the supervisor's projection holds the person section; its
     * reading mode (masks, pseudonyms) is test_access_view.c's. */
    s = snapshot_for(&supervisor, doc);
    CHECK(path_in(s, "[\"person\"]"));
    CHECK(text_contains(s, "SECRET-INTERNAL"));
    CHECK(text_contains(s, "SECRET-DEBT"));
    CHECK(text_contains(s, "SECRET-MIGRATION"));
    cJSON_Delete(s);
    s = snapshot_for(&admin, doc);
    CHECK(cJSON_IsObject(s) && cJSON_GetArraySize(s) == 0);
    cJSON_Delete(s);
    auth_error err = {{0}};
    cJSON *list = J("[1,2]");
    {
        access_view v = rules_of(&lead);
        CHECK(access_view_snapshot(tpl, &v, &no_consent, list, &err) == NULL && err.message[0]);
    }
    cJSON_Delete(list);
    cJSON_Delete(doc);
}

static void views_follow_rule_paths_not_content(void)
{
    /* A section's other keys come and go without changing what the client sees of it,
     * and a section added later under "sections" stays out of view of everyone the
     * "sections" rule does not name. */
    cJSON *doc = fresh_doc();
    cJSON *s = snapshot_for(&client, doc);
    cJSON *debt_view = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s, "sections"), "debt");
    CHECK(op_equals(debt_view, "{\"client_summary\":\"\"}"));
    cJSON_Delete(s);
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"notes\"],\"od\":[]}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"cause\"],\"od\":\"\"}]");
    s = snapshot_for(&client, doc);
    debt_view = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "sections"),
                                                 "debt");
    CHECK(op_equals(debt_view, "{\"client_summary\":\"\"}"));
    cJSON_Delete(s);
    ACCEPTS(lead, &doc, "[{\"p\":[\"sections\",\"extra\"],\"oi\":{\"x\":1}}]");
    s = snapshot_for(&client, doc);
    CHECK(!path_in(s, "[\"sections\",\"extra\"]"));
    cJSON_Delete(s);
    s = snapshot_for(&debt, doc);
    CHECK(!path_in(s, "[\"sections\",\"extra\"]"));
    cJSON_Delete(s);
    s = snapshot_for(&supervisor, doc);
    CHECK(path_in(s, "[\"sections\",\"extra\",\"x\"]"));
    cJSON_Delete(s);
    cJSON_Delete(doc);
}

/* ---- ops ------------------------------------------------------------------------- */

static void client_op_projection_hides_internal(void)
{
    const char *note = "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"text\":\"SECRET-INTERNAL\"}}]";
    cJSON *p = op_for(&client, note);
    CHECK(p && op_equals(p, "[]"));
    cJSON_Delete(p);
    p = op_for(&supervisor, note);
    CHECK(p && op_equals(p, note));
    cJSON_Delete(p);
    const char *mixed =
        "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"a\"},"
        "{\"p\":[\"situation\",\"assessment\",0],\"si\":\"SECRET\"},"
        "{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"b\"},"
        "{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"SECRET\"}]";
    p = op_for(&client, mixed);
    CHECK(p && op_equals(p, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"a\"},"
                            "{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"b\"}]"));
    cJSON_Delete(p);
    p = op_for(&migration, mixed);
    CHECK(p && op_equals(p, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"a\"},"
                            "{\"p\":[\"situation\",\"assessment\",0],\"si\":\"SECRET\"}]"));
    cJSON_Delete(p);
    /* Supervisors read the person section (pseudonymised after the projection:
     * test_auth_pseudo.c); the internal notes stay the counsellors' own. */
    p = op_for(&client, "[{\"p\":[\"internal\",\"notes\",0],\"li\":\"x\"}]");
    CHECK(p && op_equals(p, "[]"));
    cJSON_Delete(p);
    p = op_for(&admin, mixed);
    CHECK(p && op_equals(p, "[]"));
    cJSON_Delete(p);
}

static void op_projection_refuses_malformed_ops(void)
{
    auth_error err = {{0}};
    cJSON *op = J("[{\"p\":[\"chat\",0],\"li\":1,\"si\":\"x\"}]");
    access_view v = rules_of(&client);
    CHECK(access_view_op(tpl, &v, &no_consent, NULL, NULL, op, &err) == NULL);
    CHECK(strstr(err.message, "malformed op") != NULL);
    cJSON_Delete(op);
}

/* ---- writes ---------------------------------------------------------------------- */

static void client_writes_own_areas(void)
{
    cJSON *doc = fresh_doc();
    ACCEPTS(client, &doc, "[{\"p\":[\"person\",\"display_name\",0],\"si\":\"Kim\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"concern\",\"topics\",0],\"li\":\"Schulden\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"situation\",\"resources\",0],\"si\":\"sister\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"documents\",\"checklist\",0],\"li\":\"ID card\"}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"person\",\"household\",\"adults\"],\"od\":null,\"oi\":2}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"person\",\"household\",\"adults\"],\"na\":1}]");
    cJSON_Delete(doc);
}

static void client_cannot_write_other_sections(void)
{
    cJSON *doc = populated_doc();
    REFUSES(client, &doc, "[{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"x\"}]",
            "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"x\"}]",
            "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"internal\",\"notes\",0],\"li\":\"x\"}]", "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"situation\",\"assessment\",0],\"si\":\"x\"}]",
            "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"meta\",\"status\"],\"od\":\"erstkontakt\",\"oi\":\"aktiv\"}]",
            "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"help_plan\",\"goals\",0],\"li\":\"x\"}]", "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"appointments\",0],\"li\":{}}]", "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"new_top_level\"],\"oi\":1}]", "no write access");
    cJSON_Delete(doc);
}

static void half_allowed_op_is_refused_whole(void)
{
    cJSON *doc = populated_doc();
    cJSON *before = cJSON_Duplicate(doc, 1);
    REFUSES(client, &doc,
            "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"fine\"},"
            "{\"p\":[\"internal\",\"notes\",0],\"li\":\"sneaky\"}]",
            "component 1");
    REFUSES(debt, &doc,
            "[{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"ok\"},"
            "{\"p\":[\"sections\",\"migration\",\"notes\",0],\"li\":\"not ok\"},"
            "{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"ok\"}]",
            "component 1: no write access to [\"sections\",\"migration\",\"notes\",0]");
    CHECK(json_equal(doc, before));
    cJSON_Delete(before);
    cJSON_Delete(doc);
}

static void counsellor_of_another_specialty(void)
{
    cJSON *doc = populated_doc();
    REFUSES(migration, &doc, "[{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"x\"}]",
            "no write access");
    REFUSES(migration, &doc, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"x\"}]",
            "no write access");
    REFUSES(plain, &doc, "[{\"p\":[\"sections\",\"debt\",\"cause\",0],\"si\":\"x\"}]",
            "no write access");
    REFUSES(debt, &doc, "[{\"p\":[\"person\",\"phone\",0],\"si\":\"0\"}]", "no write access");
    REFUSES(debt, &doc, "[{\"p\":[\"sections\",\"newsection\"],\"oi\":{}}]", "no write access");
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"creditors\",0],\"li\":{\"name\":\"Bank\"}}]");
    ACCEPTS(lead, &doc, "[{\"p\":[\"sections\",\"migration\",\"notes\",0],\"li\":\"lead note\"}]");
    ACCEPTS(plain, &doc, "[{\"p\":[\"internal\",\"risk\",0],\"li\":\"none\"}]");
    cJSON_Delete(doc);
}

static void supervisor_and_admin_never_write(void)
{
    cJSON *doc = populated_doc();
    REFUSES(supervisor, &doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"hi\"}}]",
            "supervisors never write");
    REFUSES(supervisor, &doc, "[{\"p\":[\"internal\",\"notes\",0],\"li\":\"x\"}]",
            "supervisors never write");
    REFUSES(supervisor, &doc, "[]", "supervisors never write");
    REFUSES(admin, &doc, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"x\"}]",
            "admins never write");
    cJSON *p = J("[\"internal\"]");
    CHECK(!access_can_write(R, &supervisor, p));
    CHECK(access_can_read(R, &supervisor, p));
    cJSON_Delete(p);
    cJSON_Delete(doc);
}

static void containers_with_other_rules_are_refused_for_everyone(void)
{
    cJSON *doc = populated_doc();
    char op[4096];
    cJSON *debt_section = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "sections"), "debt");
    char *section_text = cJSON_PrintUnformatted(debt_section);
    snprintf(op, sizeof op, "[{\"p\":[\"sections\",\"debt\"],\"od\":%s}]", section_text);
    REFUSES(lead, &doc, op, "access rules of their own");
    REFUSES(debt, &doc, op, "access rules of their own");
    snprintf(op, sizeof op, "[{\"p\":[\"sections\",\"debt\"],\"od\":%s,\"oi\":{}}]", section_text);
    REFUSES(lead, &doc, op, "access rules of their own");
    cJSON_free(section_text);
    char *situation = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "situation"));
    snprintf(op, sizeof op, "[{\"p\":[\"situation\"],\"od\":%s}]", situation);
    REFUSES(debt, &doc, op, "access rules of their own");
    REFUSES(client, &doc, op, "access rules of their own");
    cJSON_free(situation);
    REFUSES(lead, &doc, "[{\"p\":[\"sections\"],\"od\":{}}]", "access rules of their own");
    /* Root replace: even with the exact current document as payload. */
    char *whole = cJSON_PrintUnformatted(doc);
    size_t need = strlen(whole) + 64;
    char *root = malloc(need);
    snprintf(root, need, "[{\"p\":[],\"od\":%s,\"oi\":{}}]", whole);
    REFUSES(lead, &doc, root, "only the template may replace the whole document");
    free(root);
    cJSON_free(whole);
    cJSON_Delete(doc);
}

static void rule_paths_stay(void)
{
    cJSON *doc = fresh_doc();
    char *person = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "person"));
    char op[2048];
    snprintf(op, sizeof op, "[{\"p\":[\"person\"],\"od\":%s}]", person);
    REFUSES(client, &doc, op, "can be replaced, not removed");
    snprintf(op, sizeof op, "[{\"p\":[\"person\"],\"od\":%s,\"oi\":\"gone\"}]", person);
    REFUSES(client, &doc, op, "must have the type of the old one");
    snprintf(op, sizeof op, "[{\"p\":[\"person\"],\"od\":%s,\"oi\":{\"display_name\":\"K\"}}]",
             person);
    ACCEPTS(client, &doc, op);
    cJSON_free(person);
    REFUSES(debt, &doc, "[{\"p\":[\"help_plan\",\"tasks\"],\"od\":[]}]", "not removed");
    ACCEPTS(debt, &doc, "[{\"p\":[\"help_plan\",\"tasks\"],\"od\":[],\"oi\":[{\"what\":\"x\"}]}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"client_summary\"],\"od\":\"\",\"oi\":\"new\"}]");
    REFUSES(debt, &doc, "[{\"p\":[\"sections\",\"debt\",\"client_summary\"],\"od\":\"new\"}]",
            "not removed");
    cJSON_Delete(doc);
}

static void append_only_consents(void)
{
    cJSON *doc = fresh_doc();
    ACCEPTS(client, &doc, "[{\"p\":[\"consents\",0],\"li\":{\"type\":\"processing\"}}]");
    ACCEPTS(lead, &doc, "[{\"p\":[\"consents\",1],\"li\":{\"type\":\"release\"}}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"consents\",2],\"li\":{\"type\":\"a\"}},"
                          "{\"p\":[\"consents\",3],\"li\":{\"type\":\"b\"}}]");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",4],\"li\":{}},{\"p\":[\"consents\",4],\"li\":{}}]",
            "component 1: [\"consents\"] is append-only: insert at its end (index 5), not at 4");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",1],\"li\":{\"type\":\"middle\"}}]",
            "insert at its end (index 4), not at 1");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",0],\"li\":{\"type\":\"first\"}}]", "not at 0");
    REFUSES(lead, &doc, "[{\"p\":[\"consents\",5],\"li\":{}}]", "not at 5");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",0],\"ld\":{\"type\":\"processing\"}}]",
            "append-only");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",0],\"lm\":3}]", "append-only");
    REFUSES(lead, &doc, "[{\"p\":[\"consents\",0],\"ld\":{\"type\":\"processing\"},\"li\":{}}]",
            "append-only");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",0,\"revoked_at\"],\"oi\":\"now\"}]",
            "append-only");
    REFUSES(client, &doc, "[{\"p\":[\"consents\",0,\"type\",0],\"si\":\"x\"}]", "append-only");
    REFUSES(lead, &doc, "[{\"p\":[\"consents\"],\"od\":[{\"type\":\"processing\"},"
                        "{\"type\":\"release\"},{\"type\":\"a\"},{\"type\":\"b\"}],\"oi\":[]}]",
            "append-only");
    REFUSES(plain, &doc, "[{\"p\":[\"consents\",4],\"li\":{}}]", "no write access");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "consents")) == 4);
    cJSON_Delete(doc);
}

static void append_only_chat(void)
{
    cJSON *doc = populated_doc();
    ACCEPTS(debt, &doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"hi\"}}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"chat\",2],\"li\":{\"text\":\"hey\"}}]");
    REFUSES(client, &doc, "[{\"p\":[\"chat\",1,\"text\",0],\"si\":\"edited \"}]", "append-only");
    REFUSES(client, &doc, "[{\"p\":[\"chat\",1],\"ld\":{\"text\":\"hi\"}}]", "append-only");
    REFUSES(client, &doc, "[{\"p\":[\"chat\",0],\"ld\":{\"text\":\"hello\"},\"li\":{\"text\":\"bye\"}}]",
            "append-only");
    REFUSES(debt, &doc, "[{\"p\":[\"chat\",2],\"lm\":0}]", "append-only");
    cJSON_Delete(doc);
}

/* The hub checks the op it will apply: transformed up to the current version. */
static void checks_run_on_transformed_ops(void)
{
    cJSON *doc = populated_doc(); /* chat holds one message */
    cJSON *committed = J("[{\"p\":[\"chat\",1],\"li\":{\"text\":\"from debt\"}}]");
    ot_error oerr = {{0}};
    CHECK(ot_apply(&doc, committed, &oerr) == 0);

    /* The client appended at the end it knew (index 1); json0 keeps its item before the
     * committed one, so the transformed op inserts in the middle: refused. */
    cJSON *late = J("[{\"p\":[\"chat\",1],\"li\":{\"text\":\"from client\"}}]");
    cJSON *moved = ot_transform(late, committed, OT_LEFT, &oerr);
    CHECK(moved != NULL);
    auth_error err = {{0}};
    CHECK(access_check_write(R, &client, moved, doc, &err) == -1);
    CHECK(strstr(err.message, "not at 1") != NULL);
    cJSON_Delete(moved);
    cJSON_Delete(late);

    /* An op at an old version that still lands at the end after transformation. */
    cJSON *other = J("[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"x\"}]");
    CHECK(ot_apply(&doc, other, &oerr) == 0);
    cJSON *old = J("[{\"p\":[\"chat\",2],\"li\":{\"text\":\"ok\"}}]");
    cJSON *rebased = ot_transform(old, other, OT_LEFT, &oerr);
    memset(&err, 0, sizeof err);
    CHECK(access_check_write(R, &client, rebased, doc, &err) == 0);
    cJSON_Delete(rebased);
    cJSON_Delete(old);

    /* Writing another section from an old version stays refused after transformation. */
    cJSON *bad = J("[{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":\"x\"}]");
    cJSON *bad_t = ot_transform(bad, other, OT_LEFT, &oerr);
    memset(&err, 0, sizeof err);
    CHECK(access_check_write(R, &client, bad_t, doc, &err) == -1);
    cJSON_Delete(bad_t);
    cJSON_Delete(bad);
    cJSON_Delete(other);
    cJSON_Delete(committed);
    cJSON_Delete(doc);
}

static void lists_inside_writable_rules(void)
{
    cJSON *doc = populated_doc();
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",1],\"li\":{\"what\":\"call office\"}}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"lm\":1}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"ld\":{\"what\":\"call office\"}}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"done\"],\"od\":false,\"oi\":true}]");
    ACCEPTS(client, &doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"what\",0],\"si\":\"please \"}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"appointments\",0],\"li\":{\"at\":\"2025-03-01\",\"documents\":[]}}]");
    REFUSES(client, &doc, "[{\"p\":[\"appointments\",0,\"client_note\"],\"oi\":\"late\"}]",
            "no write access");
    REFUSES(client, &doc, "[{\"p\":[\"appointments\",0],\"lm\":0}]", "no write access");
    cJSON_Delete(doc);
}

/* A key after a list index never matches a rule: the list's rule governs everything in
 * it, whatever the keys of its items are called. */
static void list_index_crossing_into_objects(void)
{
    cJSON *doc = fresh_doc();
    ACCEPTS(debt, &doc, "[{\"p\":[\"documents\",\"list\",0],\"li\":{\"checklist\":[],\"title\":\"lease\"}}]");
    REFUSES(client, &doc, "[{\"p\":[\"documents\",\"list\",0,\"checklist\",0],\"li\":\"x\"}]",
            "no write access");
    ACCEPTS(client, &doc, "[{\"p\":[\"documents\",\"checklist\",0],\"li\":\"x\"}]");
    ACCEPTS(debt, &doc, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"sections\":{\"debt\":{\"client_summary\":\"x\"}}}}]");
    cJSON *path = J("[\"internal\",\"notes\",0,\"sections\",\"debt\",\"client_summary\"]");
    CHECK(!access_can_read(R, &client, path));
    CHECK(access_can_read(R, &plain, path));
    cJSON_Delete(path);
    path = J("[\"chat\",0,\"text\"]");
    CHECK(access_can_read(R, &client, path));
    CHECK(access_can_write(R, &client, path)); /* the rule says so; append-only is op-level */
    cJSON_Delete(path);
    const char *invalid[] = {"[\"chat\",-1]", "[\"chat\",1.5]", "[true]", "{\"p\":1}",
                             "[\"chat\",null]"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        path = J(invalid[i]);
        CHECK(!access_can_read(R, &lead, path));
        CHECK(!access_can_write(R, &lead, path));
        cJSON_Delete(path);
    }
    cJSON_Delete(doc);
}

static void malformed_ops_are_refused(void)
{
    cJSON *doc = fresh_doc();
    REFUSES(client, &doc, "{\"p\":[\"chat\",0],\"li\":1}", "malformed op");
    REFUSES(client, &doc, "[{\"p\":[\"chat\",0],\"li\":1,\"x\":2}]", "malformed op");
    REFUSES(client, &doc, "[{\"p\":[\"chat\",\"0\"],\"li\":1}]", "malformed op");
    ACCEPTS(client, &doc, "[]");
    cJSON_Delete(doc);
}

/* ---- presence -------------------------------------------------------------------- */

/* Whether who gets the presence as it was sent (not {"path": null} instead). */
static bool sees(const auth_principal *who, const char *presence_text)
{
    cJSON *p = J(presence_text);
    access_view v = rules_of(who);
    cJSON *got = access_view_presence(tpl, &v, 0, p);
    bool same = got && json_equal(got, p);
    cJSON_Delete(got);
    cJSON_Delete(p);
    return same;
}

static void presence_filtering(void)
{
    const char *internal = "{\"path\":[\"internal\",\"notes\"],\"index\":3}";
    CHECK(!sees(&client, internal));
    CHECK(sees(&debt, internal));
    CHECK(sees(&supervisor, internal));
    CHECK(!sees(&admin, internal));
    const char *debt_notes = "{\"path\":[\"sections\",\"debt\",\"notes\"]}";
    CHECK(!sees(&client, debt_notes));
    CHECK(!sees(&migration, debt_notes));
    CHECK(sees(&debt, debt_notes));
    CHECK(sees(&lead, debt_notes));
    CHECK(!sees(&client, "{\"path\":[\"sections\",\"debt\"]}"));
    CHECK(!sees(&client, "{\"path\":[]}"));
    CHECK(sees(&client, "{\"path\":[\"sections\",\"debt\",\"client_summary\"],\"index\":2}"));
    CHECK(sees(&client, "{\"path\":[\"chat\",4,\"text\"]}"));
    CHECK(!sees(&client, "{\"path\":[\"internal\",\"notes\"]}"));
    /* No path: always relayed. */
    CHECK(sees(&client, "{\"typing\":true}"));
    CHECK(sees(&client, "{\"path\":null}"));
    CHECK(sees(&client, "null"));
    CHECK(sees(&client, "\"here\""));
    /* A path that is no path: never relayed. */
    CHECK(!sees(&lead, "{\"path\":\"internal\"}"));
    CHECK(!sees(&lead, "{\"path\":[\"chat\",-1]}"));
    CHECK(!sees(&lead, "{\"path\":[{\"x\":1}]}"));
}

int main(void)
{
    auth_error err = {{0}};
    tpl = template_default(&err);
    if (!tpl) {
        fprintf(stderr, "default template: %s\n", err.message);
        return 1;
    }
    R = template_rules(tpl);
    make_principal(&client, "client-1", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false);
    make_principal(&debt, "debt-1", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, false);
    make_principal(&migration, "migration-1", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_MIGRATION, false);
    make_principal(&lead, "lead-1", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, true);
    make_principal(&plain, "general-1", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_NONE, false);
    make_principal(&supervisor, "supervisor-1", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);
    make_principal(&admin, "admin-1", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false);

    RUN(client_snapshot_hides_internal_and_sections);
    RUN(counsellor_sees_own_section_only);
    RUN(lead_supervisor_admin_snapshots);
    RUN(views_follow_rule_paths_not_content);
    RUN(client_op_projection_hides_internal);
    RUN(op_projection_refuses_malformed_ops);
    RUN(client_writes_own_areas);
    RUN(client_cannot_write_other_sections);
    RUN(half_allowed_op_is_refused_whole);
    RUN(counsellor_of_another_specialty);
    RUN(supervisor_and_admin_never_write);
    RUN(containers_with_other_rules_are_refused_for_everyone);
    RUN(rule_paths_stay);
    RUN(append_only_consents);
    RUN(append_only_chat);
    RUN(checks_run_on_transformed_ops);
    RUN(lists_inside_writable_rules);
    RUN(list_index_crossing_into_objects);
    RUN(malformed_ops_are_refused);
    RUN(presence_filtering);

    template_free(tpl);
    return unit_finish("test_auth_access");
}
