/*
 * Pseudonymisation of snapshots and ops; see access_pseudo.h. The dictionary is kept
 * longest word first, so a full name is replaced before one of its words.
 */
#include "auth/access_pseudo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Words shorter than this are not redacted on their own: too many ordinary words. */
#define PSEUDO_WORD_MIN 4

struct access_pseudo {
    cJSON *identity;            /* array of paths, owned */
    const access_rules *rules;  /* borrowed */
    char **words;               /* the dictionary, longest first, owned */
    size_t n_words;
};

access_pseudo *access_pseudo_new(const cJSON *identity, const access_rules *rules)
{
    access_pseudo *ps = calloc(1, sizeof *ps);

    if (!ps)
        return NULL;
    ps->rules = rules;
    ps->identity = identity ? cJSON_Duplicate(identity, 1) : cJSON_CreateArray();
    if (!ps->identity) {
        free(ps);
        return NULL;
    }
    return ps;
}

void access_pseudo_free(access_pseudo *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n_words; i++)
        free(ps->words[i]);
    free(ps->words);
    cJSON_Delete(ps->identity);
    free(ps);
}

static int add_word(access_pseudo *ps, const char *w, size_t len)
{
    char **grown, *copy = strndup(w, len);
    size_t at = 0;

    if (!copy)
        return -1;
    /* A word inside the pseudonym ("Klient:in", the default display name) would be
     * found again in every replacement. */
    if (len == 0 || strstr(ACCESS_PSEUDONYM, copy)) {
        free(copy);
        return 0;
    }
    for (size_t i = 0; i < ps->n_words; i++)
        if (strcmp(ps->words[i], copy) == 0) {
            free(copy);
            return 0;
        }
    grown = realloc(ps->words, (ps->n_words + 1) * sizeof *grown);
    if (!grown) {
        free(copy);
        return -1;
    }
    ps->words = grown;
    while (at < ps->n_words && strlen(ps->words[at]) >= len)
        at++;
    memmove(ps->words + at + 1, ps->words + at, (ps->n_words - at) * sizeof *grown);
    ps->words[at] = copy;
    ps->n_words++;
    return 0;
}

int access_pseudo_add_name(access_pseudo *ps, const char *value)
{
    const char *p = value, *start;

    if (!value)
        return 0;
    if (add_word(ps, value, strlen(value)) != 0)
        return -1;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        start = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t' && *p != '\n')
            p++;
        if ((size_t)(p - start) >= PSEUDO_WORD_MIN && (size_t)(p - start) < strlen(value) &&
            add_word(ps, start, (size_t)(p - start)) != 0)
            return -1;
    }
    return 0;
}

/* The value at path in doc, or NULL. */
static cJSON *at_path(cJSON *doc, const cJSON *path, size_t skip, cJSON **parent)
{
    cJSON *v = doc;
    size_t i = 0;

    *parent = NULL;
    for (const cJSON *e = path->child; e; e = e->next, i++) {
        if (i < skip)
            continue;
        if (!cJSON_IsObject(v) || !cJSON_IsString(e))
            return NULL;
        *parent = v;
        v = cJSON_GetObjectItemCaseSensitive(v, e->valuestring);
        if (!v)
            return NULL;
    }
    return v;
}

int access_pseudo_learn(access_pseudo *ps, const cJSON *doc)
{
    const cJSON *path;
    cJSON *parent;

    cJSON_ArrayForEach(path, ps->identity) {
        const cJSON *v = at_path((cJSON *)doc, path, 0, &parent);
        if (cJSON_IsString(v) && access_pseudo_add_name(ps, v->valuestring) != 0)
            return -1;
    }
    return 0;
}

/* Replaces the value at path (from element skip on) inside root with the pseudonym;
 * root itself is never replaced here (skip < path length). */
static void replace_at(cJSON *root, const cJSON *path, size_t skip)
{
    cJSON *parent, *v = at_path(root, path, skip, &parent), *pseudo;

    if (!v || !parent || !v->string || (cJSON_IsString(v) &&
                                        strcmp(v->valuestring, ACCESS_PSEUDONYM) == 0))
        return;
    pseudo = cJSON_CreateString(ACCESS_PSEUDONYM);
    if (pseudo && !cJSON_ReplaceItemInObjectCaseSensitive(parent, v->string, pseudo))
        cJSON_Delete(pseudo);
}

/* Every occurrence of every dictionary word in s, replaced; s changed in place. */
static void redact_string(const access_pseudo *ps, cJSON *s)
{
    for (size_t i = 0; i < ps->n_words; i++) {
        const char *w = ps->words[i], *hit, *p;
        size_t wl = strlen(w), pl = strlen(ACCESS_PSEUDONYM), n = 0;
        char *out, *o;

        for (hit = strstr(s->valuestring, w); hit; hit = strstr(hit + wl, w))
            n++;
        if (n == 0)
            continue;
        out = malloc(strlen(s->valuestring) + n * pl + 1);
        if (!out)
            continue;
        o = out;
        for (p = s->valuestring; (hit = strstr(p, w)); p = hit + wl) {
            memcpy(o, p, (size_t)(hit - p));
            o += hit - p;
            memcpy(o, ACCESS_PSEUDONYM, pl);
            o += pl;
        }
        strcpy(o, p);
        cJSON_SetValuestring(s, out);   /* copies; on failure s keeps its old text */
        free(out);
    }
}

static void redact_tree(const access_pseudo *ps, cJSON *v)
{
    cJSON *e;

    if (cJSON_IsString(v)) {
        redact_string(ps, v);
        return;
    }
    cJSON_ArrayForEach(e, v)
        redact_tree(ps, e);
}

static bool append_only_list(const access_pseudo *ps, const cJSON *path)
{
    const access_rule *r = access_rules_match(ps->rules, path);

    return r && r->append_only && r->depth == (size_t)cJSON_GetArraySize(path);
}

/* Redacts the items of the append-only lists in v (at path, an array of keys). */
static void redact_lists(const access_pseudo *ps, cJSON *v, cJSON *path)
{
    cJSON *e, *key;

    if (cJSON_IsArray(v)) {
        if (append_only_list(ps, path))
            redact_tree(ps, v);
        return;
    }
    cJSON_ArrayForEach(e, v) {
        if (!e->string || !(key = cJSON_CreateString(e->string)))
            continue;
        cJSON_AddItemToArray(path, key);
        redact_lists(ps, e, path);
        cJSON_DeleteItemFromArray(path, cJSON_GetArraySize(path) - 1);
    }
}

void access_pseudo_snapshot(const access_pseudo *ps, cJSON *data)
{
    const cJSON *path;
    cJSON *root_path;

    if (!cJSON_IsObject(data))
        return;
    cJSON_ArrayForEach(path, ps->identity)
        replace_at(data, path, 0);
    if (ps->n_words > 0 && (root_path = cJSON_CreateArray())) {
        redact_lists(ps, data, root_path);
        cJSON_Delete(root_path);
    }
}

/* Whether the first n elements of a are the object keys that start b (n = size of a). */
static bool key_prefix(const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;

    for (; x; x = x->next, y = y->next)
        if (!y || !cJSON_IsString(x) || !cJSON_IsString(y) ||
            strcmp(x->valuestring, y->valuestring) != 0)
            return false;
    return true;
}

static void set_pseudonym(cJSON *c, const char *key)
{
    cJSON *pseudo;

    if (!cJSON_GetObjectItemCaseSensitive(c, key) || !(pseudo = cJSON_CreateString(ACCESS_PSEUDONYM)))
        return;
    if (!cJSON_ReplaceItemInObjectCaseSensitive(c, key, pseudo))
        cJSON_Delete(pseudo);
}

/* Returns whether component c is to be removed; otherwise pseudonymises it in place. */
static bool pseudo_component(const access_pseudo *ps, cJSON *c)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "p"), *path;
    int np = cJSON_GetArraySize(p);
    cJSON *li = cJSON_GetObjectItemCaseSensitive(c, "li"), *list;

    if (!cJSON_IsArray(p))
        return false;
    cJSON_ArrayForEach(path, ps->identity) {
        int ni = cJSON_GetArraySize(path);
        if (ni <= np && key_prefix(path, p)) {
            bool oi = cJSON_GetObjectItemCaseSensitive(c, "oi") != NULL;
            bool od = cJSON_GetObjectItemCaseSensitive(c, "od") != NULL;
            if (ni < np || !(oi || od) || (oi && od))
                return true;    /* an edit of, or a replacement of, a value always shown
                                   as the pseudonym */
            set_pseudonym(c, oi ? "oi" : "od");
            return false;
        }
        if (ni > np && key_prefix(p, path)) {
            replace_at(cJSON_GetObjectItemCaseSensitive(c, "oi"), path, (size_t)np);
            replace_at(cJSON_GetObjectItemCaseSensitive(c, "od"), path, (size_t)np);
        }
    }
    if (li && np > 0 && ps->n_words > 0 && (list = cJSON_Duplicate(p, 1))) {
        cJSON_DeleteItemFromArray(list, np - 1);
        if (append_only_list(ps, list))
            redact_tree(ps, li);
        cJSON_Delete(list);
    }
    return false;
}

void access_pseudo_op(const access_pseudo *ps, cJSON *op)
{
    cJSON *c = op ? op->child : NULL, *next;

    for (; c; c = next) {
        next = c->next;
        if (pseudo_component(ps, c))
            cJSON_Delete(cJSON_DetachItemViaPointer(op, c));
    }
}
