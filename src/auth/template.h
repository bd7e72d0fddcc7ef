/*
 * Case-sheet templates: what a new session's document starts as, and the access rules
 * that hold for it from then on. The format (protocol/access.md has the full text):
 *
 *   {
 *     "name": "default",                   [a-z0-9][a-z0-9_-]{0,63}, chosen at creation
 *     "title": "…",                        for people, 1..200 bytes of UTF-8
 *     "description": "…",                  optional
 *     "document": { … },                   the initial document, a JSON object
 *     "rules": [                           at least the root rule
 *       {"path": [], "read": ["counsellor", "supervisor"], "write": ["lead"]},
 *       {"path": ["chat"], "read": [...], "write": [...], "append_only": true,
 *        "description": "…"},              append_only and description optional
 *       …
 *     ],
 *     "identity": [["person", "legal_name"], …]   optional: paths of the client's
 *                                          identifying strings (access_view.h)
 *     "consents": {"path": ["consents"],   optional: the append-only list of consent
 *                  "kinds": ["share", …]}  records and the kinds kept (access_consents.h)
 *     "stamps": [{"path": ["chat"],        optional: fields of list items the server
 *                 "fields": {"from": "author", "at": "now"}}, …]   fills (access_view.h)
 *     "structured": [["meta", "status"], …]   optional: strings shown to supervisors as
 *                                          they are; every other string is free text
 *     "tasks": ["help_plan", "tasks"],     optional: the list of the help plan's tasks
 *     "appointments": ["appointments"],    optional: the list of appointments (both read
 *                                          and checked by src/case/case_sheet.h)
 *     "purposes": ["…", …],                optional: the purposes of the processing, for
 *                                          people (the client's copy tells them)
 *     "retention": {"default": "standard", optional: the retention classes a case may
 *       "classes": {"standard":            have, each with its period after the case's
 *         {"after_closure_days": 1095,     closure and its documented legal basis, and
 *          "basis": "…"}, …}},             the class a new case takes
 *     "limits": {"sheet_bytes": 2097152,   optional: the size limits of its case sheets
 *                "item_bytes": 65536, …}   (template_limits; protocol/limits.md)
 *   }
 *
 * A read list may hold conditioned selectors besides role names:
 *     {"role": "counsellor", "if": {"consent": "share", "with": "reader"}}
 * (access_rules.h). Stamp and structured paths are *patterns*: object keys from the root,
 * "*" standing for any one key; list indices are left out (["consents", "kind"] is the
 * "kind" of every consent record).
 *
 * A parsed template is valid: no unknown fields or duplicate keys anywhere; a rule for
 * the root; no two rules for one path; every rule path names object keys that exist in
 * the initial document (so no rule path passes through a list); an append-only rule
 * names a list; the rule checks of access_rules_add (known roles, no supervisor writes,
 * writers can read). Rule semantics are in access_rules.h. The consent list is a list of
 * the document with an append-only rule of its own; kinds are known ones, each once;
 * conditions name a kept kind; a stamp path names lists of the document (through object
 * keys only), no two stamps name one list, the consent list has its own fixed stamps;
 * sources are known; a structured pattern names something in the document. Retention:
 * 1 to TEMPLATE_RETENTION_CLASSES_MAX classes, each named [a-z0-9_-] (1..32), with
 * after_closure_days an integer 0..TEMPLATE_RETENTION_DAYS_MAX (0: deleted when closed)
 * and a basis of 1..TEMPLATE_RETENTION_BASIS_MAX bytes of text; the default names one of
 * them. Purposes: 1..TEMPLATE_PURPOSES_MAX texts of 1..TEMPLATE_PURPOSE_TEXT_MAX bytes.
 *
 * Ownership: template_parse / template_from_json / template_default return a new
 * template_spec the caller frees with template_free; the document and rules it hands
 * out are borrowed and live as long as the template.
 */
#ifndef KONSIL_AUTH_TEMPLATE_H
#define KONSIL_AUTH_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/access_rules.h"
#include "auth/auth_error.h"

/* Largest template text accepted: the initial document must fit one 1 MiB message. */
#define TEMPLATE_TEXT_MAX (1024 * 1024)

typedef struct template_spec template_spec;

/* Parses and validates text[0..len). NULL with *err (naming the offending rule by its
 * index in "rules", counted from 0) when it is not a valid template. */
template_spec *template_parse(const char *text, size_t len, auth_error *err);

/* The same from a parsed JSON value (only read; copied as needed). */
template_spec *template_from_json(const cJSON *json, auth_error *err);

/* The built-in default template (template_default.c; equal to
 * protocol/templates/default.json). */
template_spec *template_default(auth_error *err);

/* Its text, which a unit test compares with protocol/templates/default.json. */
extern const char template_default_json[];

void template_free(template_spec *t);

/* Where a stamped field's value comes from (access_view.h, stamping). */
typedef enum template_stamp_source {
    TEMPLATE_STAMP_AUTHOR,       /* the author's id */
    TEMPLATE_STAMP_AUTHOR_ROLE,  /* its role: client, counsellor */
    TEMPLATE_STAMP_AUTHOR_NAME,  /* its display name (a client's is self-chosen) */
    TEMPLATE_STAMP_NOW           /* the server's clock, ms since the epoch (a number) */
} template_stamp_source;

typedef struct template_stamp_field {
    char *name;
    template_stamp_source source;
} template_stamp_field;

/* The items of the lists `path` names (a pattern, "*" for any key) get these fields. */
typedef struct template_stamp {
    cJSON *path;
    template_stamp_field *fields;
    size_t n_fields;
} template_stamp;

const char *template_name(const template_spec *t);
const char *template_title(const template_spec *t);
/* The initial document; a new session's create op carries a copy of it. */
const cJSON *template_document(const template_spec *t);
const access_rules *template_rules(const template_spec *t);
/* The identity paths ("identity" in the text; an empty array when absent): the client's
 * identifying fields, which pseudonymised readers see replaced (access_view.h). */
const cJSON *template_identity(const template_spec *t);
/* The consent list's path (an array of object keys), or NULL when the template keeps no
 * consents; the kinds it keeps (ACCESS_CONSENT_KIND_BIT set, 0 without). */
const cJSON *template_consent_path(const template_spec *t);
unsigned template_consent_kinds(const template_spec *t);
/* The stamps (n of them). */
const template_stamp *template_stamps(const template_spec *t, size_t *n);
/* The structured patterns (an array; empty when absent). */
const cJSON *template_structured(const template_spec *t);
/* The path (an array of object keys) of the task list and of the appointment list, or
 * NULL when the template names none: each names a list in the document. */
const cJSON *template_tasks(const template_spec *t);
const cJSON *template_appointments(const template_spec *t);

#define TEMPLATE_RETENTION_CLASSES_MAX 16
#define TEMPLATE_RETENTION_DAYS_MAX 36500
#define TEMPLATE_RETENTION_BASIS_MAX 1000
#define TEMPLATE_PURPOSES_MAX 16
#define TEMPLATE_PURPOSE_TEXT_MAX 1000

/* A retention class: how long a case of it is kept after its closure, and why. */
typedef struct template_retention_class {
    const char *name;
    int64_t after_closure_days;
    const char *basis;
} template_retention_class;

/* The fallback for templates that name no retention (versions stored before retention
 * existed): one class "standard", three years after closure (§§ 195, 199 BGB). */
#define TEMPLATE_RETENTION_FALLBACK_NAME "standard"
#define TEMPLATE_RETENTION_FALLBACK_DAYS 1095
#define TEMPLATE_RETENTION_FALLBACK_BASIS \
    "Regelmäßige Verjährungsfrist von drei Jahren (§§ 195, 199 BGB); die Vorlage nennt " \
    "keine Aufbewahrungsklassen, Konsil nimmt diese an."

/* The template's retention classes (*n of them, at least one: the fallback when the
 * template names none), in the template's order. */
const template_retention_class *template_retention_classes(const template_spec *t, size_t *n);
/* The class a new case takes. */
const template_retention_class *template_retention_default(const template_spec *t);
/* The class of that name, or NULL. */
const template_retention_class *template_retention_class_named(const template_spec *t,
                                                               const char *name);
/* The purposes (an array of strings), NULL when the template names none. */
const cJSON *template_purposes(const template_spec *t);
/* The size limits a template sets for its case sheets ("limits" in the text, each
 * optional; protocol/limits.md): the sheet's size, one inserted item's and one string's
 * (bytes), and the bytes one principal may add to one sheet per window. 0 where the
 * template sets none (the server's defaults hold there). */
typedef struct template_limits {
    size_t sheet_bytes, item_bytes, string_bytes, append_bytes;
    int64_t append_window_secs;
} template_limits;

const template_limits *template_size_limits(const template_spec *t);

#endif
