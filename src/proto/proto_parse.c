/*
 * Parsing and validation of client messages (see proto.h). The checks follow ShareDB's
 * Agent._checkRequest and createClientOp, tightened where ShareDB relies on JavaScript
 * looseness: integers must be integers, names must be bounded strings, and edit ops
 * must have the shape the json0 engine accepts.
 */
#include "proto/proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doc/doc.h"
#include "ot/json0.h"
#include "util/json_util.h"

static const struct {
    const char *name;
    proto_action action;
} actions[] = {
    {"hs", PROTO_HS}, {"f", PROTO_F}, {"s", PROTO_S}, {"u", PROTO_U},
    {"bf", PROTO_BF}, {"bs", PROTO_BS}, {"bu", PROTO_BU}, {"op", PROTO_OP},
    {"nf", PROTO_NF}, {"nt", PROTO_NT}, {"pp", PROTO_PP}, {"p", PROTO_P},
    {"ps", PROTO_PS}, {"pu", PROTO_PU}, {"pr", PROTO_PR}, {"qf", PROTO_QF},
    {"qs", PROTO_QS}, {"qu", PROTO_QU},
};

const char *proto_action_name(proto_action a)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (actions[i].action == a)
            return actions[i].name;
    return "?";
}

int proto_name_is_dangerous(const char *name)
{
    /* Object.getOwnPropertyNames(Object.prototype), what ShareDB refuses. */
    static const char *const names[] = {
        "__proto__", "constructor", "__defineGetter__", "__defineSetter__",
        "hasOwnProperty", "__lookupGetter__", "__lookupSetter__", "isPrototypeOf",
        "propertyIsEnumerable", "toString", "valueOf", "toLocaleString",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static int fail(proto_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

/* A JSON number that is an integer in [0, 2^53 - 1]. */
static int as_count(const cJSON *v, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > (double)PROTO_MAX_SAFE || floor(d) != d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static int valid_name(const cJSON *v, const proto_limits *lim)
{
    size_t n;

    if (!cJSON_IsString(v) || !v->valuestring)
        return 0;
    n = strlen(v->valuestring);
    return n > 0 && n <= lim->max_name && !proto_name_is_dangerous(v->valuestring);
}

/* An optional name field: absent/null gives NULL, anything else must be a valid name. */
static int opt_name(const cJSON *root, const char *key, const proto_limits *lim,
                    const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

    *out = NULL;
    if (is_null(v))
        return 0;
    if (!valid_name(v, lim))
        return -1;
    *out = v->valuestring;
    return 0;
}

static int opt_version(const cJSON *root, const char *key, int *has, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

    *has = 0;
    if (is_null(v))
        return 0;
    if (as_count(v, out) != 0)
        return -1;
    *has = 1;
    return 0;
}

static int parse_doc_fields(proto_msg *m, const proto_limits *lim, proto_error *err)
{
    if (opt_name(m->root, "c", lim, &m->c) != 0 || !m->c)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid collection");
    if (opt_name(m->root, "d", lim, &m->d) != 0 || !m->d)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid id");
    if (opt_version(m->root, "v", &m->has_v, &m->v) != 0)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid version");
    return 0;
}

static int parse_seq(proto_msg *m, proto_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->root, "seq");

    if (cJSON_IsNumber(v) && v->valuedouble >= (double)PROTO_MAX_SAFE)
        return fail(err, PROTO_ERR_SEQ_OVERFLOW,
                    "Connection seq has exceeded the max safe integer, maybe from being "
                    "open for too long");
    if (as_count(v, &m->seq) != 0)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid seq");
    return 0;
}

static int parse_op(proto_msg *m, const proto_limits *lim, proto_error *err)
{
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(m->root, "op");
    const cJSON *create = cJSON_GetObjectItemCaseSensitive(m->root, "create");
    const cJSON *del = cJSON_GetObjectItemCaseSensitive(m->root, "del");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(m->root, "src");
    ot_error oerr = {""};

    if (parse_doc_fields(m, lim, err) != 0)
        return -1;
    if (parse_seq(m, err) != 0)
        return -1;
    if (!is_null(src)) {
        if (!valid_name(src, lim))
            return fail(err, PROTO_ERR_OT_BADLY_FORMED, "src must be a string");
        m->src = src->valuestring;
    }
    /* ShareDB's precedence: an "op" key wins over create, create over del. */
    if (op) {
        m->kind = PROTO_EDIT;
        if (!cJSON_IsArray(op))
            return fail(err, PROTO_ERR_OT_BADLY_FORMED, "json0 op must be an array");
        if (ot_check_op(op, &oerr) != 0)
            return fail(err, PROTO_ERR_REJECTED, "%s", oerr.message);
        m->op = op;
        return 0;
    }
    if (!is_null(create) && !cJSON_IsFalse(create)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(create, "type");
        m->kind = PROTO_CREATE;
        if (!cJSON_IsObject(create))
            return fail(err, PROTO_ERR_OT_BADLY_FORMED, "Create data must be an object");
        if (!cJSON_IsString(type))
            return fail(err, PROTO_ERR_OT_BADLY_FORMED, "Missing create type");
        if (strcmp(type->valuestring, "json0") != 0 &&
            strcmp(type->valuestring, DOC_TYPE_URI) != 0)
            return fail(err, PROTO_ERR_TYPE_UNKNOWN, "Unknown type");
        m->create_data = cJSON_GetObjectItemCaseSensitive(create, "data");
        return 0;
    }
    if (!is_null(del) && !cJSON_IsFalse(del)) {
        m->kind = PROTO_DEL;
        if (!cJSON_IsTrue(del))
            return fail(err, PROTO_ERR_OT_BADLY_FORMED, "del value must be true");
        return 0;
    }
    return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid op message");
}

static int parse_bulk(proto_msg *m, const proto_limits *lim, proto_error *err)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(m->root, "b");
    const cJSON *item;
    size_t n = 0;

    if (opt_name(m->root, "c", lim, &m->c) != 0 || !m->c)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid collection");
    if (!cJSON_IsArray(b) && !cJSON_IsObject(b))
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid bulk subscribe data");
    if (m->action == PROTO_BU && !cJSON_IsArray(b))
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid bulk unsubscribe data");
    cJSON_ArrayForEach(item, b) {
        int64_t v;
        if (++n > lim->max_bulk)
            return fail(err, PROTO_ERR_LIMIT, "Too many documents in one request");
        if (cJSON_IsArray(b)) {
            if (!valid_name(item, lim))
                return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid id");
            continue;
        }
        if (!item->string || strlen(item->string) == 0 ||
            strlen(item->string) > lim->max_name || proto_name_is_dangerous(item->string))
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid id");
        if (!is_null(item) && as_count(item, &v) != 0)
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid version");
    }
    /* Duplicate ids would make one document answer twice. */
    for (const cJSON *x = b->child; x; x = x->next)
        for (const cJSON *y = x->next; y; y = y->next) {
            const char *a = cJSON_IsArray(b) ? x->valuestring : x->string;
            const char *c = cJSON_IsArray(b) ? y->valuestring : y->string;
            if (strcmp(a, c) == 0)
                return fail(err, PROTO_ERR_BADLY_FORMED, "Duplicate id");
        }
    m->bulk = b;
    return 0;
}

static int parse_presence(proto_msg *m, const proto_limits *lim, proto_error *err)
{
    if (opt_name(m->root, "ch", lim, &m->ch) != 0 || !m->ch)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid presence channel");
    switch (m->action) {
    case PROTO_P: {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m->root, "id");
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(m->root, "pv");
        int64_t n;
        if (!valid_name(id, lim))
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid presence ID");
        if (as_count(pv, &n) != 0)
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid presence version");
        m->presence_id = id->valuestring;
        m->pv = pv;
        m->presence = cJSON_GetObjectItemCaseSensitive(m->root, "p");
        m->doc_presence = !is_null(cJSON_GetObjectItemCaseSensitive(m->root, "t"));
        return 0;
    }
    case PROTO_PS:
    case PROTO_PU:
        return parse_seq(m, err);
    default:
        return 0;
    }
}

static int parse_request_id(proto_msg *m, int numeric, proto_error *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m->root, "id");

    if (numeric ? !cJSON_IsNumber(id) : !(cJSON_IsNumber(id) || cJSON_IsString(id)))
        return fail(err, PROTO_ERR_BADLY_FORMED,
                    numeric ? "Missing query ID" : "Missing request ID");
    m->req_id = id;
    return 0;
}

static int parse_fields(proto_msg *m, const proto_limits *lim, proto_error *err)
{
    switch (m->action) {
    case PROTO_HS: {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(m->root, "protocol");
        const cJSON *pm = cJSON_GetObjectItemCaseSensitive(m->root, "protocolMinor");
        if ((!is_null(p) && !cJSON_IsNumber(p) && !cJSON_IsString(p)) ||
            (!is_null(pm) && !cJSON_IsNumber(pm) && !cJSON_IsString(pm)))
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid protocol");
        if (opt_name(m->root, "id", lim, &m->hs_id) != 0)
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid client id");
        return 0;
    }
    case PROTO_F:
    case PROTO_S:
    case PROTO_U:
        return parse_doc_fields(m, lim, err);
    case PROTO_OP:
        return parse_op(m, lim, err);
    case PROTO_BF:
    case PROTO_BS:
    case PROTO_BU:
        return parse_bulk(m, lim, err);
    case PROTO_NF:
        if (parse_request_id(m, 0, err) != 0 || parse_doc_fields(m, lim, err) != 0)
            return -1;
        return 0;
    case PROTO_NT:
        if (parse_request_id(m, 0, err) != 0 || parse_doc_fields(m, lim, err) != 0)
            return -1;
        if (opt_version(m->root, "ts", &m->has_ts, &m->ts) != 0)
            return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid timestamp");
        return 0;
    case PROTO_P:
    case PROTO_PS:
    case PROTO_PU:
    case PROTO_PR:
        return parse_presence(m, lim, err);
    case PROTO_QF:
    case PROTO_QS:
    case PROTO_QU:
        return parse_request_id(m, 1, err);
    case PROTO_PP:
        return 0;
    }
    return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid or unknown message");
}

int proto_parse(const char *text, size_t len, const proto_limits *lim, proto_msg *msg,
                proto_error *err)
{
    const cJSON *a;
    size_t i;

    memset(msg, 0, sizeof *msg);
    if (json_text_has_nul(text, len))
        return fail(err, PROTO_ERR_BADLY_FORMED, "Message holds a NUL character");
    msg->root = cJSON_ParseWithLength(text, len);
    if (!msg->root)
        return fail(err, PROTO_ERR_BADLY_FORMED, "Message is not valid JSON");
    if (!cJSON_IsObject(msg->root)) {
        cJSON_Delete(msg->root);
        msg->root = NULL;
        return fail(err, PROTO_ERR_BADLY_FORMED, "Received non-object message");
    }
    a = cJSON_GetObjectItemCaseSensitive(msg->root, "a");
    if (!cJSON_IsString(a))
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid or unknown message");
    for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(a->valuestring, actions[i].name) == 0)
            break;
    if (i == sizeof actions / sizeof actions[0])
        return fail(err, PROTO_ERR_BADLY_FORMED, "Invalid or unknown message");
    msg->action = actions[i].action;
    return parse_fields(msg, lim, err);
}

void proto_msg_free(proto_msg *msg)
{
    cJSON_Delete(msg->root);
    memset(msg, 0, sizeof *msg);
}
