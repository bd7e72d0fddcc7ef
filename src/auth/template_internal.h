/*
 * The inside of a template_spec, shared by template.c (the template and its rules) and
 * template_fields.c (consents, stamps, structured strings). Not for other modules: they
 * use template.h.
 */
#ifndef KONSIL_AUTH_TEMPLATE_INTERNAL_H
#define KONSIL_AUTH_TEMPLATE_INTERNAL_H

#include "auth/template.h"

struct template_spec {
    char *name;
    char *title;
    cJSON *document;
    access_rules *rules;
    cJSON *identity;        /* array of identity paths (arrays of object keys); may be empty */
    cJSON *consent_path;    /* array of object keys, or NULL */
    unsigned consent_kinds; /* ACCESS_CONSENT_KIND_BIT set */
    template_stamp *stamps; /* n_stamps of them, owned */
    size_t n_stamps;
    cJSON *structured;      /* array of patterns, owned; never NULL once parsed */
    cJSON *tasks;           /* path of the task list, or NULL */
    cJSON *appointments;    /* path of the appointment list, or NULL */
    cJSON *purposes;        /* array of strings, or NULL */
    template_retention_class *retention;   /* n_retention, owned (names and bases too) */
    size_t n_retention;
    size_t retention_default;
    template_limits limits; /* 0 where the template sets none */
};

/* Refuses members of obj not in allowed (a NULL-terminated list), naming `where`. */
int template_only_fields(const cJSON *obj, const char *const *allowed, const char *where,
                         auth_error *err);

/* "consents".kinds into t->consent_kinds (before the rules, whose conditions name
 * them); then, once the rules are in, "consents".path into t->consent_path. */
int template_parse_consent_kinds(template_spec *t, const cJSON *consents, auth_error *err);
int template_parse_consent_path(template_spec *t, const cJSON *consents, auth_error *err);
/* A conditioned read selector {"role", "if"} of rule `index`, added to t's rules. */
int template_parse_condition(template_spec *t, const cJSON *sel, size_t index,
                             auth_error *err);
/* "stamps" and "structured" (after the consent path). */
int template_parse_stamps(template_spec *t, const cJSON *stamps, auth_error *err);
int template_parse_structured(template_spec *t, const cJSON *structured, auth_error *err);
void template_free_fields(template_spec *t);
/* "limits" (may be NULL). */
int template_parse_limits(template_spec *t, const cJSON *limits, auth_error *err);

#endif
