/*
 * The templates table (store_schema.c): every version of every case-sheet template
 * the server offers, for the server and for `konsil template`. A version is added only
 * after the text passed template_parse, is never changed or removed, and a case keeps
 * the version it started with; a new case takes the latest version of its name.
 *
 * Which templates are offered: those Konsil ships (src/case/case_templates.h), added
 * when the server starts unless that exact text is already a version of its name, or
 * the operator added a version of that name of their own (`konsil template add`, or
 * `konsil serve --templates DIR`): the operator's stays the latest until they add the
 * shipped file again. Each addition is audited (template.add, details {name, version}).
 */
#ifndef KONSIL_STORE_TEMPLATES_H
#define KONSIL_STORE_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Who added a version (the templates table's added_by; also the audit entry's actor). */
#define STORE_TEMPLATE_SHIPPED "konsil"
#define STORE_TEMPLATE_CLI "cli"
#define STORE_TEMPLATE_SERVE "serve"

/* Adds text[0..len) as the next version of its name, inside the caller's transaction,
 * unless that exact text is a version of its name already. *version is the version
 * holding it and name (65 bytes) its name. 1 added, 0 there already, -1 refused: not a
 * valid template or the database failed (err says which). */
int store_templates_add(sqlite3 *db, const char *text, size_t len, const char *by,
                        int64_t now, int *version, char name[65], char *err, size_t errlen);

/* Adds the shipped templates as above (by STORE_TEMPLATE_SHIPPED), skipping a name the
 * operator added a version of. 0 or -1 (err). */
int store_templates_seed(sqlite3 *db, int64_t now, char *err, size_t errlen);

#endif
