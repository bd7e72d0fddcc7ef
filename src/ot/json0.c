/*
 * json0 over cJSON trees; see json0.h for the contract.
 *
 * transform, compose, invert and normalize are a line-by-line counterpart of json0.js in
 * ot-json0@1.1.0, including its quirks (old si/sd components converted to text0 and back,
 * `===` that never equals two objects, tie-breaks of list moves), because browsers run
 * that library and any difference forks documents. apply is strict and atomic: each
 * component is checked against the document before it changes anything, and an undo log
 * restores the exact previous tree (key order included) if a later component is refused.
 *
 * Delete payloads (ld, od, sd, text0 d) are compared with the document only when an op is
 * applied to a document. Transform also applies the other op's edits to a copy of a delete
 * payload (so the transformed delete stays exact); that copy is edited like a document
 * except that the delete payloads of those edits are not compared with it, as json0.js
 * does not compare them: a concurrent na or si legitimately changes what a payload
 * describes (and number sums round differently in the two orders). Only text deletes are
 * compared there, because text0.js compares them too.
 */
#include "ot/json0.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ot/bootstrap.h"
#include "ot/ot_error.h"
#include "ot/text0.h"
#include "util/utf16.h"
#include "util/json_util.h"

#define MAX_PATH_LENGTH 1000
#define MAX_INDEX 2147483647.0
/* Deepest nesting a document may reach through inserts: far beyond any case sheet, and
 * low enough that recursive copies and comparisons stay cheap and safe. */
#define MAX_DOCUMENT_DEPTH 64
#define NO_COMMON INT_MIN

/* ---- component accessors ------------------------------------------------------------ */

/* Byte-for-byte equality of two keys, written out: keys are short, and a library call
 * per member would cost more than the comparison. */
static bool same_key(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* The member of obj named key (json0 keys are compared exactly, byte for byte). */
static cJSON *member(const cJSON *obj, const char *key)
{
    for (cJSON *c = obj->child; c; c = c->next)
        if (c->string && same_key(c->string, key)) return c;
    return NULL;
}

static cJSON *field(const cJSON *c, const char *key)
{
    return member(c, key);
}

static bool has(const cJSON *c, const char *key)
{
    return field(c, key) != NULL;
}

static cJSON *path_of(const cJSON *c)
{
    return field(c, "p");
}

/* c.p[i] in JavaScript terms: NULL plays `undefined` (i < 0 or past the end). */
static cJSON *path_at(const cJSON *c, int i)
{
    if (i < 0) return NULL;
    cJSON *e = path_of(c)->child;
    while (e && i-- > 0) e = e->next;
    return e;
}

static cJSON *path_last(const cJSON *c)
{
    cJSON *p = path_of(c);
    return p->child ? p->child->prev : NULL;
}

/* Path elements compared with JavaScript's ===. */
static bool same_element(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return a == b;
    if (json_is_number(a) && json_is_number(b)) return a->valuedouble == b->valuedouble;
    if (json_is_string(a) && json_is_string(b)) return strcmp(a->valuestring, b->valuestring) == 0;
    return false;
}

/* A path element as a number; NaN for anything else, which makes every comparison false
 * exactly as JavaScript's relational operators do against a number. */
static double number_at(const cJSON *c, int i)
{
    const cJSON *e = path_at(c, i);
    return json_is_number(e) ? e->valuedouble : NAN;
}

static double lm_of(const cJSON *c)
{
    return field(c, "lm")->valuedouble;
}

static void set_number(cJSON *item, double v)
{
    cJSON_SetNumberValue(item, v);
}

static void path_add(cJSON *c, int i, double delta)
{
    cJSON *e = path_at(c, i);
    if (json_is_number(e)) set_number(e, e->valuedouble + delta);
}

/* JavaScript's === on two JSON values: objects and arrays are never equal (different
 * references), primitives by type and value. */
static bool js_strict_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return a == b;
    if (json_is_object(a) || json_is_array(a) || json_is_object(b) || json_is_array(b))
        return false;
    return json_equal(a, b);
}

static bool is_text_form(const cJSON *c)
{
    return has(c, "si") || has(c, "sd");
}

/* Replaces (or adds) c[key] with value, taking ownership of value. */
static void set_field(cJSON *c, const char *key, cJSON *value)
{
    if (has(c, key)) cJSON_ReplaceItemInObjectCaseSensitive(c, key, value);
    else cJSON_AddItemToObject(c, key, value);
}

static void remove_field(cJSON *c, const char *key)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c, key);
}

static cJSON *duplicate(const cJSON *v, ot_error *err)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d) ot_fail(err, "out of memory");
    return d;
}

/* ---- shape checks ------------------------------------------------------------------ */

static bool forbidden_key(const char *k)
{
    switch (k[0]) {
    case '_': return same_key(k, "__proto__");
    case 'c': return same_key(k, "constructor");
    case 'p': return same_key(k, "prototype");
    default: return false;
    }
}

static bool is_index(const cJSON *v)
{
    /* In range first, so the conversion is defined; it truncates, which keeps whole
     * numbers only. (floor() would be a library call on every path element.) */
    return json_is_number(v) && v->valuedouble >= 0 && v->valuedouble <= MAX_INDEX &&
           v->valuedouble == (double)(long)v->valuedouble;
}

/* deep: keys that become document keys (the last of an oi path) must be well-formed
 * UTF-8; any other key only has to match an existing key, which a malformed one never
 * does. */
static int check_path(const cJSON *p, bool deep, ot_error *err)
{
    if (!json_is_array(p)) return ot_fail(err, "component is missing its path \"p\" (an array)");
    int n = 0;
    for (const cJSON *e = p->child; e; e = e->next, n++) {
        if (n >= MAX_PATH_LENGTH) return ot_fail(err, "path longer than %d elements", MAX_PATH_LENGTH);
        if (json_is_string(e)) {
            if (deep && !e->next && !utf16_valid_utf8(e->valuestring, strlen(e->valuestring)))
                return ot_fail(err, "path element %d is not valid UTF-8", n);
            if (forbidden_key(e->valuestring))
                return ot_fail(err, "path element \"%s\" is not allowed", e->valuestring);
        } else if (!is_index(e)) {
            return ot_fail(err, "path element %d must be an object key (string) or a list index "
                                "(integer >= 0)", n);
        }
    }
    return 0;
}

enum {
    F_P = 1 << 0, F_NA = 1 << 1, F_LI = 1 << 2, F_LD = 1 << 3, F_LM = 1 << 4, F_OI = 1 << 5,
    F_OD = 1 << 6, F_SI = 1 << 7, F_SD = 1 << 8, F_T = 1 << 9, F_O = 1 << 10,
};

/* The flag of a component field name, 0 for names json0 does not know. */
static int field_flag(const char *n)
{
    switch (n[0]) {
    case 'p': return n[1] == '\0' ? F_P : 0;
    case 't': return n[1] == '\0' ? F_T : 0;
    case 'n': return n[1] == 'a' && n[2] == '\0' ? F_NA : 0;
    case 'l':
        if (n[1] == '\0' || n[2] != '\0') return 0;
        return n[1] == 'i' ? F_LI : n[1] == 'd' ? F_LD : n[1] == 'm' ? F_LM : 0;
    case 'o':
        if (n[1] == '\0') return F_O;
        if (n[2] != '\0') return 0;
        return n[1] == 'i' ? F_OI : n[1] == 'd' ? F_OD : 0;
    case 's':
        if (n[1] == '\0' || n[2] != '\0') return 0;
        return n[1] == 'i' ? F_SI : n[1] == 'd' ? F_SD : 0;
    default: return 0;
    }
}

/* The name of a component field as a string literal, for keys that need no copy. */
static const char *field_name(int flag)
{
    switch (flag) {
    case F_P: return "p";
    case F_NA: return "na";
    case F_LI: return "li";
    case F_LD: return "ld";
    case F_LM: return "lm";
    case F_OI: return "oi";
    case F_OD: return "od";
    case F_SI: return "si";
    case F_SD: return "sd";
    case F_T: return "t";
    default: return "o";
    }
}

/* Drops a copied value's key (it goes into a list, or gets another). The key may be a
 * cJSON constant key, which is not freed. */
static void clear_key(cJSON *item)
{
    if (item->string && !(item->type & cJSON_StringIsConst)) cJSON_free(item->string);
    item->type &= ~cJSON_StringIsConst;
    item->string = NULL;
}

/* A string item whose text lives in the item's own allocation, marked as a reference so
 * that cJSON_Delete frees the one block (and cJSON_SetValuestring refuses it). Only for
 * path elements: they are read, never edited in place, and never become document
 * values (cJSON_Duplicate of one makes an ordinary string). NULL when out of memory. */
static cJSON *create_packed_string(const char *text)
{
    size_t n = strlen(text) + 1;
    cJSON *item = cJSON_malloc(sizeof *item + n);
    if (!item) return NULL;
    memset(item, 0, sizeof *item);
    item->type = cJSON_String | cJSON_IsReference;
    item->valuestring = (char *)(item + 1);
    memcpy(item->valuestring, text, n);
    return item;
}

/* A copy of path element e (a key or an index). */
static cJSON *copy_path_element(const cJSON *e)
{
    if (json_is_string(e)) return create_packed_string(e->valuestring);
    if (json_is_number(e)) return cJSON_CreateNumber(e->valuedouble);
    return cJSON_Duplicate(e, 1);
}

/* A copy of v without its key. Scalars and paths are built directly, so no key is
 * copied only to be dropped; other values are duplicated whole. NULL when out of memory. */
static cJSON *copy_unkeyed(const cJSON *v, bool is_path)
{
    cJSON *copy = NULL;
    switch (v->type & 0xFF) {
    case cJSON_String: return cJSON_CreateString(v->valuestring);
    case cJSON_Number: return cJSON_CreateNumber(v->valuedouble);
    case cJSON_Array:
        if (!(copy = cJSON_CreateArray())) return NULL;
        for (const cJSON *e = v->child; e; e = e->next) {
            cJSON *element = is_path ? copy_path_element(e) : cJSON_Duplicate(e, 1);
            if (!element) {
                cJSON_Delete(copy);
                return NULL;
            }
            cJSON_AddItemToArray(copy, element);
        }
        return copy;
    default:
        if (!(copy = cJSON_Duplicate(v, 1))) return NULL;
        clear_key(copy);
        return copy;
    }
}

/* A copy of a well-formed component whose field names are cJSON constant keys (string
 * literals, never freed): a third fewer allocations than cJSON_Duplicate, on the path
 * every transformed component takes. */
static cJSON *copy_component(const cJSON *c, ot_error *err)
{
    cJSON *copy = cJSON_CreateObject();
    if (!copy) goto oom;
    for (const cJSON *f = c->child; f; f = f->next) {
        int flag = field_flag(f->string);
        cJSON *value = copy_unkeyed(f, flag == F_P);
        if (!value) goto oom;
        cJSON_AddItemToObjectCS(copy, field_name(flag), value);
    }
    return copy;
oom:
    cJSON_Delete(copy);
    ot_fail(err, "out of memory");
    return NULL;
}

/* The set of fields a component carries (computed once instead of one lookup each). */
static int kind_of(const cJSON *c)
{
    int flags = 0;
    for (const cJSON *f = c->child; f; f = f->next) flags |= field_flag(f->string);
    return flags;
}

/* A component's fields, found in one pass (apply looks at each several times). */
typedef struct component_view {
    const cJSON *p, *na, *li, *ld, *lm, *oi, *od, *si, *sd, *t, *o;
} component_view;

/* Records field f in the view under its flag; 0, or the flag when it is unknown (0 is
 * returned as -1) or already there. */
static int view_add(component_view *v, int flag, const cJSON *f)
{
    const cJSON **slot;
    switch (flag) {
    case F_P: slot = &v->p; break;
    case F_NA: slot = &v->na; break;
    case F_LI: slot = &v->li; break;
    case F_LD: slot = &v->ld; break;
    case F_LM: slot = &v->lm; break;
    case F_OI: slot = &v->oi; break;
    case F_OD: slot = &v->od; break;
    case F_SI: slot = &v->si; break;
    case F_SD: slot = &v->sd; break;
    case F_T: slot = &v->t; break;
    case F_O: slot = &v->o; break;
    default: return -1;
    }
    if (*slot) return -1;
    *slot = f;
    return 0;
}

/* Checks a component's shape and fills *v with its fields. deep: also check the values
 * it carries (well-formed UTF-8, no duplicate keys) — needed before they enter a
 * document, not to reshape ops. */
static int check_component(const cJSON *c, bool deep, component_view *v, ot_error *err)
{
    if (!json_is_object(c)) return ot_fail(err, "op component must be an object");
    memset(v, 0, sizeof *v);
    int fields = 0;
    for (const cJSON *f = c->child; f; f = f->next) {
        int flag = field_flag(f->string);
        if (!flag) return ot_fail(err, "unknown field \"%s\" in op component", f->string);
        if (view_add(v, flag, f) != 0)
            return ot_fail(err, "field \"%s\" appears twice in an op component", f->string);
        fields |= flag;
    }
    const char *why = NULL;
    if (deep) {
        const cJSON *payloads[] = {v->li, v->ld, v->oi, v->od};
        for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
            if (payloads[i] && json_check_clean(payloads[i], &why) != 0)
                return ot_fail(err, "%s: %s", payloads[i]->string, why);
        }
    }
    if (check_path(v->p, deep, err) != 0) return -1;
    const cJSON *last = v->p->child ? v->p->child->prev : NULL;
    int kind = fields & ~F_P;
    switch (kind) {
    case F_NA:
        if (!json_is_number(v->na) || !isfinite(v->na->valuedouble))
            return ot_fail(err, "na must be a number");
        return 0;
    case F_LI:
    case F_LD:
    case F_LI | F_LD:
        if (!last || !is_index(last)) return ot_fail(err, "list operation needs a list index at the end of its path");
        return 0;
    case F_LM:
        if (!last || !is_index(last)) return ot_fail(err, "list move needs a list index at the end of its path");
        if (!is_index(v->lm)) return ot_fail(err, "lm must be a list index (integer >= 0)");
        return 0;
    case F_OI:
    case F_OD:
    case F_OI | F_OD:
        if (!last) {
            if (kind != (F_OI | F_OD))
                return ot_fail(err, "the document root can only be replaced (oi together with od)");
            return 0;
        }
        if (!json_is_string(last)) return ot_fail(err, "object operation needs an object key at the end of its path");
        return 0;
    case F_SI:
    case F_SD: {
        const cJSON *s = kind == F_SI ? v->si : v->sd;
        if (!last || !is_index(last)) return ot_fail(err, "string operation needs a text offset at the end of its path");
        if (!json_is_string(s)) return ot_fail(err, "%s must be a string", kind == F_SI ? "si" : "sd");
        if (deep && !utf16_valid_utf8(s->valuestring, strlen(s->valuestring)))
            return ot_fail(err, "%s is not valid UTF-8", kind == F_SI ? "si" : "sd");
        return 0;
    }
    case F_T | F_O: {
        if (!json_is_string(v->t) || strcmp(v->t->valuestring, "text0") != 0)
            return ot_fail(err, "unknown subtype (only \"text0\" is supported)");
        if (ot_text0_check_op(v->o, err) != 0) return -1;
        for (const cJSON *tc = deep ? v->o->child : NULL; tc; tc = tc->next) {
            const cJSON *text = field(tc, "i") ? field(tc, "i") : field(tc, "d");
            if (!utf16_valid_utf8(text->valuestring, strlen(text->valuestring)))
                return ot_fail(err, "text0 text is not valid UTF-8");
        }
        return 0;
    }
    default:
        return ot_fail(err, "invalid or missing instruction in op component");
    }
}

static int check_op(const cJSON *op, bool deep, ot_error *err)
{
    if (!json_is_array(op)) return ot_fail(err, "op must be an array of components");
    component_view v;
    for (const cJSON *c = op->child; c; c = c->next)
        if (check_component(c, deep, &v, err) != 0) return -1;
    return 0;
}

int ot_check_op(const cJSON *op, ot_error *err)
{
    return check_op(op, true, err);
}

/* transform, compose, invert and normalize only reshape ops: their shape must be sound,
 * the data they carry is checked when it is applied. */
static int check_op_shape(const cJSON *op, ot_error *err)
{
    return check_op(op, false, err);
}

/* ---- strict, atomic apply -------------------------------------------------------------- */

enum undo_kind { UNDO_NUMBER, UNDO_INSERTED, UNDO_REMOVED, UNDO_REPLACED, UNDO_MOVED,
                 UNDO_TEXT_INSERTED, UNDO_TEXT_GROWN, UNDO_TEXT_DELETED, UNDO_ROOT };

/* One reversible change. Detached nodes and old strings are kept until the whole op has
 * applied, so undoing is pointer work and restores the exact tree. */
typedef struct undo_entry {
    enum undo_kind kind;
    cJSON *container;
    int index, index2;
    cJSON *node;
    double number;
    size_t at, length;          /* text deleted or grown in place: byte offset and length */
    const char *text;           /* deleted text, borrowed from the op being applied */
    char *old_text;             /* text inserted: the string as it was (owned) */
} undo_entry;

/* Most ops have a handful of components: their entries live in `inline_entries`, and
 * only longer ops move to the heap. */
#define UNDO_INLINE 8
typedef struct undo_log {
    undo_entry *entries;
    size_t count, capacity;
    undo_entry inline_entries[UNDO_INLINE];
} undo_log;

static void undo_init(undo_log *log)
{
    log->entries = log->inline_entries;
    log->count = 0;
    log->capacity = UNDO_INLINE;
}

static void undo_free(undo_log *log)
{
    if (log->entries != log->inline_entries) free(log->entries);
}

/* Inserts item before child `at` of container, or at the end when at is NULL. Written
 * out here because cJSON_InsertItemInArray of some cJSON builds refuses valid positions;
 * keeps cJSON's invariant that child->prev is the last item. */
static void insert_before(cJSON *container, cJSON *at, cJSON *item)
{
    if (!at) {
        cJSON_AddItemToArray(container, item);
        return;
    }
    item->next = at;
    item->prev = at->prev;
    at->prev = item;
    if (at == container->child) container->child = item;
    else item->prev->next = item;
}

/* The child at position index of a container, or NULL past the end; then *length (if
 * given) is the number of children. */
static cJSON *child_at(const cJSON *container, int index, int *length)
{
    int i = 0;
    cJSON *c = container->child;
    for (; c && i < index; c = c->next) i++;
    if (!c && length) *length = i;
    return c;
}

/* Inserts item at position index of container's child list (at the end when index is
 * the length). */
static void insert_child(cJSON *container, int index, cJSON *item)
{
    insert_before(container, child_at(container, index, NULL), item);
}

/* Gives a copied value the key it will have in its new object (a copy of a component's
 * field still carries that field's name). */
static int set_key(cJSON *item, const char *key)
{
    char *copy = cJSON_malloc(strlen(key) + 1);
    if (!copy) return -1;
    strcpy(copy, key);
    if (item->string && !(item->type & cJSON_StringIsConst)) cJSON_free(item->string);
    item->type &= ~cJSON_StringIsConst;
    item->string = copy;
    return 0;
}

/* Makes room for one more entry before a change, so recording it afterwards cannot fail. */
static int undo_reserve(undo_log *log, ot_error *err)
{
    if (log->count == log->capacity) {
        size_t cap = log->capacity * 2;
        bool on_heap = log->entries != log->inline_entries;
        undo_entry *grown = realloc(on_heap ? log->entries : NULL, cap * sizeof *grown);
        if (!grown) return ot_fail(err, "out of memory");
        if (!on_heap) memcpy(grown, log->inline_entries, sizeof log->inline_entries);
        log->entries = grown;
        log->capacity = cap;
    }
    return 0;
}

static void undo_record(undo_log *log, undo_entry e)
{
    log->entries[log->count++] = e;
}

static void undo_rollback(undo_log *log, cJSON **doc)
{
    for (size_t i = log->count; i-- > 0;) {
        undo_entry *e = &log->entries[i];
        switch (e->kind) {
        case UNDO_NUMBER:
            set_number(e->node, e->number);
            break;
        case UNDO_INSERTED:
            cJSON_Delete(cJSON_DetachItemFromArray(e->container, e->index));
            break;
        case UNDO_REMOVED:
            insert_child(e->container, e->index, e->node);
            break;
        case UNDO_REPLACED:
            cJSON_Delete(cJSON_DetachItemFromArray(e->container, e->index));
            insert_child(e->container, e->index, e->node);
            break;
        case UNDO_MOVED:
            insert_child(e->container, e->index,
                                    cJSON_DetachItemFromArray(e->container, e->index2));
            break;
        case UNDO_TEXT_INSERTED:
            cJSON_free(e->node->valuestring);
            e->node->valuestring = e->old_text;
            break;
        case UNDO_TEXT_GROWN: {
            char *t = e->node->valuestring;
            memmove(t + e->at, t + e->at + e->length, strlen(t + e->at + e->length) + 1);
            break;
        }
        case UNDO_TEXT_DELETED: {
            /* Deleting never shrank the buffer, so the text fits back in place. */
            char *t = e->node->valuestring;
            memmove(t + e->at + e->length, t + e->at, strlen(t + e->at) + 1);
            memcpy(t + e->at, e->text, e->length);
            break;
        }
        case UNDO_ROOT:
            cJSON_Delete(*doc);
            *doc = e->node;
            break;
        }
    }
    undo_free(log);
}

static void undo_commit(undo_log *log)
{
    for (size_t i = 0; i < log->count; i++) {
        undo_entry *e = &log->entries[i];
        if (e->kind == UNDO_REMOVED || e->kind == UNDO_REPLACED || e->kind == UNDO_ROOT)
            cJSON_Delete(e->node);
        else if (e->kind == UNDO_TEXT_INSERTED)
            cJSON_free(e->old_text);
    }
    undo_free(log);
}

static int child_count(const cJSON *v)
{
    int n = 0;
    for (const cJSON *c = v->child; c; c = c->next) n++;
    return n;
}

/* Position of a child in its container's list. */
static int child_index(const cJSON *container, const cJSON *child)
{
    int i = 0;
    for (const cJSON *c = container->child; c; c = c->next, i++)
        if (c == child) return i;
    return -1;
}

/* Where a component acts: the container and key (or the root when container is NULL). */
typedef struct slot {
    cJSON *container;
    const cJSON *key;
    cJSON *value;   /* what is there now, or NULL */
    int length;     /* when value is NULL in a list: the list's length */
    int depth;      /* containers above the value */
} slot;

/* Walks the first n elements of path[] as containers and stops at element n (the key).
 * With n == 0 and no key, the slot is the root. */
static int resolve_slot(cJSON *root, const cJSON *first, int n, bool has_key, slot *out,
                        ot_error *err)
{
    cJSON *cur = root;
    const cJSON *e = first;
    for (int i = 0; i < n; i++, e = e->next) {
        cJSON *next = NULL;
        if (json_is_object(cur) && json_is_string(e))
            next = member(cur, e->valuestring);
        else if (json_is_array(cur) && json_is_number(e))
            next = child_at(cur, (int)e->valuedouble, NULL);
        else if (json_is_object(cur))
            return ot_fail(err, "path element %d: object keys must be strings", i);
        else if (json_is_array(cur))
            return ot_fail(err, "path element %d: list indices must be numbers", i);
        else
            return ot_fail(err, "path element %d goes through a value that is not a container", i);
        if (!next) return ot_fail(err, "path element %d does not exist in the document", i);
        cur = next;
    }
    out->depth = n;
    if (!has_key) {
        out->container = NULL;
        out->key = NULL;
        out->value = root;
        return 0;
    }
    out->container = cur;
    out->key = e;
    out->value = NULL;
    out->length = 0;
    if (json_is_object(cur)) {
        if (!json_is_string(e)) return ot_fail(err, "path element %d: object keys must be strings", n);
        out->value = member(cur, e->valuestring);
    } else if (json_is_array(cur)) {
        if (!json_is_number(e)) return ot_fail(err, "path element %d: list indices must be numbers", n);
        out->value = child_at(cur, (int)e->valuedouble, &out->length);
    } else {
        return ot_fail(err, "path element %d goes through a value that is not a container", n);
    }
    out->depth = n + 1;
    return 0;
}

static int check_depth(const slot *s, const cJSON *value, ot_error *err)
{
    if (s->depth + json_depth(value) > MAX_DOCUMENT_DEPTH)
        return ot_fail(err, "the document would nest deeper than %d levels", MAX_DOCUMENT_DEPTH);
    return 0;
}

/* True when the log already holds a change of string item node. */
static bool undo_touches(const undo_log *log, const cJSON *node)
{
    for (size_t i = 0; i < log->count; i++)
        if (log->entries[i].node == node) return true;
    return false;
}

/* Inserts `ins` or deletes `del` at UTF-16 offset `offset` of string item target. Deletes
 * work in place (the buffer keeps its size, so undoing fits). The first insert into a
 * string in an op grows its buffer with realloc (cJSON frees strings with free(): Konsil
 * installs no other cJSON hooks); a later one builds a new buffer, because undoing an
 * earlier delete of this op may need the old buffer's full size back. */
static int edit_text(cJSON *target, double offset, const char *ins, const char *del,
                     undo_log *log, ot_error *err)
{
    if (!json_is_string(target)) return ot_fail(err, "string operation on a value that is not a string");
    char *t = target->valuestring;
    size_t len = strlen(t), at;
    if (utf16_byte_offset(t, len, (size_t)offset, &at) != 0)
        return ot_fail(err, "text offset %.0f is beyond the text or inside a surrogate pair", offset);
    if (undo_reserve(log, err) != 0) return -1;
    if (ins) {
        size_t n = strlen(ins);
        if (!undo_touches(log, target)) {
            char *grown = realloc(t, len + n + 1);
            if (!grown) return ot_fail(err, "out of memory");
            memmove(grown + at + n, grown + at, len - at + 1);
            memcpy(grown + at, ins, n);
            target->valuestring = grown;
            undo_record(log, (undo_entry){.kind = UNDO_TEXT_GROWN, .node = target, .at = at,
                                          .length = n});
            return 0;
        }
        char *grown = cJSON_malloc(len + n + 1);
        if (!grown) return ot_fail(err, "out of memory");
        memcpy(grown, t, at);
        memcpy(grown + at, ins, n);
        memcpy(grown + at + n, t + at, len - at + 1);
        target->valuestring = grown;
        undo_record(log, (undo_entry){.kind = UNDO_TEXT_INSERTED, .node = target, .old_text = t});
        return 0;
    }
    size_t n = strlen(del);
    if (n > len - at || memcmp(t + at, del, n) != 0)
        return ot_fail(err, "deleted text does not match the document at offset %.0f", offset);
    memmove(t + at, t + at + n, len - at - n + 1);
    undo_record(log, (undo_entry){.kind = UNDO_TEXT_DELETED, .node = target, .at = at, .length = n,
                                  .text = del});
    return 0;
}

static int view_path_length(const component_view *v)
{
    int n = 0;
    for (const cJSON *e = v->p->child; e; e = e->next) n++;
    return n;
}

/* A text0 op: its components in order. */
static int apply_text_op(cJSON *target, const cJSON *text_op, undo_log *log, ot_error *err)
{
    for (const cJSON *tc = text_op->child; tc; tc = tc->next) {
        const cJSON *i = field(tc, "i"), *d = field(tc, "d");
        if (edit_text(target, field(tc, "p")->valuedouble, i ? i->valuestring : NULL,
                      d ? d->valuestring : NULL, log, err) != 0)
            return -1;
    }
    return 0;
}

/* si/sd: the last path element is the offset inside the string at the rest of the path. */
static int apply_old_text(cJSON **doc, const component_view *v, int n, undo_log *log,
                          ot_applied *out, ot_error *err)
{
    slot s;
    if (resolve_slot(*doc, v->p->child, n > 1 ? n - 2 : 0, n > 1, &s, err) != 0) return -1;
    if (!s.value) return ot_fail(err, "string operation on a missing value");
    out->value = s.value;
    return edit_text(s.value, v->p->child->prev->valuedouble, v->si ? v->si->valuestring : NULL,
                     v->sd ? v->sd->valuestring : NULL, log, err);
}

static int apply_list(const slot *s, const component_view *v, bool exact, undo_log *log,
                      ot_error *err)
{
    if (!json_is_array(s->container)) return ot_fail(err, "list operation on a value that is not a list");
    int index = (int)s->key->valuedouble;
    const cJSON *li = v->li, *ld = v->ld, *lm = v->lm;
    /* Range checks look only as far as the indices involved: long lists (a chat, a log)
     * must not cost a full count on every op. s->value is the element at index, if any. */
    if (lm) {
        int to = (int)lm->valuedouble;
        if (!s->value || !child_at(s->container, to, NULL))
            return ot_fail(err, "list move from %d to %d beyond the end of the list", index, to);
        if (to == index) return 0;
        if (undo_reserve(log, err) != 0) return -1;
        undo_record(log, (undo_entry){.kind = UNDO_MOVED, .container = s->container,
                                      .index = index, .index2 = to});
        insert_child(s->container, to, cJSON_DetachItemFromArray(s->container, index));
        return 0;
    }
    if (ld) {
        if (!s->value) return ot_fail(err, "list delete at %d beyond the end of the list", index);
        if (exact && !json_equal(s->value, ld))
            return ot_fail(err, "ld does not match the list element at %d", index);
    } else if (!s->value && index > s->length) {
        return ot_fail(err, "list insert at %d beyond the end of the list", index);
    }
    cJSON *inserted = NULL;
    if (undo_reserve(log, err) != 0) return -1;
    if (li) {
        if (check_depth(s, li, err) != 0) return -1;
        if (!(inserted = duplicate(li, err))) return -1;
        clear_key(inserted);
    }
    undo_entry e = {.container = s->container, .index = index};
    /* s->value is the element at index: the changes below need no second walk. */
    if (li && ld) {
        e.kind = UNDO_REPLACED;
        insert_before(s->container, s->value, inserted);
        e.node = cJSON_DetachItemViaPointer(s->container, s->value);
    } else if (li) {
        e.kind = UNDO_INSERTED;
        insert_before(s->container, s->value, inserted);
    } else {
        e.kind = UNDO_REMOVED;
        e.node = cJSON_DetachItemViaPointer(s->container, s->value);
    }
    undo_record(log, e);
    return 0;
}

static int apply_root_replace(cJSON **doc, const component_view *v, bool exact, undo_log *log,
                              ot_error *err)
{
    if (exact && !json_equal(*doc, v->od)) return ot_fail(err, "od does not match the document");
    slot root = {.depth = 0};
    if (check_depth(&root, v->oi, err) != 0) return -1;
    if (undo_reserve(log, err) != 0) return -1;
    cJSON *replacement = duplicate(v->oi, err);
    if (!replacement) return -1;
    clear_key(replacement);
    undo_record(log, (undo_entry){.kind = UNDO_ROOT, .node = *doc});
    *doc = replacement;
    return 0;
}

static int apply_object(const slot *s, const component_view *v, bool exact, undo_log *log,
                        ot_error *err)
{
    if (!json_is_object(s->container)) return ot_fail(err, "object operation on a value that is not an object");
    const char *key = s->key->valuestring;
    const cJSON *oi = v->oi, *od = v->od;
    if (od) {
        if (!s->value) return ot_fail(err, "od of key \"%s\" that does not exist", key);
        if (exact && !json_equal(s->value, od))
            return ot_fail(err, "od does not match the value of key \"%s\"", key);
    } else if (s->value) {
        return ot_fail(err, "oi on existing key \"%s\" must carry the od it replaces", key);
    }
    cJSON *inserted = NULL;
    if (undo_reserve(log, err) != 0) return -1;
    if (oi) {
        if (check_depth(s, oi, err) != 0) return -1;
        if (!(inserted = duplicate(oi, err))) return -1;
        if (set_key(inserted, key) != 0) {
            cJSON_Delete(inserted);
            return ot_fail(err, "out of memory");
        }
    }
    undo_entry e = {.container = s->container};
    if (od) {
        e.index = child_index(s->container, s->value);
        e.kind = oi ? UNDO_REPLACED : UNDO_REMOVED;
        e.node = cJSON_DetachItemViaPointer(s->container, s->value);
        if (oi) insert_child(s->container, e.index, inserted);
    } else {
        e.kind = UNDO_INSERTED;
        e.index = child_count(s->container);
        cJSON_AddItemToArray(s->container, inserted);
    }
    undo_record(log, e);
    return 0;
}

/* Checks component c and applies it. exact: to a document — the values c carries are
 * checked deeply and its ld/od must equal what they delete; otherwise to a copy of a
 * delete payload inside transform — shape and structure only (see the top of this file).
 * *out says where it acted (ot_applied). */
static int apply_component(cJSON **doc, const cJSON *c, bool exact, undo_log *log,
                           ot_applied *out, ot_error *err)
{
    component_view v;
    memset(out, 0, sizeof *out);
    out->component = c;
    if (check_component(c, exact, &v, err) != 0) return -1;
    int n = view_path_length(&v);
    if (v.si || v.sd) return apply_old_text(doc, &v, n, log, out, err);
    slot s;
    /* na and text0 act on the value at the path; the others on a key of its container. */
    if (v.na || v.t) {
        if (resolve_slot(*doc, v.p->child, n > 0 ? n - 1 : 0, n > 0, &s, err) != 0) return -1;
        if (!s.value) return ot_fail(err, "operation on a missing value");
        out->value = s.value;
        if (v.t) return apply_text_op(s.value, v.o, log, err);
        if (!json_is_number(s.value)) return ot_fail(err, "na on a value that is not a number");
        double sum = s.value->valuedouble + v.na->valuedouble;
        if (!isfinite(sum)) return ot_fail(err, "na would overflow the number");
        if (undo_reserve(log, err) != 0) return -1;
        undo_record(log, (undo_entry){.kind = UNDO_NUMBER, .node = s.value,
                                      .number = s.value->valuedouble});
        out->number_before = s.value->valuedouble;
        set_number(s.value, sum);
        return 0;
    }
    if (n == 0) return apply_root_replace(doc, &v, exact, log, err);
    if (resolve_slot(*doc, v.p->child, n - 1, true, &s, err) != 0) return -1;
    out->container = s.container;
    if (v.li || v.ld || v.lm) return apply_list(&s, &v, exact, log, err);
    return apply_object(&s, &v, exact, log, err);
}

/* Applies op; each component applied is shown to watch (when given), and then the whole
 * op (component NULL); a refusal of either undoes everything. */
static int apply_op(cJSON **doc, const cJSON *op, bool exact, ot_watch_fn watch, void *arg,
                    ot_error *err)
{
    undo_log log;
    ot_applied applied;
    undo_init(&log);
    for (const cJSON *c = op->child; c; c = c->next) {
        if (apply_component(doc, c, exact, &log, &applied, err) != 0 ||
            (watch && watch(arg, &applied, err) != 0)) {
            undo_rollback(&log, doc);
            return -1;
        }
    }
    memset(&applied, 0, sizeof applied);
    if (watch && watch(arg, &applied, err) != 0) {
        undo_rollback(&log, doc);
        return -1;
    }
    undo_commit(&log);
    return 0;
}

int ot_apply(cJSON **doc, const cJSON *op, ot_error *err)
{
    return ot_apply_watched(doc, op, NULL, NULL, err);
}

int ot_apply_watched(cJSON **doc, const cJSON *op, ot_watch_fn watch, void *arg, ot_error *err)
{
    if (!doc || !*doc) return ot_fail(err, "no document");
    if (!json_is_array(op)) return ot_fail(err, "op must be an array of components");
    return apply_op(doc, op, true, watch, arg, err);
}

/* ---- old string components <-> text0 (convertFromText / convertToText) ------------------ */

static int convert_from_text(cJSON *c, ot_error *err)
{
    cJSON *p = path_of(c);
    cJSON *offset = cJSON_DetachItemViaPointer(p, p->child->prev);
    cJSON *text = cJSON_CreateObject(), *o = cJSON_CreateArray(), *t = cJSON_CreateString("text0");
    if (!text || !o || !t) goto oom;
    cJSON_AddItemToObject(text, "p", offset);
    offset = NULL;
    if (has(c, "si")) {
        cJSON *i = cJSON_Duplicate(field(c, "si"), 0);
        if (!i) goto oom;
        cJSON_AddItemToObject(text, "i", i);
    }
    if (has(c, "sd")) {
        cJSON *d = cJSON_Duplicate(field(c, "sd"), 0);
        if (!d) goto oom;
        cJSON_AddItemToObject(text, "d", d);
    }
    cJSON_AddItemToArray(o, text);
    set_field(c, "t", t);
    set_field(c, "o", o);
    return 0;
oom:
    cJSON_Delete(offset);
    cJSON_Delete(text);
    cJSON_Delete(o);
    cJSON_Delete(t);
    return ot_fail(err, "out of memory");
}

static int convert_to_text(cJSON *c, ot_error *err)
{
    const cJSON *first = field(c, "o")->child;
    cJSON *offset = cJSON_Duplicate(field(first, "p"), 0);
    if (!offset) return ot_fail(err, "out of memory");
    cJSON_AddItemToArray(path_of(c), offset);
    const cJSON *i = field(first, "i"), *d = field(first, "d");
    if (i) {
        cJSON *copy = cJSON_Duplicate(i, 0);
        if (!copy) return ot_fail(err, "out of memory");
        set_field(c, "si", copy);
    }
    if (d) {
        cJSON *copy = cJSON_Duplicate(d, 0);
        if (!copy) return ot_fail(err, "out of memory");
        set_field(c, "sd", copy);
    }
    remove_field(c, "t");
    remove_field(c, "o");
    return 0;
}

/* ---- append / compose / normalize ----------------------------------------------------- */

static bool path_matches(const cJSON *a, const cJSON *b)
{
    const cJSON *x = path_of(a)->child, *y = path_of(b)->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same_element(x, y)) return false;
    return x == NULL && y == NULL;
}

static cJSON *last_of(const cJSON *arr)
{
    return arr->child ? arr->child->prev : NULL;
}

/* json.append: adds component c (ownership taken) to dest, merging with its last. */
static int append_owned(cJSON *dest, cJSON *c, ot_error *err)
{
    cJSON *last = last_of(dest);
    if (!last) {
        cJSON_AddItemToArray(dest, c);
        return 0;
    }
    bool converted = is_text_form(c) && is_text_form(last);
    if (converted && (convert_from_text(c, err) != 0 || convert_from_text(last, err) != 0))
        goto fail;

    if (!path_matches(c, last)) {
        if (converted && (convert_to_text(c, err) != 0 || convert_to_text(last, err) != 0))
            goto fail;
        cJSON_AddItemToArray(dest, c);
        return 0;
    }

    if (has(c, "t") && has(last, "t") &&
        strcmp(field(c, "t")->valuestring, field(last, "t")->valuestring) == 0) {
        cJSON *composed = ot_text0_compose(field(last, "o"), field(c, "o"), err);
        if (!composed) goto fail;
        set_field(last, "o", composed);
        if (is_text_form(c)) {
            /* Back to si/sd: composing two single text components gives one or two. */
            cJSON *o = field(last, "o");
            if (o->child && o->child->next) {
                cJSON *second = cJSON_DetachItemViaPointer(o, o->child->prev);
                cJSON *single = cJSON_CreateArray();
                if (!single) {
                    cJSON_Delete(second);
                    ot_fail(err, "out of memory");
                    goto fail;
                }
                cJSON_AddItemToArray(single, second);
                set_field(c, "o", single);
                /* c.p is still the string path (convert_from_text took the offset off). */
                if (convert_to_text(c, err) != 0) goto fail;
                if (convert_to_text(last, err) != 0) goto fail;
                cJSON_AddItemToArray(dest, c);
                return 0;
            }
            if (convert_to_text(last, err) != 0) goto fail;
        }
        cJSON_Delete(c);
        return 0;
    }
    if (has(last, "na") && has(c, "na")) {
        set_number(field(last, "na"), field(last, "na")->valuedouble + field(c, "na")->valuedouble);
    } else if (has(last, "li") && !has(c, "li") && js_strict_equal(field(c, "ld"), field(last, "li"))) {
        if (has(last, "ld")) remove_field(last, "li");
        else cJSON_Delete(cJSON_DetachItemViaPointer(dest, last));
    } else if (has(last, "od") && !has(last, "oi") && has(c, "oi") && !has(c, "od")) {
        set_field(last, "oi", cJSON_DetachItemFromObjectCaseSensitive(c, "oi"));
    } else if (has(last, "oi") && has(c, "od")) {
        if (has(c, "oi")) set_field(last, "oi", cJSON_DetachItemFromObjectCaseSensitive(c, "oi"));
        else if (has(last, "od")) remove_field(last, "oi");
        else cJSON_Delete(cJSON_DetachItemViaPointer(dest, last));
    } else if (has(c, "lm") && same_element(path_last(c), field(c, "lm"))) {
        /* a move onto itself changes nothing */
    } else {
        cJSON_AddItemToArray(dest, c);
        return 0;
    }
    cJSON_Delete(c);
    return 0;
fail:
    cJSON_Delete(c);
    return -1;
}

static int append_copy(cJSON *dest, const cJSON *c, ot_error *err)
{
    cJSON *copy = duplicate(c, err);
    if (!copy) return -1;
    return append_owned(dest, copy, err);
}

cJSON *ot_compose(const cJSON *op1, const cJSON *op2, ot_error *err)
{
    if (check_op_shape(op1, err) != 0 || check_op_shape(op2, err) != 0) return NULL;
    cJSON *out = duplicate(op1, err);
    for (const cJSON *c = op2->child; out && c; c = c->next) {
        if (append_copy(out, c, err) != 0) {
            cJSON_Delete(out);
            out = NULL;
        }
    }
    return out;
}

cJSON *ot_normalize(const cJSON *op, ot_error *err)
{
    if (check_op_shape(op, err) != 0) return NULL;
    cJSON *out = cJSON_CreateArray();
    if (!out) {
        ot_fail(err, "out of memory");
        return NULL;
    }
    for (const cJSON *c = op->child; c; c = c->next) {
        if (append_copy(out, c, err) != 0) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

/* ---- invert -------------------------------------------------------------------------- */

static int copy_field_as(cJSON *to, const char *to_key, const cJSON *from, const char *from_key,
                         ot_error *err)
{
    const cJSON *v = field(from, from_key);
    if (!v) return 0;
    cJSON *copy = duplicate(v, err);
    if (!copy) return -1;
    cJSON_AddItemToObject(to, to_key, copy);
    return 0;
}

static cJSON *invert_component(const cJSON *c, ot_error *err)
{
    cJSON *inv = cJSON_CreateObject();
    if (!inv) {
        ot_fail(err, "out of memory");
        return NULL;
    }
    cJSON *p = duplicate(path_of(c), err);
    if (!p) goto fail;
    cJSON_AddItemToObject(inv, "p", p);
    if (has(c, "t")) {
        cJSON *o = ot_text0_invert(field(c, "o"), err);
        if (!o) goto fail;
        if (copy_field_as(inv, "t", c, "t", err) != 0) {
            cJSON_Delete(o);
            goto fail;
        }
        cJSON_AddItemToObject(inv, "o", o);
    }
    static const char *swaps[][2] = {{"si", "sd"}, {"sd", "si"}, {"oi", "od"}, {"od", "oi"},
                                     {"li", "ld"}, {"ld", "li"}};
    for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++)
        if (copy_field_as(inv, swaps[i][1], c, swaps[i][0], err) != 0) goto fail;
    if (has(c, "na") && !cJSON_AddNumberToObject(inv, "na", -field(c, "na")->valuedouble)) {
        ot_fail(err, "out of memory");
        goto fail;
    }
    if (has(c, "lm")) {
        /* Move back: from where it went to where it came from. */
        cJSON *from = cJSON_DetachItemViaPointer(p, p->child->prev);
        cJSON *to = duplicate(field(c, "lm"), err);
        if (!to) {
            cJSON_Delete(from);
            goto fail;
        }
        cJSON_AddItemToArray(p, to);
        cJSON_AddItemToObject(inv, "lm", from);
    }
    return inv;
fail:
    cJSON_Delete(inv);
    return NULL;
}

cJSON *ot_invert(const cJSON *op, ot_error *err)
{
    if (check_op_shape(op, err) != 0) return NULL;
    cJSON *out = cJSON_CreateArray();
    if (!out) {
        ot_fail(err, "out of memory");
        return NULL;
    }
    for (const cJSON *c = last_of(op); c; c = (c == op->child) ? NULL : c->prev) {
        cJSON *inv = invert_component(c, err);
        if (!inv) {
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToArray(out, inv);
    }
    return out;
}

/* ---- transform ------------------------------------------------------------------------ */

/* commonLengthForOps(a, b): NO_COMMON for null, -1 when a acts on the root. */
/* a_path/b_path: the components' paths; a_length/b_length: their operand lengths (one
 * more than the path for na and text0, which act on the value at the path). */
static int common_length(const cJSON *a_path, int a_length, const cJSON *b_path, int b_length)
{
    if (a_length == 0) return -1;
    if (b_length == 0) return NO_COMMON;
    const cJSON *x = a_path->child, *y = b_path->child;
    for (int i = 0; i < a_length - 1; i++, x = x->next, y = y ? y->next : NULL)
        if (i >= b_length - 1 || !same_element(x, y)) return NO_COMMON;
    return a_length - 1;
}

/* When c deletes something that other edits below, c's payload takes the edit, so c stays
 * an exact (invertible) delete of what the document then holds. The edit's own delete
 * payloads are not compared with c's payload (json0.js applies it unchecked, and the two
 * may legitimately differ, see the top of this file); its structure is checked as usual. */
static int update_deleted_payload(cJSON *c, const cJSON *other, int c_length, ot_error *err)
{
    const char *key = has(c, "ld") ? "ld" : has(c, "od") ? "od" : NULL;
    if (!key) return 0;
    int rc = -1;
    cJSON *sub = duplicate(other, err), *op = cJSON_CreateArray();
    cJSON *value = duplicate(field(c, key), err);
    if (!sub || !op || !value) goto out;
    cJSON *p = path_of(sub);
    for (int i = 0; i < c_length && p->child; i++)
        cJSON_Delete(cJSON_DetachItemViaPointer(p, p->child));
    cJSON_AddItemToArray(op, sub);
    sub = NULL;
    if (apply_op(&value, op, false, NULL, NULL, err) != 0) goto out;
    set_field(c, key, value);
    value = NULL;
    rc = 0;
out:
    if (rc != 0 && err && !err->message[0]) ot_fail(err, "out of memory");
    cJSON_Delete(sub);
    cJSON_Delete(op);
    cJSON_Delete(value);
    return rc;
}

/* The text0 branch of transformComponent. *c already carries t/o (maybe converted); it
 * is consumed (set to NULL) when its last result is appended. */
static int transform_text(cJSON *dest, cJSON **c_io, const cJSON *oc, ot_side side, ot_error *err)
{
    cJSON *c = *c_io;
    cJSON *res = ot_text0_transform(field(c, "o"), field(oc, "o"), side, err);
    if (!res) return -1;
    int rc = 0;
    if (is_text_form(c)) {
        /* One si/sd component per text0 result; the last one reuses c itself. */
        while (res->child && rc == 0) {
            cJSON *r = cJSON_DetachItemViaPointer(res, res->child);
            cJSON *single = cJSON_CreateArray();
            bool last = res->child == NULL;
            cJSON *target = last ? c : cJSON_Duplicate(c, 1);
            if (!single || !target) {
                cJSON_Delete(r);
                cJSON_Delete(single);
                if (!last) cJSON_Delete(target);
                rc = ot_fail(err, "out of memory");
                break;
            }
            cJSON_AddItemToArray(single, r);
            set_field(target, "o", single);
            if (last) *c_io = NULL;
            rc = convert_to_text(target, err);
            if (rc == 0) rc = append_owned(dest, target, err);
            else cJSON_Delete(target);
        }
        cJSON_Delete(res);
        return rc;
    }
    if (res->child) {
        set_field(c, "o", res);
        *c_io = NULL;
        return append_owned(dest, c, err);
    }
    cJSON_Delete(res);
    return 0;
}

enum outcome { KEEP, DROP };

/* The branch on the other component's list move (lm). */
static enum outcome transform_against_move(cJSON *c, const cJSON *other, int common,
                                           int c_length, int other_length, ot_side side)
{
    double other_from = number_at(other, common), other_to = lm_of(other);
    if (has(c, "lm") && c_length == other_length) {
        double from = number_at(c, common), to = lm_of(c);
        cJSON *lm = field(c, "lm");
        if (other_from == other_to) return KEEP;
        if (from == other_from) {
            if (side == OT_RIGHT) return DROP;
            set_number(path_at(c, common), other_to);
            if (from == to) set_number(lm, other_to);
            return KEEP;
        }
        if (from > other_from) path_add(c, common, -1);
        if (from > other_to) {
            path_add(c, common, 1);
        } else if (from == other_to && other_from > other_to) {
            path_add(c, common, 1);
            if (from == to) set_number(lm, lm->valuedouble + 1);
        }
        if (to > other_from) {
            set_number(lm, lm->valuedouble - 1);
        } else if (to == other_from && to > from) {
            set_number(lm, lm->valuedouble - 1);
        }
        if (to > other_to) {
            set_number(lm, lm->valuedouble + 1);
        } else if (to == other_to) {
            if ((other_to > other_from && to > from) || (other_to < other_from && to < from)) {
                if (side == OT_RIGHT) set_number(lm, lm->valuedouble + 1);
            } else {
                if (to > from) set_number(lm, lm->valuedouble + 1);
                else if (to == other_from) set_number(lm, lm->valuedouble - 1);
            }
        }
        return KEEP;
    }
    double p = number_at(c, common);
    if (has(c, "li") && !has(c, "ld") && c_length == other_length) {
        if (p > other_from) path_add(c, common, -1);
        if (p > other_to) path_add(c, common, 1);
        return KEEP;
    }
    if (p == other_from) {
        set_number(path_at(c, common), other_to);
    } else {
        if (p > other_from) path_add(c, common, -1);
        if (p > other_to) path_add(c, common, 1);
        else if (p == other_to && other_from > other_to) path_add(c, common, 1);
    }
    return KEEP;
}

/* json.transformComponent: appends c transformed against other to dest. */
static int transform_component(cJSON *dest, const cJSON *c_in, const cJSON *other, ot_side side,
                               ot_error *err)
{
    int rc = -1;
    cJSON *c = copy_component(c_in, err), *oc_converted = NULL;
    if (!c) return -1;
    int c_kind = kind_of(c), other_kind = kind_of(other);
    const cJSON *c_path = path_of(c), *other_path = path_of(other);
    int c_length = child_count(c_path), other_length = child_count(other_path);
    if (c_kind & (F_NA | F_T)) c_length++;
    if (other_kind & (F_NA | F_T)) other_length++;
    int common = common_length(other_path, other_length, c_path, c_length);
    int common2 = common_length(c_path, c_length, other_path, other_length);

    if (common2 != NO_COMMON && other_length > c_length &&
        same_element(path_at(c, common2), path_at(other, common2)) &&
        update_deleted_payload(c, other, c_length, err) != 0)
        goto out;

    enum outcome outcome = KEEP;
    if (common != NO_COMMON) {
        bool common_operand = c_length == other_length;
        const cJSON *oc = other;
        if (is_text_form(c) && is_text_form(other)) {
            if (convert_from_text(c, err) != 0) goto out;
            if (!(oc_converted = duplicate(other, err))) goto out;
            if (convert_from_text(oc_converted, err) != 0) goto out;
            oc = oc_converted;
        }
        const cJSON *c_at = path_at(c, common), *other_at = path_at(other, common);
        if (has(oc, "t")) {
            if (has(c, "t") &&
                strcmp(field(c, "t")->valuestring, field(oc, "t")->valuestring) == 0) {
                rc = transform_text(dest, &c, oc, side, err);
                goto out;
            }
        } else if (has(other, "na")) {
            /* numbers add up; nothing to change */
        } else if (has(other, "li") && has(other, "ld")) {
            if (same_element(other_at, c_at)) {
                if (!common_operand) {
                    outcome = DROP;
                } else if (has(c, "ld")) {
                    if (has(c, "li") && side == OT_LEFT) {
                        cJSON *replaced = duplicate(field(other, "li"), err);
                        if (!replaced) goto out;
                        set_field(c, "ld", replaced);
                    } else {
                        outcome = DROP;
                    }
                }
            }
        } else if (has(other, "li")) {
            double op = number_at(other, common), cp = number_at(c, common);
            if (has(c, "li") && !has(c, "ld") && common_operand && cp == op) {
                if (side == OT_RIGHT) path_add(c, common, 1);
            } else if (op <= cp) {
                path_add(c, common, 1);
            }
            if (has(c, "lm") && common_operand && op <= lm_of(c))
                set_number(field(c, "lm"), lm_of(c) + 1);
        } else if (has(other, "ld")) {
            double op = number_at(other, common), cp = number_at(c, common);
            if (has(c, "lm") && common_operand) {
                if (op == cp) {
                    outcome = DROP;
                    goto decided;
                }
                double to = lm_of(c);
                if (op < to || (op == to && cp < to)) set_number(field(c, "lm"), to - 1);
            }
            if (op < cp) {
                path_add(c, common, -1);
            } else if (op == cp) {
                if (other_length < c_length) {
                    outcome = DROP;
                } else if (has(c, "ld")) {
                    if (has(c, "li")) remove_field(c, "ld");
                    else outcome = DROP;
                }
            }
        } else if (has(other, "lm")) {
            outcome = transform_against_move(c, other, common, c_length, other_length, side);
        } else if (has(other, "oi") && has(other, "od")) {
            if (same_element(c_at, other_at)) {
                if (has(c, "oi") && common_operand) {
                    if (side == OT_RIGHT) {
                        outcome = DROP;
                    } else {
                        cJSON *replaced = duplicate(field(other, "oi"), err);
                        if (!replaced) goto out;
                        set_field(c, "od", replaced);
                    }
                } else {
                    outcome = DROP;
                }
            }
        } else if (has(other, "oi")) {
            if (has(c, "oi") && same_element(c_at, other_at)) {
                if (side == OT_LEFT) {
                    /* Left wins: first remove what the other inserted. */
                    cJSON *removal = cJSON_CreateObject();
                    cJSON *p = duplicate(path_of(c), err), *od = duplicate(field(other, "oi"), err);
                    if (!removal || !p || !od) {
                        cJSON_Delete(removal);
                        cJSON_Delete(p);
                        cJSON_Delete(od);
                        goto out;
                    }
                    cJSON_AddItemToObject(removal, "p", p);
                    cJSON_AddItemToObject(removal, "od", od);
                    if (append_owned(dest, removal, err) != 0) goto out;
                } else {
                    outcome = DROP;
                }
            }
        } else if (has(other, "od")) {
            if (same_element(c_at, other_at)) {
                if (!common_operand) outcome = DROP;
                else if (has(c, "oi")) remove_field(c, "od");
                else outcome = DROP;
            }
        }
    }
decided:
    if (outcome == DROP) {
        rc = 0;
        goto out;
    }
    rc = append_owned(dest, c, err);
    c = NULL;
out:
    cJSON_Delete(c);
    cJSON_Delete(oc_converted);
    return rc;
}

static const ot_component_type json0_type = {transform_component, append_copy};

cJSON *ot_transform(const cJSON *op, const cJSON *other, ot_side side, ot_error *err)
{
    if (check_op_shape(op, err) != 0 || check_op_shape(other, err) != 0) return NULL;
    return ot_bootstrap_transform(&json0_type, op, other, side, err);
}
