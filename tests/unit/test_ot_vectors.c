/*
 * Runs every case of the files protocol/test-vectors/NAME.json through the C engine, exactly as a
 * `konsil ot` request ({"fn":..., "args":...} -> ot_request_handle), and compares the
 * answer: "result" must deep-equal the expected one (object key order ignored, numbers
 * by value), "error": true cases must be refused. One test per case. Runs from the
 * repository root. The vector format is described in protocol/test-vectors/README.md.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot/ot_request.h"
#include "unit.h"
#include "util/json_util.h"

#define VECTOR_GLOB "protocol/test-vectors/*.json"

/* cJSON prints a number with 15 significant digits whenever that comes within about an
 * ulp of it, so 0.30000000000000004 would reach the engine as 0.3. Turning every number
 * of a tree (owned by this test) into raw text with the shortest exact spelling keeps
 * requests and diagnostics faithful to the vector files. */
static void spell_numbers_exactly(cJSON *v)
{
    for (cJSON *c = v ? v->child : NULL; c; c = c->next)
        spell_numbers_exactly(c);
    if (!v || !cJSON_IsNumber(v))
        return;
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v->valuedouble);
        if (strtod(text, NULL) == v->valuedouble)
            break;
    }
    char *raw = malloc(strlen(text) + 1);
    if (!raw)
        return;
    strcpy(raw, text);
    v->type = cJSON_Raw | (v->type & ~0xFF);
    v->valuestring = raw;
}

static void record(int ok)
{
    if (ok)
        unit_passed++;
    else
        unit_failed++;
}

/* Runs one case; returns 1 when the engine's answer is the expected one. */
static int run_case(const char *file, const cJSON *c)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "fn");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "args");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(c, "result");
    int want_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "error"));
    const char *case_name = cJSON_IsString(name) ? name->valuestring : "(unnamed)";

    if (!cJSON_IsString(fn) || !cJSON_IsArray(args) || (want_error == (expected != NULL))) {
        fprintf(stderr, "FAIL %s: %s: malformed case\n", file, case_name);
        return 0;
    }

    cJSON *expected_exact = expected ? cJSON_Duplicate(expected, 1) : NULL;
    spell_numbers_exactly(expected_exact);
    spell_numbers_exactly((cJSON *)args);
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "fn", fn->valuestring);
    cJSON_AddItemReferenceToObject(request, "args", (cJSON *)args);
    char *request_text = cJSON_PrintUnformatted(request);
    cJSON_Delete(request);
    if (!request_text) {
        fprintf(stderr, "FAIL %s: %s: cannot print the request\n", file, case_name);
        return 0;
    }

    char *answer_text = ot_request_handle(request_text, strlen(request_text));
    cJSON *answer = answer_text ? cJSON_Parse(answer_text) : NULL;
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(answer, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(answer, "error");

    int ok;
    if (want_error)
        ok = cJSON_IsString(error) && error->valuestring[0] != '\0' && !result;
    else
        ok = result && !error && json_equal(result, expected);

    if (!ok) {
        char *expected_text = want_error ? NULL : cJSON_PrintUnformatted(expected_exact);
        fprintf(stderr, "FAIL %s: %s\n  request:  %s\n  expected: %s\n  got:      %s\n",
                file, case_name, request_text,
                want_error ? "{\"error\":...}" : (expected_text ? expected_text : "?"),
                answer_text ? answer_text : "(NULL)");
        free(expected_text);
    }
    cJSON_Delete(expected_exact);
    cJSON_Delete(answer);
    free(answer_text);
    free(request_text);
    return ok;
}

static void run_file(const char *path)
{
    size_t len = 0;
    char *text = unit_read_file(path, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    if (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0) {
        fprintf(stderr, "FAIL %s: cannot read its cases\n", path);
        record(0);
    } else {
        const cJSON *c;
        cJSON_ArrayForEach(c, cases) record(run_case(path, c));
    }
    cJSON_Delete(doc);
    free(text);
}

int main(void)
{
    glob_t files;
    int rc = glob(VECTOR_GLOB, 0, NULL, &files);
    if (rc != 0 || files.gl_pathc == 0) {
        fprintf(stderr, "FAIL no vector files match %s (run from the repository root)\n",
                VECTOR_GLOB);
        record(0);
    } else {
        for (size_t i = 0; i < files.gl_pathc; i++)
            run_file(files.gl_pathv[i]);
    }
    if (rc == 0)
        globfree(&files);
    int status = unit_finish("test_ot_vectors");
    fflush(stdout); /* keep the closing line even if LeakSanitizer ends the process */
    return status;
}
