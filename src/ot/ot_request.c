/*
 * The `konsil ot` request, as pure code; see ot_request.h.
 * Invariant: one answer per request, whatever it holds; the request's own values are
 * never modified except the document of "apply", which this function owns after parsing.
 */
#include "ot/ot_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot/json0.h"
#include "util/json_print.h"
#include "util/json_util.h"

static char *answer(const char *key, cJSON *value /* owned */)
{
    cJSON *out = cJSON_CreateObject();
    char *text = NULL;
    if (out && value) {
        cJSON_AddItemToObject(out, key, value);
        value = NULL;
        text = json_print(out);
    }
    cJSON_Delete(value);
    cJSON_Delete(out);
    return text;
}

static char *error_answer(const char *message)
{
    return answer("error", cJSON_CreateString(message));
}

static int arg_count(const cJSON *args)
{
    return cJSON_GetArraySize(args);
}

char *ot_request_handle(const char *text, size_t len)
{
    ot_error err = {{0}};
    const char *end = NULL, *why = NULL;
    if (json_text_has_nul(text, len)) return error_answer("request refused: it holds a NUL character");
    cJSON *req = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    cJSON *result = NULL;
    char *out = NULL;
    if (!req) return error_answer("request is not valid JSON");
    while (end && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end && end < text + len) {
        out = error_answer("request has text after its JSON value");
        goto done;
    }
    if (json_check_clean(req, &why) != 0) {
        char message[120];
        snprintf(message, sizeof message, "request refused: %s", why);
        out = error_answer(message);
        goto done;
    }
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(req, "fn");
    cJSON *args = cJSON_GetObjectItemCaseSensitive(req, "args");
    if (!json_is_object(req) || !json_is_string(fn) || !json_is_array(args)) {
        out = error_answer("request must be {\"fn\": name, \"args\": [...]}");
        goto done;
    }
    const char *name = fn->valuestring;
    int n = arg_count(args);
    cJSON *a0 = cJSON_GetArrayItem(args, 0), *a1 = cJSON_GetArrayItem(args, 1);
    cJSON *a2 = cJSON_GetArrayItem(args, 2);
    if (strcmp(name, "apply") == 0 && n == 2) {
        cJSON *doc = cJSON_DetachItemViaPointer(args, a0);
        if (ot_apply(&doc, a1, &err) == 0) result = doc;
        else cJSON_Delete(doc);
    } else if (strcmp(name, "transform") == 0 && n == 3) {
        if (!json_is_string(a2) ||
            (strcmp(a2->valuestring, "left") != 0 && strcmp(a2->valuestring, "right") != 0))
            snprintf(err.message, sizeof err.message, "type must be 'left' or 'right'");
        else
            result = ot_transform(a0, a1, strcmp(a2->valuestring, "left") == 0 ? OT_LEFT : OT_RIGHT,
                                  &err);
    } else if (strcmp(name, "compose") == 0 && n == 2) {
        result = ot_compose(a0, a1, &err);
    } else if (strcmp(name, "invert") == 0 && n == 1) {
        result = ot_invert(a0, &err);
    } else if (strcmp(name, "normalize") == 0 && n == 1) {
        result = ot_normalize(a0, &err);
    } else {
        snprintf(err.message, sizeof err.message,
                 "unknown function or wrong number of arguments: %.60s/%d", name, n);
    }
    if (result) out = answer("result", result);
    else out = error_answer(err.message[0] ? err.message : "operation failed");
done:
    cJSON_Delete(req);
    return out;
}
