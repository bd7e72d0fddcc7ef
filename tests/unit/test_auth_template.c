/*
 * Templates and rule semantics: the built-in default equals protocol/templates/default.json,
 * every validation error is reported with a clear message, and rule matching behaves as
 * protocol/access.md says (longest prefix, union of selectors, lead is a counsellor,
 * default deny). Runs from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/principal.h"
#include "auth/template.h"
#include "unit.h"
#include "util/json_util.h"

#define DEFAULT_TEMPLATE_FILE "protocol/templates/default.json"

static void default_template_equals_the_file(void)
{
    size_t len = 0;
    char *text = unit_read_file(DEFAULT_TEMPLATE_FILE, &len);
    CHECK(text != NULL);
    cJSON *from_file = text ? cJSON_ParseWithLength(text, len) : NULL;
    cJSON *built_in = cJSON_Parse(template_default_json);
    CHECK(from_file && built_in && json_equal(from_file, built_in));
    auth_error err = {{0}};
    template_spec *t = text ? template_parse(text, len, &err) : NULL;
    if (!t) fprintf(stderr, "  %s: %s\n", DEFAULT_TEMPLATE_FILE, err.message);
    CHECK(t != NULL);
    template_free(t);
    cJSON_Delete(from_file);
    cJSON_Delete(built_in);
    free(text);
}

static void default_template_parses(void)
{
    auth_error err = {{0}};
    template_spec *t = template_default(&err);
    if (!t) fprintf(stderr, "  %s\n", err.message);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_STR(template_name(t), "default");
    CHECK_STR(template_title(t), "Integrierte Sozialberatung");
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(template_document(t), "chat")));
    CHECK(access_rules_count(template_rules(t)) == 27);
    size_t n = 0;
    const template_retention_class *classes = template_retention_classes(t, &n);
    CHECK(n == 3 && strcmp(classes[0].name, "standard") == 0 &&
          classes[0].after_closure_days == 1095 && strstr(classes[0].basis, "§§ 195, 199 BGB"));
    CHECK_STR(template_retention_default(t)->name, "standard");
    CHECK(template_retention_class_named(t, "funded")->after_closure_days == 1825);
    CHECK(template_retention_class_named(t, "nope") == NULL);
    CHECK(cJSON_GetArraySize(template_purposes(t)) == 4);
    template_free(t);
}

/* Parses a template whose rules are `rules` over `document`; returns the error message
 * (empty when it parsed). */
static const char *try_template(const char *document, const char *rules)
{
    static char message[AUTH_ERROR_MAX];
    char text[4096];
    snprintf(text, sizeof text, "{\"name\":\"t\",\"title\":\"T\",\"document\":%s,\"rules\":%s}",
             document, rules);
    auth_error err = {{0}};
    template_spec *t = template_parse(text, strlen(text), &err);
    template_free(t);
    snprintf(message, sizeof message, "%s", t ? "" : err.message);
    return message;
}

static const char *try_text(const char *text)
{
    static char message[AUTH_ERROR_MAX];
    auth_error err = {{0}};
    template_spec *t = template_parse(text, strlen(text), &err);
    template_free(t);
    snprintf(message, sizeof message, "%s", t ? "" : err.message);
    return message;
}

#define ROOT "{\"path\":[],\"read\":[\"counsellor\"],\"write\":[\"lead\"]}"
#define DOC "{\"a\":{\"b\":\"x\",\"list\":[{\"c\":1}]},\"chat\":[]}"

#define EXPECT_ERROR(got, fragment) do { \
        const char *got_ = (got); \
        if (!strstr(got_, (fragment)) || !got_[0]) \
            fprintf(stderr, "  expected an error with \"%s\", got \"%s\"\n", (fragment), got_); \
        CHECK(got_[0] && strstr(got_, (fragment)) != NULL); \
    } while (0)

static void template_validation_errors(void)
{
    CHECK_STR(try_template(DOC, "[" ROOT "]"), "");
    EXPECT_ERROR(try_text("{"), "not valid JSON");
    EXPECT_ERROR(try_text("{\"name\":\"t\"} x"), "text follows");
    EXPECT_ERROR(try_text("[]"), "must be a JSON object");
    EXPECT_ERROR(try_text("{\"name\":\"t\",\"title\":\"T\",\"document\":{},\"rules\":[" ROOT "],"
                          "\"rulez\":[]}"),
                 "unknown field \"rulez\"");
    EXPECT_ERROR(try_text("{\"name\":\"t\",\"name\":\"u\",\"title\":\"T\",\"document\":{},"
                          "\"rules\":[" ROOT "]}"),
                 "same key twice");
    EXPECT_ERROR(try_text("{\"name\":\"Bad Name\",\"title\":\"T\",\"document\":{},\"rules\":[" ROOT "]}"),
                 "\"name\"");
    EXPECT_ERROR(try_text("{\"name\":\"t\",\"document\":{},\"rules\":[" ROOT "]}"), "\"title\"");
    EXPECT_ERROR(try_text("{\"name\":\"t\",\"title\":\"\",\"document\":{},\"rules\":[" ROOT "]}"),
                 "\"title\"");
    EXPECT_ERROR(try_template("[]", "[" ROOT "]"), "\"document\" must be a JSON object");
    EXPECT_ERROR(try_template(DOC, "[]"), "non-empty array");
    EXPECT_ERROR(try_template(DOC, "{}"), "non-empty array");
}

static void rule_validation_errors(void)
{
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counselor\"],\"write\":[]}]"),
                 "rule 1: unknown role \"counselor\"");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counsellor:astrology\"],\"write\":[]}]"),
                 "unknown role \"counsellor:astrology\"");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counsellor:none\"],\"write\":[]}]"),
                 "unknown role");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"admin\"],\"write\":[]}]"),
                 "unknown role \"admin\"");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[1],\"write\":[]}]"),
                 "rule 1: \"read\" must be an array of roles");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":\"client\",\"write\":[]}]"),
                 "\"read\" must be an array of roles");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"client\",\"client\"],\"write\":[]}]"),
                 "\"client\" appears twice");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"client\"],\"write\":[]},"
                                   "{\"path\":[\"a\"],\"read\":[],\"write\":[]}]"),
                 "rule 2: two rules for the same path [\"a\"]");
    EXPECT_ERROR(try_template(DOC, "[" ROOT "," ROOT "]"), "rule 1: two rules for the same path []");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"missing\"],\"read\":[],\"write\":[]}]"),
                 "rule 1: path [\"missing\"] is not an object key in the document");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\",\"b\",\"c\"],\"read\":[],\"write\":[]}]"),
                 "is not an object key in the document");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\",\"list\",0],\"read\":[],\"write\":[]}]"),
                 "list indices are never access boundaries");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\",\"list\",\"0\"],\"read\":[],\"write\":[]}]"),
                 "is not an object key in the document");
    EXPECT_ERROR(try_template(DOC, "[{\"path\":[\"a\"],\"read\":[],\"write\":[]}]"),
                 "a rule for the root");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"supervisor\"],\"write\":[\"supervisor\"]}]"),
                 "supervisors never write");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counsellor\"],\"write\":[\"client\"]}]"),
                 "must also be in the read list");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counsellor:debt\"],\"write\":[\"lead\"]}]"),
                 "must also be in the read list");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"lead\"],\"write\":[\"counsellor\"]}]"),
                 "must also be in the read list");
    CHECK_STR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[\"counsellor\"],"
                                "\"write\":[\"lead\",\"counsellor:debt\"]}]"), "");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"a\"],\"read\":[],\"write\":[],\"append_only\":true}]"),
                 "append_only needs a list");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"chat\"],\"read\":[],\"write\":[],\"append_only\":1}]"),
                 "\"append_only\" must be true or false");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"chat\"],\"read\":[],\"write\":[],\"apend_only\":true}]"),
                 "rule 1: unknown field \"apend_only\"");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":[\"chat\"],\"read\":[]}]"),
                 "\"read\" and \"write\" are required");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",{\"path\":\"chat\",\"read\":[],\"write\":[]}]"),
                 "\"path\" must be an array");
    EXPECT_ERROR(try_template(DOC, "[" ROOT ",\"chat\"]"), "rule 1: must be an object");
}

/* The parts beside document and rules: consents, conditioned selectors, stamps,
 * structured strings. */
#define DOC2 "{\"a\":{\"b\":\"x\",\"list\":[{\"c\":1}]},\"chat\":[],\"consents\":[]," \
             "\"notes\":{\"x\":{\"n\":[]},\"y\":{\"n\":[],\"s\":\"\"}}}"
#define RULES2 "[" ROOT ",{\"path\":[\"consents\"],\"read\":[\"client\",\"counsellor\"]," \
               "\"write\":[\"client\"],\"append_only\":true}," \
               "{\"path\":[\"chat\"],\"read\":[\"client\"],\"write\":[]}%s]"
#define KEPT "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"share\",\"supervision\"]}"

/* A template over DOC2 with RULES2 (plus extra_rule, ",{...}" or ""), and extra fields. */
static const char *try_fields(const char *extra_rule, const char *fields)
{
    char rules[2048], text[4096];
    snprintf(rules, sizeof rules, RULES2, extra_rule);
    snprintf(text, sizeof text, "{\"name\":\"t\",\"title\":\"T\",\"document\":" DOC2
             ",\"rules\":%s%s%s}", rules, fields[0] ? "," : "", fields);
    return try_text(text);
}

#define COND(role, cond) ",{\"path\":[\"a\"],\"read\":[\"counsellor:debt\",{\"role\":\"" role "\",\"if\":" cond "}],\"write\":[]}"

#define RET(body) "{\"name\":\"t\",\"title\":\"T\",\"document\":{},\"rules\":[" ROOT "]," body "}"

/* Retention classes and purposes: what is accepted, and each refusal. */
static void retention_fields(void)
{
    CHECK_STR(try_text(RET("\"retention\":{\"default\":\"b\",\"classes\":{\"a\":{"
                           "\"after_closure_days\":0,\"basis\":\"at closure\"},\"b\":{"
                           "\"after_closure_days\":36500,\"basis\":\"§ 195 BGB\"}}},"
                           "\"purposes\":[\"Beratung\"]")), "");
    EXPECT_ERROR(try_text(RET("\"retention\":[]")), "\"retention\" must be an object");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{},\"x\":1}")),
                 "retention: unknown field \"x\"");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{}}")),
                 "\"classes\" must be an object of 1 to 16 classes");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"A\",\"classes\":{\"A\":{"
                              "\"after_closure_days\":1,\"basis\":\"b\"}}}")),
                 "a class name is 1 to 32 of [a-z0-9_-]");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":1.5,\"basis\":\"b\"}}}")),
                 "\"after_closure_days\" must be an integer 0 to 36500");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":-1,\"basis\":\"b\"}}}")),
                 "\"after_closure_days\" must be an integer 0 to 36500");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":36501,\"basis\":\"b\"}}}")),
                 "\"after_closure_days\" must be an integer 0 to 36500");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":1}}}")),
                 "retention class \"a\": \"basis\", the documented legal basis");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":1,\"basis\":\"\"}}}")),
                 "\"basis\", the documented legal basis");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"a\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":1,\"basis\":\"b\",\"until\":2}}}")),
                 "retention class \"a\": unknown field \"until\"");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"default\":\"c\",\"classes\":{\"a\":{"
                              "\"after_closure_days\":1,\"basis\":\"b\"}}}")),
                 "\"default\" must name one of its classes");
    EXPECT_ERROR(try_text(RET("\"retention\":{\"classes\":{\"a\":{"
                              "\"after_closure_days\":1,\"basis\":\"b\"}}}")),
                 "\"default\" must name one of its classes");
    EXPECT_ERROR(try_text(RET("\"purposes\":[]")), "\"purposes\" must be an array of 1 to 16");
    EXPECT_ERROR(try_text(RET("\"purposes\":\"x\"")), "\"purposes\" must be an array");
    EXPECT_ERROR(try_text(RET("\"purposes\":[\"\"]")), "each purpose must be 1 to 1000 bytes");
    EXPECT_ERROR(try_text(RET("\"purposes\":[\"a\\nb\"]")), "each purpose must be 1 to 1000");

    /* A template without retention (a version stored before it existed): the fallback. */
    auth_error err = {{0}};
    const char *text = RET("\"description\":\"old\"");
    template_spec *t = template_parse(text, strlen(text), &err);
    CHECK(t != NULL);
    if (!t)
        return;
    size_t n = 0;
    const template_retention_class *c = template_retention_classes(t, &n);
    CHECK(n == 1 && strcmp(c->name, "standard") == 0 && c->after_closure_days == 1095);
    CHECK(template_retention_default(t) == c);
    CHECK(template_retention_class_named(t, "standard") == c);
    CHECK(template_purposes(t) == NULL);
    template_free(t);
}

static void template_field_errors(void)
{
    CHECK_STR(try_fields("", ""), "");
    CHECK_STR(try_fields(COND("counsellor", "{\"consent\":\"share\",\"with\":\"reader\"}"),
                         KEPT ",\"stamps\":[{\"path\":[\"notes\",\"*\",\"n\"],\"fields\":{\"by\":\"author\",\"at\":\"now\"}}],"
                         "\"structured\":[[\"a\",\"list\",\"c\"],[\"notes\",\"*\",\"s\"]]"), "");
    /* consents */
    EXPECT_ERROR(try_fields("", "\"consents\":[]"), "template: \"consents\" must be an object {\"path\", \"kinds\"}");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"share\"],\"x\":1}"),
                 "consents: unknown field \"x\"");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"consents\"],\"kinds\":[]}"),
                 "consents: \"kinds\" must be a non-empty array of kinds (share, supervision, processing, release)");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"sharing\"]}"),
                 "consents: unknown kind \"sharing\" (known: share, supervision, processing, release)");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"share\",\"share\"]}"),
                 "consents: \"share\" appears twice in \"kinds\"");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"a\"],\"kinds\":[\"share\"]}"),
                 "consents: \"path\" must name a list of the document by its object keys");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"kinds\":[\"share\"]}"),
                 "consents: \"path\" must name a list");
    EXPECT_ERROR(try_fields("", "\"consents\":{\"path\":[\"chat\"],\"kinds\":[\"share\"]}"),
                 "consents: the consent list [\"chat\"] needs an append-only rule of its own");
    /* conditioned selectors */
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"share\",\"with\":\"reader\"}"), ""),
                 "rule 3: a condition on \"share\" needs the template to keep that kind");
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"processing\"}"), KEPT),
                 "rule 3: a condition on \"processing\" needs the template to keep that kind");
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"sharing\"}"), KEPT),
                 "rule 3: unknown consent kind \"sharing\"");
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"share\",\"with\":\"astrology\"}"), KEPT),
                 "rule 3: \"with\" is a specialty (debt, social_law, migration, housing, family, addiction) or \"reader\"");
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"share\"}"), KEPT),
                 "rule 3: a \"share\" condition needs \"with\": a specialty or \"reader\"");
    EXPECT_ERROR(try_fields(COND("supervisor", "{\"consent\":\"supervision\",\"with\":\"debt\"}"), KEPT),
                 "rule 3: a \"supervision\" condition takes no \"with\"");
    EXPECT_ERROR(try_fields(COND("client", "{\"consent\":\"share\",\"with\":\"reader\"}"), KEPT),
                 "rule 3: \"with\": \"reader\" (the reader's own specialty) needs a counsellor role, not \"client\"");
    EXPECT_ERROR(try_fields(COND("counsellor:debt", "{\"consent\":\"share\",\"with\":\"housing\"}"), KEPT),
                 "rule 3: \"counsellor:debt\" appears twice in \"read\"");
    CHECK_STR(try_fields(COND("counsellor", "{\"consent\":\"share\",\"with\":\"housing\"}"),
                         "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"share\",\"release\"]}"
                         ",\"stamps\":[]"), "");
    EXPECT_ERROR(try_fields(COND("counsellor", "{\"consent\":\"release\"}"),
                            "\"consents\":{\"path\":[\"consents\"],\"kinds\":[\"release\"]}"),
                 "rule 3: a \"release\" consent concerns disclosure outside Konsil: no rule can depend on it");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[{\"role\":\"counsellor\"}],\"write\":[]}", KEPT),
                 "rule 3: a conditioned selector is {\"role\": \"…\", \"if\": {\"consent\": \"…\", \"with\": \"…\"}}");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[{\"role\":\"counsellor\",\"when\":{}}],\"write\":[]}", KEPT),
                 "rule 3: unknown field \"when\"");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[{\"role\":\"counsellor\",\"if\":{\"consent\":\"share\",\"with\":\"debt\",\"until\":1}}],\"write\":[]}", KEPT),
                 "rule 3: unknown field \"until\"");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[{\"role\":\"counselor\",\"if\":{\"consent\":\"share\",\"with\":\"debt\"}}],\"write\":[]}", KEPT),
                 "rule 3: unknown role \"counselor\"");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[\"counsellor\"],\"write\":[{\"role\":\"counsellor\",\"if\":{\"consent\":\"share\",\"with\":\"debt\"}}]}", KEPT),
                 "rule 3: \"write\" takes roles only: a consent decides what is disclosed (read), not who keeps a part");
    EXPECT_ERROR(try_fields(",{\"path\":[\"a\"],\"read\":[{\"role\":\"counsellor:debt\",\"if\":{\"consent\":\"share\",\"with\":\"debt\"}}],\"write\":[\"counsellor:debt\"]}", KEPT),
                 "rule 3: every role in the write list must also be in the read list");
    /* stamps */
    EXPECT_ERROR(try_fields("", "\"stamps\":{}"), "template: \"stamps\" must be an array");
    EXPECT_ERROR(try_fields("", "\"stamps\":[1]"), "stamp 0: must be an object {\"path\", \"fields\"}");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"chat\"],\"fields\":{\"at\":\"now\"},\"x\":1}]"),
                 "stamp 0: unknown field \"x\"");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[],\"fields\":{\"at\":\"now\"}}]"),
                 "stamp 0: \"path\" must be a non-empty array of object keys (\"*\" for any key)");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"a\",\"b\"],\"fields\":{\"at\":\"now\"}}]"),
                 "stamp 0: [\"a\",\"b\"] must name lists of the document (through object keys)");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"notes\",\"*\"],\"fields\":{\"at\":\"now\"}}]"),
                 "stamp 0: [\"notes\",\"*\"] must name lists of the document");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"missing\"],\"fields\":{\"at\":\"now\"}}]"),
                 "must name lists of the document");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"notes\",\"*\",\"n\"],\"fields\":{\"at\":\"now\"}},"
                                "{\"path\":[\"notes\",\"x\",\"n\"],\"fields\":{\"by\":\"author\"}}]"),
                 "stamp 1: [\"notes\",\"x\",\"n\"] names a list stamp 0 names already");
    EXPECT_ERROR(try_fields("", KEPT ",\"stamps\":[{\"path\":[\"consents\"],\"fields\":{\"at\":\"now\"}}]"),
                 "stamp 0: [\"consents\"] is the consent list: its stamps are fixed");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"chat\"],\"fields\":{}}]"),
                 "stamp 0: \"fields\" must be a non-empty object of field: source");
    EXPECT_ERROR(try_fields("", "\"stamps\":[{\"path\":[\"chat\"],\"fields\":{\"at\":\"time\"}}]"),
                 "stamp 0: unknown source for \"at\" (known: author, author_role, author_name, now)");
    /* structured */
    EXPECT_ERROR(try_fields("", "\"structured\":{}"), "template: \"structured\" must be an array of paths");
    EXPECT_ERROR(try_fields("", "\"structured\":[[]]"),
                 "structured 0: must be a non-empty array of object keys (\"*\" for any key)");
    EXPECT_ERROR(try_fields("", "\"structured\":[[\"a\",\"b\"],[\"a\",\"bb\"]]"),
                 "structured 1: [\"a\",\"bb\"] names nothing in the document");
    EXPECT_ERROR(try_fields("", "\"structured\":[[\"a\",\"b\",\"c\"]]"),
                 "structured 0: [\"a\",\"b\",\"c\"] names nothing in the document");
    CHECK_STR(try_fields("", "\"structured\":[[\"a\",\"list\",\"anything\"],[\"*\",\"s\"],[\"notes\",\"*\",\"s\"]]"), "");
    EXPECT_ERROR(try_fields("", "\"structured\":[[\"notes\",\"*\",\"zz\"]]"), "names nothing");
}

static void default_template_fields(void)
{
    auth_error err = {{0}};
    template_spec *t = template_default(&err);
    size_t n = 0;
    const template_stamp *st = t ? template_stamps(t, &n) : NULL;
    cJSON *path = cJSON_Parse("[\"sections\",\"debt\",\"client_summary\"]");
    const access_rule *rule = t ? access_rules_match(template_rules(t), path) : NULL;

    CHECK(t != NULL);
    CHECK(t && cJSON_GetArraySize(template_consent_path(t)) == 1);
    CHECK(t && template_consent_kinds(t) == 0xF);
    CHECK(n == 6 && st && strcmp(st[0].fields[0].name, "from") == 0);
    CHECK(t && cJSON_GetArraySize(template_structured(t)) > 30);
    CHECK(rule && rule->n_conds == 1 && rule->conds[0].role == ACCESS_COUNSELLOR &&
          rule->conds[0].with == ACCESS_WITH_READER);
    cJSON_Delete(path);
    template_free(t);
}

/* "limits": the size limits of the template's case sheets, each optional. */
static void template_sheet_limits(void)
{
    const char *ok = "{\"name\":\"t\",\"title\":\"T\",\"document\":{},\"rules\":[" ROOT "],"
                     "\"limits\":{\"sheet_bytes\":1000000,\"item_bytes\":4096,"
                     "\"append_bytes\":50000,\"append_window_secs\":600}}";
    auth_error err = {{0}};
    template_spec *t = template_parse(ok, strlen(ok), &err);
    CHECK(t != NULL);
    if (t) {
        const template_limits *l = template_size_limits(t);
        CHECK(l->sheet_bytes == 1000000 && l->item_bytes == 4096 && l->string_bytes == 0 &&
              l->append_bytes == 50000 && l->append_window_secs == 600);
        template_free(t);
    }
    t = template_default(&err);
    CHECK(t && template_size_limits(t)->sheet_bytes == 0);     /* the server's defaults */
    template_free(t);
    EXPECT_ERROR(try_fields("", "\"limits\":[]"), "template: \"limits\" must be an object");
    EXPECT_ERROR(try_fields("", "\"limits\":{\"sheet\":1}"), "limits: unknown field \"sheet\"");
    EXPECT_ERROR(try_fields("", "\"limits\":{\"item_bytes\":0}"),
                 "limits: \"item_bytes\" must be an integer from 1 to 1073741824");
    EXPECT_ERROR(try_fields("", "\"limits\":{\"string_bytes\":1.5}"),
                 "limits: \"string_bytes\" must be an integer");
    EXPECT_ERROR(try_fields("", "\"limits\":{\"append_window_secs\":2592001}"),
                 "limits: \"append_window_secs\" must be an integer from 1 to 2592000");
    CHECK_STR(try_fields("", "\"limits\":{\"string_bytes\":100}"), "");
}

static void template_size_and_depth_limits(void)
{
    char *deep = malloc(2000);
    size_t n = 0;
    for (int i = 0; i < 70; i++) n += (size_t)sprintf(deep + n, "{\"k\":");
    n += (size_t)sprintf(deep + n, "1");
    for (int i = 0; i < 70; i++) deep[n++] = '}';
    deep[n] = '\0';
    EXPECT_ERROR(try_template(deep, "[" ROOT "]"), "nested deeper");
    free(deep);
    auth_error err = {{0}};
    CHECK(template_parse("{}", (size_t)TEMPLATE_TEXT_MAX + 1, &err) == NULL);
    CHECK(strstr(err.message, "larger than") != NULL);
}

/* ---- rule semantics ------------------------------------------------------------ */

static auth_principal principal(auth_role role, auth_specialty s, bool is_lead)
{
    auth_principal p;
    auth_error err = {{0}};
    if (auth_principal_init(&p, "p-1", "P", role, s, is_lead, &err) != 0) {
        fprintf(stderr, "principal: %s\n", err.message);
        abort();
    }
    return p;
}

static bool reads(const template_spec *t, const auth_principal *p, const char *path_text)
{
    cJSON *path = cJSON_Parse(path_text);
    bool v = access_can_read(template_rules(t), p, path);
    cJSON_Delete(path);
    return v;
}

static bool writes(const template_spec *t, const auth_principal *p, const char *path_text)
{
    cJSON *path = cJSON_Parse(path_text);
    bool v = access_can_write(template_rules(t), p, path);
    cJSON_Delete(path);
    return v;
}

static void rule_semantics(void)
{
    const char *text =
        "{\"name\":\"semantics\",\"title\":\"Rule semantics\","
        " \"document\":{\"open\":{\"closed\":{\"reopened\":\"\"}},\"shared\":\"\",\"mixed\":\"\","
        "               \"leads\":\"\"},"
        " \"rules\":["
        "  {\"path\":[],\"read\":[\"client\",\"counsellor\",\"supervisor\"],\"write\":[\"client\"]},"
        "  {\"path\":[\"open\",\"closed\"],\"read\":[],\"write\":[]},"
        "  {\"path\":[\"open\",\"closed\",\"reopened\"],\"read\":[\"client\"],\"write\":[\"client\"]},"
        "  {\"path\":[\"mixed\"],\"read\":[\"client\",\"counsellor:debt\"],\"write\":[\"counsellor:debt\"]},"
        "  {\"path\":[\"shared\"],\"read\":[\"counsellor\"],\"write\":[\"counsellor\"]},"
        "  {\"path\":[\"leads\"],\"read\":[\"lead\"],\"write\":[\"lead\"]}"
        " ]}";
    auth_error err = {{0}};
    template_spec *t = template_parse(text, strlen(text), &err);
    if (!t) {
        fprintf(stderr, "  %s\n", err.message);
        CHECK(t != NULL);
        return;
    }
    auth_principal client = principal(AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false);
    auth_principal debt = principal(AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, false);
    auth_principal housing = principal(AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, false);
    auth_principal lead = principal(AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, true);
    auth_principal supervisor = principal(AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);
    auth_principal admin = principal(AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false);

    /* Longest prefix: the deeper rule wins in both directions. */
    CHECK(reads(t, &client, "[\"open\"]"));
    CHECK(!reads(t, &client, "[\"open\",\"closed\"]"));
    CHECK(!reads(t, &client, "[\"open\",\"closed\",\"other\"]"));
    CHECK(reads(t, &client, "[\"open\",\"closed\",\"reopened\"]"));
    CHECK(reads(t, &client, "[\"open\",\"closed\",\"reopened\",3]"));
    CHECK(writes(t, &client, "[\"open\",\"closed\",\"reopened\"]"));
    CHECK(!reads(t, &debt, "[\"open\",\"closed\",\"reopened\"]"));
    CHECK(reads(t, &client, "[\"anything\",\"else\"]"));
    /* Union of selectors; a specialty selector matches only that specialty. */
    CHECK(reads(t, &client, "[\"mixed\"]"));
    CHECK(reads(t, &debt, "[\"mixed\"]") && writes(t, &debt, "[\"mixed\"]"));
    CHECK(!reads(t, &housing, "[\"mixed\"]"));
    CHECK(!writes(t, &client, "[\"mixed\"]"));
    /* Lead is a counsellor; "lead" matches only the lead. */
    CHECK(reads(t, &lead, "[\"shared\"]") && writes(t, &lead, "[\"shared\"]"));
    CHECK(reads(t, &lead, "[\"leads\"]") && writes(t, &lead, "[\"leads\"]"));
    CHECK(!reads(t, &housing, "[\"leads\"]"));
    CHECK(!reads(t, &client, "[\"shared\"]"));
    /* Supervisors read where named and never write; admins get nothing. */
    CHECK(reads(t, &supervisor, "[\"open\"]") && !writes(t, &supervisor, "[\"open\"]"));
    CHECK(!reads(t, &supervisor, "[\"shared\"]"));
    CHECK(!reads(t, &admin, "[\"open\"]") && !writes(t, &admin, "[\"open\"]"));
    template_free(t);
}

static void selector_parsing(void)
{
    access_set s = 0;
    auth_error err = {{0}};
    CHECK(access_selector_parse("counsellor:social_law", &s, &err) == 0);
    CHECK(s == ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_SOCIAL_LAW));
    CHECK(access_selector_parse("lead", &s, &err) == 0 && s == ACCESS_LEAD);
    CHECK(access_selector_parse("Client", &s, &err) == -1);
    CHECK(strstr(err.message, "known:") != NULL);
    CHECK(access_selector_parse("counsellor:", &s, &err) == -1);
    CHECK(access_selector_parse(NULL, &s, &err) == -1);
}

int main(void)
{
    RUN(default_template_equals_the_file);
    RUN(default_template_parses);
    RUN(template_validation_errors);
    RUN(rule_validation_errors);
    RUN(template_field_errors);
    RUN(retention_fields);
    RUN(default_template_fields);
    RUN(template_size_and_depth_limits);
    RUN(template_sheet_limits);
    RUN(rule_semantics);
    RUN(selector_parsing);
    return unit_finish("test_auth_template");
}
