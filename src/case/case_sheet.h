/*
 * What Konsil reads and checks in a case sheet beyond the access rules (pure: no I/O,
 * no globals): a new case's document made from its template, the tasks of its help
 * plan (an owner is a member of the case's team, checked on every op that sets one)
 * and its next appointment. The template says where the lists are ("tasks" and
 * "appointments" in the template format, protocol/access.md); their items are:
 *
 *   task         {"what": text, "owner": a team counsellor's user id | "client" | "",
 *                 "due": "YYYY-MM-DD" or "", "done": true | false}
 *   appointment  {"start": "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM", "mode", "place",
 *                 "status": "gebucht" | "verschoben" | "abgesagt" | "stattgefunden"}
 *
 * Ownership: case_sheet_new returns a new tree for the caller; everything else only
 * reads what it is given (case_sheet_next_appointment returns a borrowed item).
 */
#ifndef KONSIL_CASE_SHEET_H
#define KONSIL_CASE_SHEET_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth/template.h"

/* The owner a task may have besides a team member: the client itself. */
#define CASE_TASK_OWNER_CLIENT "client"

/* A new case's document: the template's initial document with meta.case_id,
 * meta.title and meta.lead filled where the template has those strings. NULL when
 * memory runs out. */
cJSON *case_sheet_new(const template_spec *t, const char *case_id, const char *title,
                      const char *lead_name);

/* Whether op (json0 components, as it will be applied) sets task owners the case
 * allows: every owner it writes into the task list at tasks_path (an array of object
 * keys; NULL: the template keeps no tasks, nothing to check) is "", "client", null, or
 * an id for which owner_ok(ctx, id) is nonzero; an owner is set whole (oi, or inside
 * an inserted task), never edited as text. 0, or -1 with msg saying which component
 * and why. */
int case_sheet_check_owners(const cJSON *tasks_path, const cJSON *op,
                            int (*owner_ok)(void *ctx, const char *id), void *ctx, char *msg,
                            size_t msg_len);

/* Appends to out (an array) the tasks of doc's task list owned by user, each as
 * {index, what, due, done, overdue}: overdue when not done and its due date is before
 * today ("YYYY-MM-DD"). 0, or -1 when memory runs out. */
int case_sheet_tasks_of(const cJSON *doc, const cJSON *tasks_path, const char *user,
                        const char *today, cJSON *out);

/* The earliest appointment of doc's list at path that starts at or after now
 * ("YYYY-MM-DDTHH:MM"; a start without a time counts from its day) and is neither
 * cancelled nor held; NULL when there is none. */
const cJSON *case_sheet_next_appointment(const cJSON *doc, const cJSON *path,
                                         const char *now);

#endif
