/*
 * Pseudonymisation over the default template: identity fields always read as the
 * pseudonym, edits of them vanish without breaking the version alignment (applying the
 * pseudonymised op to the pseudonymised snapshot gives the pseudonymised new document),
 * and known names are redacted inside append-only items such as chat messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/access_pseudo.h"
#include "auth/template.h"
#include "ot/json0.h"
#include "unit.h"
#include "util/json_util.h"

static template_spec *tpl;
static access_pseudo *ps;

static cJSON *J(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!v) {
        fprintf(stderr, "test JSON does not parse: %s\n", text);
        abort();
    }
    return v;
}

static int contains(const cJSON *v, const char *needle)
{
    char *text = cJSON_PrintUnformatted(v);
    int found = text && strstr(text, needle) != NULL;

    cJSON_free(text);
    return found;
}

static cJSON *pseudo_snapshot(const cJSON *doc)
{
    cJSON *copy = cJSON_Duplicate(doc, 1);

    access_pseudo_snapshot(ps, copy);
    return copy;
}

/* Applies op to *doc and checks the invariant against the pseudonymised views. */
static void step_op(cJSON **doc, cJSON *op, const char *op_text)
{
    cJSON *pop = cJSON_Duplicate(op, 1);
    cJSON *before = pseudo_snapshot(*doc), *after;
    ot_error err;

    access_pseudo_op(ps, pop);
    CHECK(ot_apply(doc, op, &err) == 0);
    CHECK(ot_apply(&before, pop, &err) == 0);
    after = pseudo_snapshot(*doc);
    CHECK(json_equal(before, after));
    if (!json_equal(before, after))
        fprintf(stderr, "  after %s\n", op_text);
    cJSON_Delete(op);
    cJSON_Delete(pop);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void step(cJSON **doc, const char *op_text)
{
    step_op(doc, J(op_text), op_text);
}

/* Replaces the whole person section with the object in text. */
static void replace_person(cJSON **doc, const char *text)
{
    cJSON *op = cJSON_CreateArray(), *c = cJSON_CreateObject();

    cJSON_AddItemToArray(op, c);
    cJSON_AddItemToObject(c, "p", J("[\"person\"]"));
    cJSON_AddItemToObject(c, "od", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(*doc, "person"), 1));
    cJSON_AddItemToObject(c, "oi", J(text));
    step_op(doc, op, text);
}

static void identity_fields_read_as_pseudonym(void)
{
    cJSON *doc = cJSON_Duplicate(template_document(tpl), 1), *s;

    s = pseudo_snapshot(doc);
    CHECK(contains(s, "\"legal_name\":\"" ACCESS_PSEUDONYM "\""));
    CHECK(contains(s, "\"email\":\"" ACCESS_PSEUDONYM "\""));
    CHECK(contains(s, "\"age_bracket\":\"\""));     /* not an identity field */
    cJSON_Delete(s);
    cJSON_Delete(doc);
}

static void edits_keep_versions_aligned(void)
{
    cJSON *doc = cJSON_Duplicate(template_document(tpl), 1), *s;

    CHECK(access_pseudo_add_name(ps, "Frau K.") == 0);
    step(&doc, "[{\"p\":[\"person\",\"legal_name\",0],\"si\":\"Mira Sommerfeld\"}]");
    step(&doc, "[{\"p\":[\"person\",\"legal_name\",4],\"sd\":\" \"}]");
    step(&doc, "[{\"p\":[\"person\",\"phone\"],\"od\":\"\",\"oi\":\"0171 555\"}]");
    step(&doc, "[{\"p\":[\"person\",\"email\"],\"od\":\"\"}]");
    step(&doc, "[{\"p\":[\"person\",\"email\"],\"oi\":\"mira@example.org\"}]");
    step(&doc, "[{\"p\":[\"person\",\"age_bracket\",0],\"si\":\"30-39\"}]");
    replace_person(&doc, "{\"display_name\":\"Mira\",\"address\":\"Lindenweg 4\","
                         "\"age_bracket\":\"30-39\"}");
    step(&doc, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"Miete\"}]");
    CHECK(access_pseudo_learn(ps, doc) == 0);
    step(&doc, "[{\"p\":[\"chat\",0],\"li\":{\"from\":\"Frau K.\",\"text\":\"Ich bin Mira, "
               "Lindenweg 4\"}}]");
    s = pseudo_snapshot(doc);
    CHECK(!contains(s, "Sommerfeld") && !contains(s, "0171") && !contains(s, "mira@"));
    CHECK(!contains(s, "Lindenweg") && !contains(s, "Mira") && !contains(s, "Frau K."));
    CHECK(contains(s, "Miete") && contains(s, "30-39"));
    cJSON_Delete(s);
    cJSON_Delete(doc);
}

static void removed_components(void)
{
    cJSON *op = J("[{\"p\":[\"person\",\"legal_name\",0],\"si\":\"X\"},"
                  "{\"p\":[\"concern\",\"own_words\",0],\"si\":\"Y\"},"
                  "{\"p\":[\"person\",\"phone\"],\"od\":\"1\",\"oi\":\"2\"}]");

    access_pseudo_op(ps, op);
    CHECK(cJSON_GetArraySize(op) == 1 && contains(op, "own_words"));
    cJSON_Delete(op);
}

static void templates_name_identity_paths(void)
{
    static const char not_string[] =
        "{\"name\":\"x\",\"title\":\"X\",\"document\":{\"a\":{\"n\":1}},"
        "\"rules\":[{\"path\":[],\"read\":[\"counsellor\"],\"write\":[]}],"
        "\"identity\":[[\"a\",\"n\"]]}";
    static const char no_path[] =
        "{\"name\":\"x\",\"title\":\"X\",\"document\":{\"a\":{\"n\":\"\"}},"
        "\"rules\":[{\"path\":[],\"read\":[\"counsellor\"],\"write\":[]}],"
        "\"identity\":[[\"a\",\"m\"]]}";
    auth_error err = {{0}};

    CHECK(template_parse(not_string, strlen(not_string), &err) == NULL &&
          strstr(err.message, "identity 0: must name a string"));
    err.message[0] = '\0';
    CHECK(template_parse(no_path, strlen(no_path), &err) == NULL &&
          strstr(err.message, "identity 0: not a path"));
    CHECK(cJSON_GetArraySize(template_identity(tpl)) == 6);
}

int main(void)
{
    auth_error err = {{0}};

    tpl = template_default(&err);
    ps = tpl ? access_pseudo_new(template_identity(tpl), template_rules(tpl)) : NULL;
    if (!ps) {
        fprintf(stderr, "default template: %s\n", err.message);
        return 1;
    }
    RUN(identity_fields_read_as_pseudonym);
    RUN(edits_keep_versions_aligned);
    RUN(removed_components);
    RUN(templates_name_identity_paths);
    access_pseudo_free(ps);
    template_free(tpl);
    return unit_finish("test_auth_pseudo");
}
