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
    CHECK(access_rules_count(template_rules(t)) == 28);
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
    RUN(template_size_and_depth_limits);
    RUN(rule_semantics);
    RUN(selector_parsing);
    return unit_finish("test_auth_template");
}
