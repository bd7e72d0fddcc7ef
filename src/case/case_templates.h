/*
 * The case-sheet templates Konsil ships and offers by default (protocol/templates/):
 * the integrated default (src/auth/template_default.c), a single-specialty debt-
 * counselling intake and a help-plan review. The server adds them to its templates
 * table when it starts (store_templates.h); each is the same text as its file in
 * protocol/templates/, which a unit test checks.
 */
#ifndef KONSIL_CASE_TEMPLATES_H
#define KONSIL_CASE_TEMPLATES_H

#include <stddef.h>

/* The texts of the shipped templates besides the default, NULL-terminated
 * (case_templates_text.c, written by scripts/embed-templates.js). */
extern const char *const case_templates_extra[];

/* The shipped template number i (0: the default), or NULL past the last. */
const char *case_templates_shipped(size_t i);

#endif
