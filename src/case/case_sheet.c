/*
 * The case sheet beyond the access rules (see case_sheet.h): a new case's document,
 * task owners, tasks per owner, the next appointment.
 */
#include "case/case_sheet.h"

#include <stdio.h>
#include <string.h>

/* Replaces the string member key of obj with value when obj has it as a string. */
static int fill(cJSON *obj, const char *key, const char *value)
{
    cJSON *s;

    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, key)))
        return 0;
    s = cJSON_CreateString(value);
    if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(obj, key, s)) {
        cJSON_Delete(s);
        return -1;
    }
    return 0;
}

cJSON *case_sheet_new(const template_spec *t, const char *case_id, const char *title,
                      const char *lead_name)
{
    cJSON *doc = cJSON_Duplicate(template_document(t), 1), *meta;

    if (!doc)
        return NULL;
    meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    if (cJSON_IsObject(meta) &&
        (fill(meta, "case_id", case_id) != 0 || fill(meta, "title", title) != 0 ||
         fill(meta, "lead", lead_name) != 0)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The value at the object-key path keys (an array of strings) inside v; NULL when a
 * key is missing. */
static const cJSON *follow(const cJSON *v, const cJSON *keys)
{
    for (const cJSON *k = keys ? keys->child : NULL; k && v; k = k->next)
        v = cJSON_IsObject(v) && cJSON_IsString(k) ?
            cJSON_GetObjectItemCaseSensitive(v, k->valuestring) : NULL;
    return v;
}

/* How many leading elements of the op path p equal the keys of path (strings only). */
static int common_prefix(const cJSON *p, const cJSON *path)
{
    const cJSON *a = p ? p->child : NULL, *b = path->child;
    int n = 0;

    for (; a && b; a = a->next, b = b->next, n++)
        if (!cJSON_IsString(a) || strcmp(a->valuestring, b->valuestring) != 0)
            break;
    return n;
}

typedef struct owner_check {
    int (*ok)(void *ctx, const char *id);
    void *ctx;
    int component;
    char *msg;
    size_t msg_len;
} owner_check;

static int owner_valid(owner_check *c, const cJSON *owner)
{
    if (!owner || cJSON_IsNull(owner))
        return 0;
    if (!cJSON_IsString(owner)) {
        snprintf(c->msg, c->msg_len, "component %d: a task's owner is a team member's id, "
                 "\"client\" or \"\"", c->component);
        return -1;
    }
    if (!owner->valuestring[0] || strcmp(owner->valuestring, CASE_TASK_OWNER_CLIENT) == 0 ||
        c->ok(c->ctx, owner->valuestring))
        return 0;
    snprintf(c->msg, c->msg_len, "component %d: task owner \"%.64s\" is not a counsellor of "
             "this case's team", c->component, owner->valuestring);
    return -1;
}

static int task_valid(owner_check *c, const cJSON *task)
{
    return cJSON_IsObject(task) ?
           owner_valid(c, cJSON_GetObjectItemCaseSensitive(task, "owner")) : 0;
}

/* A value inserted at depth `at` of the task list path: every task below it. */
static int inserted_valid(owner_check *c, const cJSON *value, const cJSON *tasks_path, int at)
{
    const cJSON *k = tasks_path->child, *list;

    for (int i = 0; i < at && k; i++)
        k = k->next;
    for (list = value; k && list; k = k->next)
        list = cJSON_IsObject(list) ? cJSON_GetObjectItemCaseSensitive(list, k->valuestring) :
               NULL;
    if (!cJSON_IsArray(list))
        return 0;
    for (const cJSON *task = list->child; task; task = task->next)
        if (task_valid(c, task) != 0)
            return -1;
    return 0;
}

int case_sheet_check_owners(const cJSON *tasks_path, const cJSON *op,
                            int (*owner_ok)(void *ctx, const char *id), void *ctx, char *msg,
                            size_t msg_len)
{
    owner_check c = {owner_ok, ctx, 0, msg, msg_len};
    const int depth = tasks_path ? cJSON_GetArraySize(tasks_path) : 0;
    const cJSON *comp;

    if (!tasks_path || !cJSON_IsArray(op))
        return 0;
    cJSON_ArrayForEach(comp, op) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(comp, "p");
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(comp, "oi");
        const cJSON *below;
        int len = cJSON_GetArraySize(p), common = common_prefix(p, tasks_path);

        if (!ins)
            ins = cJSON_GetObjectItemCaseSensitive(comp, "li");
        if (common == len && len <= depth) {
            /* at or above the list: what it inserts may hold tasks */
            if (ins && inserted_valid(&c, ins, tasks_path, len) != 0)
                return -1;
        } else if (common == depth && len > depth) {
            below = cJSON_GetArrayItem(p, depth + 1);   /* the key inside a task */
            if (len == depth + 1) {
                if (ins && task_valid(&c, ins) != 0)
                    return -1;
            } else if (cJSON_IsString(below) && strcmp(below->valuestring, "owner") == 0) {
                /* only a whole value (oi/od on the key itself), never text edits or a
                 * subtype inside it */
                if (len != depth + 2 || cJSON_GetObjectItemCaseSensitive(comp, "na") ||
                    cJSON_GetObjectItemCaseSensitive(comp, "t")) {
                    snprintf(msg, msg_len, "component %d: a task's owner is set whole "
                             "(od/oi), not edited as text", c.component);
                    return -1;
                }
                if (ins && owner_valid(&c, ins) != 0)
                    return -1;
            }
        }
        c.component++;
    }
    return 0;
}

int case_sheet_tasks_of(const cJSON *doc, const cJSON *tasks_path, const char *user,
                        const char *today, cJSON *out)
{
    const cJSON *list = tasks_path ? follow(doc, tasks_path) : NULL, *task;
    int index = 0;

    if (!cJSON_IsArray(list))
        return 0;
    for (task = list->child; task; task = task->next, index++) {
        const char *owner = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "owner"));
        const char *what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "what"));
        const char *due = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "due"));
        int done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(task, "done"));
        cJSON *e;

        if (!owner || strcmp(owner, user) != 0)
            continue;
        e = cJSON_CreateObject();
        if (!e || !cJSON_AddNumberToObject(e, "index", index) ||
            !cJSON_AddStringToObject(e, "what", what ? what : "") ||
            !cJSON_AddStringToObject(e, "due", due ? due : "") ||
            !cJSON_AddBoolToObject(e, "done", done) ||
            !cJSON_AddBoolToObject(e, "overdue", !done && due && due[0] &&
                                   strcmp(due, today) < 0) ||
            !cJSON_AddItemToArray(out, e)) {
            cJSON_Delete(e);
            return -1;
        }
    }
    return 0;
}

const cJSON *case_sheet_next_appointment(const cJSON *doc, const cJSON *path,
                                         const char *now)
{
    const cJSON *list = path ? follow(doc, path) : NULL, *item, *best = NULL;
    const char *best_start = NULL;

    if (!cJSON_IsArray(list))
        return NULL;
    for (item = list->child; item; item = item->next) {
        const char *start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "start"));
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "status"));
        size_t n;

        if (!start || strlen(start) < 10 ||
            (status && (strcmp(status, "abgesagt") == 0 || strcmp(status, "stattgefunden") == 0)))
            continue;
        /* A day alone starts at its first minute: compare as far as both go. */
        n = strlen(start) < strlen(now) ? strlen(start) : strlen(now);
        if (strncmp(start, now, n) < 0)
            continue;
        if (!best_start || strcmp(start, best_start) < 0) {
            best = item;
            best_start = start;
        }
    }
    return best;
}
