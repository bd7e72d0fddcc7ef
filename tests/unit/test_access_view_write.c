/*
 * What a principal may submit beyond the rules (stamped fields, consent records, subtype
 * components), with the exact refusal messages protocol/access.md lists, and the
 * server's stamping op: which items it fills, with what, at which index after the rest
 * of the op moved them.
 */
#include "view_fixture.h"

static template_spec *tpl;
static auth_principal client, debt, lead, supervisor;
static char last_error[AUTH_ERROR_MAX];

/* Checks op_text for who against doc: 0 accepted, -1 refused (message in last_error). */
static int check(const auth_principal *who, const cJSON *doc, const char *op_text)
{
    access_view v = access_view_of(who, false);
    auth_error err = {{0}};
    cJSON *op = J(op_text);
    int rc = access_view_check_write(tpl, &v, op, doc, &err);
    snprintf(last_error, sizeof last_error, "%s", err.message);
    cJSON_Delete(op);
    return rc;
}

#define ACCEPTS(who, doc, op) do { \
        int rc_ = check(&(who), (doc), (op)); \
        if (rc_ != 0) fprintf(stderr, "  refused: %s\n    %s\n", last_error, (op)); \
        CHECK(rc_ == 0); \
    } while (0)

#define REFUSES(who, doc, op, message) do { \
        CHECK(check(&(who), (doc), (op)) == -1); \
        if (!strstr(last_error, (message))) \
            fprintf(stderr, "  message \"%s\"\n    lacks \"%s\"\n", last_error, (message)); \
        CHECK(strstr(last_error, (message)) != NULL); \
    } while (0)

/* A case with a chat message, a task, a note and a consent, all stamped. */
static void populated(fix_case *fc)
{
    fix_case_init(fc, tpl);
    fix_submit(fc, &client, "[{\"p\":[\"chat\",0],\"li\":{\"text\":\"hallo\"}}]");
    fix_submit(fc, &client, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"Briefe\",\"done\":false}}]");
    fix_submit(fc, &debt, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"text\":\"n\"}}]");
    fix_submit(fc, &client, "[{\"p\":[\"consents\",0],\"li\":{\"kind\":\"processing\",\"status\":\"given\"}}]");
    CHECK(fc->failed == 0);
}

static void stamped_fields_on_insert(void)
{
    fix_case fc;
    populated(&fc);
    const cJSON *doc = fix_head(&fc);
    ACCEPTS(client, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\",\"from\":null,\"at\":null}}]");
    REFUSES(client, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\",\"from\":\"lead-1\"}}]",
            "component 0: \"from\" of a new item of [\"chat\"] is stamped by the server: leave it out or null");
    REFUSES(client, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\",\"at\":1}}]",
            "\"at\" of a new item of [\"chat\"] is stamped by the server");
    REFUSES(client, doc, "[{\"p\":[\"chat\",1],\"li\":\"hallo\"}]",
            "component 0: the items of [\"chat\"] are objects (the server stamps fields of them)");
    REFUSES(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"x\",\"created_by\":\"debt-1\"}}]",
            "\"created_by\" of a new item of [\"help_plan\",\"tasks\"] is stamped by the server");
    /* A replaced list brings new items too, and so does a section added with notes. */
    REFUSES(debt, doc, "[{\"p\":[\"internal\",\"notes\"],\"od\":[],\"oi\":[{\"text\":\"y\",\"author\":\"lead-1\"}]}]",
            "\"author\" of a new item of [\"internal\",\"notes\"] is stamped by the server");
    REFUSES(lead, doc, "[{\"p\":[\"sections\",\"extra\"],\"oi\":{\"notes\":[{\"author\":\"x\"}]}}]",
            "\"author\" of a new item of [\"sections\",\"extra\",\"notes\"] is stamped by the server");
    REFUSES(debt, doc, "[{\"p\":[\"internal\",\"notes\",1],\"ld\":{\"text\":\"n\"},\"li\":{\"text\":\"n\",\"at\":5}}]",
            "is stamped by the server");
    ACCEPTS(lead, doc, "[{\"p\":[\"sections\",\"extra\"],\"oi\":{\"notes\":[{\"text\":\"ok\"}]}}]");
    fix_case_free(&fc);
}

static void stamped_fields_later(void)
{
    fix_case fc;
    populated(&fc);
    const cJSON *doc = fix_head(&fc);
    cJSON *task_path = J("[\"help_plan\",\"tasks\",0]");
    const cJSON *task = fix_at(doc, task_path);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(task, "created_by")));
    REFUSES(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"od\":\"client-1\",\"oi\":\"debt-1\"}]",
            "component 0: [\"help_plan\",\"tasks\",0,\"created_by\"] is stamped by the server: it cannot be set, changed or removed");
    REFUSES(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"od\":\"client-1\"}]",
            "[\"help_plan\",\"tasks\",0,\"created_by\"] is stamped by the server");
    REFUSES(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\",0],\"si\":\"x\"}]",
            "[\"help_plan\",\"tasks\",0,\"created_by\"] is stamped by the server");
    REFUSES(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_at\"],\"na\":1}]",
            "[\"help_plan\",\"tasks\",0,\"created_at\"] is stamped by the server");
    /* Other fields of the item stay the client's, and so does deleting the item. */
    ACCEPTS(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"done\"],\"od\":false,\"oi\":true}]");
    ACCEPTS(client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0,\"what\",0],\"si\":\"alle \"}]");
    cJSON *item = cJSON_Duplicate(task, 1), *op = J("[{\"p\":[\"help_plan\",\"tasks\",0]}]");
    cJSON_AddItemToObject(op->child, "ld", item);
    char *text = cJSON_PrintUnformatted(op);
    ACCEPTS(client, doc, text);
    cJSON_free(text);
    cJSON_Delete(op);
    /* The chat is append-only anyway: the older message stays refused first. */
    REFUSES(client, doc, "[{\"p\":[\"chat\",0,\"from\"],\"od\":\"client-1\",\"oi\":\"lead-1\"}]",
            "append-only");
    cJSON_Delete(task_path);
    fix_case_free(&fc);
}

static void consent_records(void)
{
    fix_case fc;
    populated(&fc);
    const cJSON *doc = fix_head(&fc);
    ACCEPTS(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\",\"note\":\"für die Wohnungssuche\"}}]");
    ACCEPTS(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"supervision\",\"status\":\"revoked\",\"how\":null}}]");
    ACCEPTS(lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"release\",\"with\":\"Jobcenter Mitte\",\"status\":\"given\",\"how\":\"paper\"}}]");
    ACCEPTS(lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"debt\",\"status\":\"given\",\"how\":\"phone\"}}]");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\",\"how\":\"paper\"}}]",
            "component 0: \"how\" of a consent the client records is stamped by the server (\"self\"): leave it out or null");
    REFUSES(lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\"}}]",
            "component 0: a consent recorded on the client's behalf needs \"how\" it was given: \"in_person\", \"paper\" or \"phone\"");
    REFUSES(lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\",\"how\":\"self\"}}]",
            "needs \"how\" it was given");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"sharing\",\"status\":\"given\"}}]",
            "component 0: unknown consent kind \"sharing\" (this template keeps: share, supervision, processing, release)");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"status\":\"given\"}}]",
            "component 0: a \"share\" consent needs \"with\": the specialty it shares with");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"none\",\"status\":\"given\"}}]",
            "a \"share\" consent needs \"with\"");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"supervision\",\"with\":\"debt\",\"status\":\"given\"}}]",
            "component 0: a \"supervision\" consent takes no \"with\"");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"release\",\"status\":\"given\"}}]",
            "component 0: a \"release\" consent needs \"with\": towards whom the client releases from confidentiality");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"processing\",\"status\":\"maybe\"}}]",
            "component 0: a consent's \"status\" is \"given\" or \"revoked\"");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"type\":\"processing\",\"status\":\"given\"}}]",
            "component 0: a consent record has no field \"type\" (fields: kind, with, status, how, note; given_by, recorded_by and at are stamped by the server)");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"processing\",\"status\":\"given\",\"given_by\":\"lead-1\"}}]",
            "component 0: \"given_by\" of a consent record is stamped by the server: leave it out or null");
    REFUSES(lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"processing\",\"status\":\"given\",\"how\":\"paper\",\"recorded_by\":\"client-1\"}}]",
            "\"recorded_by\" of a consent record is stamped by the server");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"processing\",\"status\":\"given\",\"note\":3}}]",
            "component 0: a consent's \"note\" is a text");
    REFUSES(client, doc, "[{\"p\":[\"consents\",1],\"li\":\"ja\"}]",
            "component 0: a consent record is an object {kind, with, status, how, note}");
    REFUSES(debt, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"processing\",\"status\":\"given\",\"how\":\"paper\"}}]",
            "no write access");
    REFUSES(client, doc, "[{\"p\":[\"consents\",0,\"status\"],\"od\":\"given\",\"oi\":\"revoked\"}]",
            "append-only");
    fix_case_free(&fc);
}

static void other_refusals(void)
{
    fix_case fc;
    populated(&fc);
    const cJSON *doc = fix_head(&fc);
    REFUSES(client, doc, "[{\"p\":[\"concern\",\"own_words\"],\"t\":\"text0\",\"o\":[{\"p\":0,\"i\":\"x\"}]}]",
            "component 0: subtype components (t, e.g. text0) are not accepted");
    REFUSES(supervisor, doc, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"x\"}]",
            "supervisors never write the case sheet");
    REFUSES(client, doc, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{}}]", "no write access");
    REFUSES(client, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\"}},{\"p\":[\"chat\",2],\"li\":{\"text\":\"y\",\"from\":\"z\"}}]",
            "component 1: \"from\" of a new item");
    fix_case_free(&fc);
}

/* ---- stamping -------------------------------------------------------------------------- */

/* The stamping op of op_text, submitted by who against doc (applied first, as the hub
 * applies it before stamping). */
static cJSON *stamp_of(const auth_principal *who, const cJSON *doc, const char *op_text)
{
    cJSON *op = J(op_text), *out = NULL, *after = cJSON_Duplicate(doc, 1);
    auth_error err = {{0}};
    ot_error oerr = {{0}};
    CHECK(ot_apply(&after, op, &oerr) == 0);
    CHECK(access_view_stamp(tpl, who, 42, after, op, &out, &err) == 0);
    if (err.message[0])
        fprintf(stderr, "  %s\n", err.message);
    cJSON_Delete(after);
    cJSON_Delete(op);
    return out;
}

static bool stamp_is(const auth_principal *who, const cJSON *doc, const char *op_text,
                     const char *expected)
{
    cJSON *got = stamp_of(who, doc, op_text), *want = expected ? J(expected) : NULL;
    bool ok = expected ? json_equal(got, want) : got == NULL;
    if (!ok) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL;
        fprintf(stderr, "  stamp of %s\n    expected %s\n    got      %s\n", op_text,
                expected ? expected : "none", g ? g : "none");
        cJSON_free(g);
    }
    cJSON_Delete(got);
    cJSON_Delete(want);
    return ok;
}

static void stamping(void)
{
    fix_case fc;
    populated(&fc);
    const cJSON *doc = fix_head(&fc);

    CHECK(stamp_is(&client, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\"}}]",
                   "[{\"p\":[\"chat\",1,\"from\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"chat\",1,\"from_role\"],\"oi\":\"client\"},"
                   "{\"p\":[\"chat\",1,\"at\"],\"oi\":42}]"));
    CHECK(stamp_is(&debt, doc, "[{\"p\":[\"chat\",1],\"li\":{\"text\":\"x\",\"from\":null}}]",
                   "[{\"p\":[\"chat\",1,\"from\"],\"od\":null,\"oi\":\"debt-1\"},"
                   "{\"p\":[\"chat\",1,\"from_role\"],\"oi\":\"counsellor\"},"
                   "{\"p\":[\"chat\",1,\"at\"],\"oi\":42}]"));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"supervision\",\"status\":\"given\"}}]",
                   "[{\"p\":[\"consents\",1,\"given_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"consents\",1,\"recorded_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"consents\",1,\"at\"],\"oi\":42},"
                   "{\"p\":[\"consents\",1,\"how\"],\"oi\":\"self\"}]"));
    CHECK(stamp_is(&lead, doc, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"supervision\",\"status\":\"given\",\"how\":\"paper\"}}]",
                   "[{\"p\":[\"consents\",1,\"given_by\"],\"oi\":\"client\"},"
                   "{\"p\":[\"consents\",1,\"recorded_by\"],\"oi\":\"lead-1\"},"
                   "{\"p\":[\"consents\",1,\"at\"],\"oi\":42}]"));
    /* Nothing inserted, or an insert into a list without stamps: no op. */
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"x\"}]", NULL));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"concern\",\"topics\",0],\"li\":\"Schulden\"}]", NULL));
    /* Items followed through the rest of the op. */
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"X\"}},"
                                 "{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"Y\"}}]",
                   "[{\"p\":[\"help_plan\",\"tasks\",1,\"created_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"help_plan\",\"tasks\",1,\"created_at\"],\"oi\":42},"
                   "{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"help_plan\",\"tasks\",0,\"created_at\"],\"oi\":42}]"));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"X\"}},"
                                 "{\"p\":[\"help_plan\",\"tasks\",0],\"ld\":{\"what\":\"X\"}}]", NULL));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"help_plan\",\"tasks\",1],\"li\":{\"what\":\"X\"}},"
                                 "{\"p\":[\"help_plan\",\"tasks\",1],\"lm\":0}]",
                   "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"help_plan\",\"tasks\",0,\"created_at\"],\"oi\":42}]"));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"help_plan\",\"tasks\",1],\"li\":{\"what\":\"X\"}},"
                                 "{\"p\":[\"help_plan\",\"tasks\",0],\"lm\":1}]",
                   "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"help_plan\",\"tasks\",0,\"created_at\"],\"oi\":42}]"));
    /* A list replaced whole: each of its items; a section added with notes: its notes. */
    CHECK(stamp_is(&debt, doc, "[{\"p\":[\"internal\",\"risk\"],\"od\":[],\"oi\":[{\"level\":\"hoch\"},{\"level\":\"akut\",\"at\":null}]}]",
                   "[{\"p\":[\"internal\",\"risk\",0,\"author\"],\"oi\":\"debt-1\"},"
                   "{\"p\":[\"internal\",\"risk\",0,\"at\"],\"oi\":42},"
                   "{\"p\":[\"internal\",\"risk\",1,\"author\"],\"oi\":\"debt-1\"},"
                   "{\"p\":[\"internal\",\"risk\",1,\"at\"],\"od\":null,\"oi\":42}]"));
    CHECK(stamp_is(&lead, doc, "[{\"p\":[\"sections\",\"extra\"],\"oi\":{\"notes\":[{\"text\":\"n\"}]}}]",
                   "[{\"p\":[\"sections\",\"extra\",\"notes\",0,\"author\"],\"oi\":\"lead-1\"},"
                   "{\"p\":[\"sections\",\"extra\",\"notes\",0,\"at\"],\"oi\":42}]"));
    fix_case_free(&fc);
}

/* An item older than stamping (no created_by) is never stamped by a later insert. */
static void older_items_keep_their_fields(void)
{
    cJSON *doc = cJSON_Duplicate(template_document(tpl), 1);
    cJSON *tasks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "help_plan"), "tasks");
    cJSON_AddItemToArray(tasks, J("{\"what\":\"alt\"}"));
    CHECK(stamp_is(&client, doc, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"neu\"}}]",
                   "[{\"p\":[\"help_plan\",\"tasks\",0,\"created_by\"],\"oi\":\"client-1\"},"
                   "{\"p\":[\"help_plan\",\"tasks\",0,\"created_at\"],\"oi\":42}]"));
    /* The document before the op (the item not in it) is a mistake, said so. */
    cJSON *op = J("[{\"p\":[\"chat\",0],\"li\":{}}]"), *out = NULL;
    auth_error err = {{0}};
    CHECK(access_view_stamp(tpl, &client, 1, doc, op, &out, &err) == -1 && out == NULL);
    CHECK(strstr(err.message, "takes the document after the op") != NULL);
    cJSON_Delete(op);
    cJSON_Delete(doc);
}

int main(void)
{
    auth_error err = {{0}};

    tpl = template_default(&err);
    if (!tpl) {
        fprintf(stderr, "default template: %s\n", err.message);
        return 1;
    }
    fix_principal(&client, "client-1", "Mimi Sommer", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false);
    fix_principal(&debt, "debt-1", "D", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, false);
    fix_principal(&lead, "lead-1", "L", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_SOCIAL_LAW, true);
    fix_principal(&supervisor, "supervisor-1", "S", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);

    RUN(stamped_fields_on_insert);
    RUN(stamped_fields_later);
    RUN(consent_records);
    RUN(other_refusals);
    RUN(stamping);
    RUN(older_items_keep_their_fields);

    template_free(tpl);
    return unit_finish("test_access_view_write");
}
