/*
 * What the dashboard reads out of case sheets (see store_api.h): each case's next
 * appointment and the tasks a counsellor owns across its cases. Both read the latest
 * committed version of each document (rebuilt from its latest milestone, so the cost
 * per case is bounded) as the reader reads it (store_resource_sheet, through
 * access_view.h): a list the reader may not read contributes nothing, and free text a
 * supervisor may not read is masked.
 */
#include "store/store_api.h"

#include <stdlib.h>
#include <string.h>

#include "auth/template.h"
#include "case/case_sheet.h"
#include "store/store_internal.h"
#include "store/store_sql.h"

/* The reader user as a case's rules see it: its account's role and specialty, and the
 * lead when lead says so. 0, or -1 (no such account). */
static int reader(sqlite3 *db, const char *user, int lead, auth_principal *who)
{
    sqlite3_stmt *st = store_q(db, "SELECT role, specialty FROM users WHERE id = ?1", "s", user);
    auth_role role;
    auth_specialty spec = AUTH_SPECIALTY_NONE;
    int ok = st && sqlite3_step(st) == SQLITE_ROW &&
             auth_role_parse(store_col(st, 0), &role) == 0 &&
             (!store_col(st, 1) || auth_specialty_parse(store_col(st, 1), &spec) == 0);

    sqlite3_finalize(st);
    if (!ok)
        return -1;
    return auth_principal_init(who, user, "reader", role,
                               role == AUTH_ROLE_COUNSELLOR ? spec : AUTH_SPECIALTY_NONE,
                               role == AUTH_ROLE_COUNSELLOR && lead, NULL);
}

/* Case id's template (text) parsed; NULL when it does not parse. */
static template_spec *case_template(const char *text)
{
    auth_error err = {{0}};

    return text ? template_parse(text, strlen(text), &err) : NULL;
}

cJSON *store_sheet_next_meeting(sqlite3 *db, store_job *job, const cJSON *meta,
                                const char *user, const char *now_minute)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "id"));
    const char *lead = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "lead"));
    template_spec *t = case_template(cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(meta, "template")));
    auth_principal who;
    cJSON *sheet = NULL, *next = NULL;

    if (t && now_minute && template_appointments(t) &&
        reader(db, user, lead && strcmp(lead, user) == 0, &who) == 0 &&
        (sheet = store_resource_sheet(db, job, id, &who)))
        next = cJSON_Duplicate(case_sheet_next_appointment(sheet, template_appointments(t),
                                                           now_minute), 1);
    cJSON_Delete(sheet);
    template_free(t);
    return next;
}

/* Overdue first, then by due date (none last), then by case title. */
static int by_due(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int ox = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "overdue"));
    int oy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(y, "overdue"));
    const char *dx = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "due"));
    const char *dy = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "due"));
    int c;

    if (ox != oy)
        return oy - ox;
    if (!*dx != !*dy)
        return *dx ? -1 : 1;
    c = strcmp(dx, dy);
    return c ? c : strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "case_title")),
                          cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "case_title")));
}

/* Sorts the tasks of list in place (by_due). 0 or -1 (no memory). */
static int sort_tasks(cJSON *list)
{
    int n = cJSON_GetArraySize(list), i = 0;
    cJSON **items = malloc((size_t)(n ? n : 1) * sizeof *items);

    if (!items)
        return -1;
    while (list->child)
        items[i++] = cJSON_DetachItemViaPointer(list, list->child);
    qsort(items, (size_t)n, sizeof *items, by_due);
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(list, items[i]);
    free(items);
    return 0;
}

int store_api_my_tasks(sqlite3 *db, store_job *job)
{
    const char *me = store_actor_id(job), *today = store_s(job->in, "today");
    sqlite3_stmt *st;
    cJSON *body, *list;
    int rc = SQLITE_ERROR;

    if (store_s(store_actor(job), "session"))
        return store_refuse(job, STORE_ERR_FORBIDDEN, NULL, "clients have no task list here");
    st = store_q(db, "SELECT c.id, konsil_open(c.title, c.id, 'cases.title', c.id), tm.role,"
                 " tp.text FROM cases c JOIN team tm ON"
                 " tm.case_id = c.id AND tm.user_id = ?1 AND tm.removed_at IS NULL JOIN"
                 " templates tp ON tp.name = c.template_name AND tp.version = c.template_version"
                 " WHERE c.status = 'open' AND tm.role IN ('lead', 'counsellor') ORDER BY"
                 " c.created_at DESC, c.id", "s", me);
    body = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(body, "tasks");
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        template_spec *t = case_template(store_col(st, 3));
        auth_principal who;
        cJSON *sheet = NULL, *mine = cJSON_CreateArray(), *task;
        int got = 0;

        if (t && template_tasks(t) && reader(db, me, strcmp(store_col(st, 2), "lead") == 0, &who) == 0)
            got = (sheet = store_resource_sheet(db, job, store_col(st, 0), &who)) ? 1 : 0;
        if (got == 1 &&
            case_sheet_tasks_of(sheet, template_tasks(t), me, today ? today : "", mine) != 0)
            got = -1;
        while (got == 1 && mine->child) {
            task = cJSON_DetachItemViaPointer(mine, mine->child);
            cJSON_AddStringToObject(task, "case_id", store_col(st, 0));
            cJSON_AddStringToObject(task, "case_title", store_col(st, 1));
            cJSON_AddItemToArray(list, task);
        }
        cJSON_Delete(mine);
        cJSON_Delete(sheet);
        template_free(t);
        if (got < 0) {
            rc = SQLITE_ERROR;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || sort_tasks(list) != 0) {
        cJSON_Delete(body);
        return store_sql_fail(job);
    }
    store_answer(job, body);
    return 0;
}
