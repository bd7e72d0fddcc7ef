/*
 * The recipients of a case's data, from the audit trail (see store_recipients.h).
 */
#include "store/store_recipients.h"

#include <string.h>

#include "store/store_sql.h"

int store_recipients_case(sqlite3 *db, const char *case_id, const char *except, cJSON **out)
{
    sqlite3_stmt *st = store_q(db,
        "SELECT a.actor, MIN(a.ts), MAX(a.ts), COUNT(*), u.display_name, u.role, u.specialty,"
        " (SELECT konsil_open(c.display_name, ?1, 'clients.display_name', c.id) FROM clients c"
        " WHERE c.id = a.actor) FROM audit a LEFT JOIN users u ON u.id = a.actor"
        " WHERE a.session = ?1 AND a.action IN (" STORE_RECIPIENT_ACTIONS ") AND a.actor <> ''"
        " AND (?2 IS NULL OR a.actor <> ?2) GROUP BY a.actor ORDER BY MIN(a.ts), a.actor",
        "ss", case_id, except);
    cJSON *list = st ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_ERROR;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject();
        const char *id = store_col(st, 0);
        cJSON_AddStringToObject(r, "id", id);
        if (strcmp(id, "cli") == 0) {
            cJSON_AddStringToObject(r, "name", "the operator (command line)");
            cJSON_AddStringToObject(r, "role", "operator");
        } else if (store_col(st, 5)) {
            cJSON_AddStringToObject(r, "name", store_col(st, 4));
            cJSON_AddStringToObject(r, "role", store_col(st, 5));
            if (store_col(st, 6))
                cJSON_AddStringToObject(r, "specialty", store_col(st, 6));
        } else {
            cJSON_AddStringToObject(r, "name", store_col(st, 7) ? store_col(st, 7) : "?");
            cJSON_AddStringToObject(r, "role", "client");
        }
        cJSON_AddNumberToObject(r, "first", (double)sqlite3_column_int64(st, 1));
        cJSON_AddNumberToObject(r, "last", (double)sqlite3_column_int64(st, 2));
        cJSON_AddNumberToObject(r, "reads", (double)sqlite3_column_int64(st, 3));
        cJSON_AddItemToArray(list, r);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(list);
        return -1;
    }
    *out = list;
    return 0;
}
