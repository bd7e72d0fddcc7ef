/*
 * Shared by the files of the view module (access_view*.c), not a public interface: a
 * view reading under a frame (view_ctx), what kind of string a path holds, and how a
 * view shows it; paths are cJSON arrays of keys (strings) and indices (numbers), used
 * as scratch stacks (view_push/view_pop) on the way down a tree.
 */
#ifndef KONSIL_AUTH_ACCESS_VIEW_INTERNAL_H
#define KONSIL_AUTH_ACCESS_VIEW_INTERNAL_H

#include "auth/access_view.h"

typedef struct view_ctx {
    const template_spec *t;
    const access_rules *rules;
    access_view v;
    access_consents consents;
    const access_names *names;
} view_ctx;

/* What a string at a path is. */
typedef enum view_class {
    VIEW_FREE,            /* free text */
    VIEW_STRUCTURED,      /* structured: "structured", stamped authors and names, a
                             consent's with, given_by, recorded_by */
    VIEW_CONTROLLED,      /* from a fixed set or the clock: stamped roles and times, a
                             consent's kind, status, how, at: as they are */
    VIEW_IDENTITY,        /* an identity path itself: the identity, never free text */
    VIEW_INSIDE_IDENTITY  /* below an identity path */
} view_class;

/* How a view shows a string of a class. */
typedef enum view_shown {
    VIEW_AS_IS,
    VIEW_MASKED,
    VIEW_REDACTED,   /* names replaced */
    VIEW_PSEUDONYM   /* the whole value reads ACCESS_PSEUDONYM */
} view_shown;

void view_ctx_init(view_ctx *c, const template_spec *t, const access_view *v,
                   access_consents consents, const access_names *names);

/* Whether the view changes any value it reads (pseudonymised or supervision). */
bool view_transforms(const access_view *v);
/* Whether the view reads everything at and below path under the ctx's consents. */
bool view_reads_all(const view_ctx *c, const cJSON *path);
/* Whether it may read something strictly below path in some consent state. */
bool view_may_read_below(const view_ctx *c, const cJSON *path);
/* Whether it reads the value at path itself (the governing rule). */
bool view_reads(const view_ctx *c, const cJSON *path);

view_class view_classify(const view_ctx *c, const cJSON *path);
view_shown view_shown_as(const view_ctx *c, view_class cls);

/* The string s as the view shows it when of class cls: 1 and *out (free with free), 0
 * when shown as it is (*out NULL), -1 (memory). */
int view_string(const view_ctx *c, view_class cls, const char *s, char **out);
/* A copy of value (at path, a scratch stack) as the view shows it; NULL: memory. */
cJSON *view_value(const view_ctx *c, const cJSON *value, cJSON *path);
/* s masked: one ACCESS_VIEW_MASK per UTF-16 code unit. NULL: memory. */
char *view_mask(const char *s);

/* Appends to out the components that turn a into b (two views of one document: the
 * same containers; a string becomes sd+si at the first difference, a value that differs
 * in kind or appears or disappears od/oi or ld/li). path: a's place. 0 or -1. */
int view_diff(const cJSON *a, const cJSON *b, cJSON *path, cJSON *out);
/* Appends the sd/si that turn string a into b at path (the string's path). 0 or -1. */
int view_string_diff(const char *a, const char *b, const cJSON *path, cJSON *out);

/* Path stacks. view_push_key does not copy key: it must outlive the push. */
int view_push_key(cJSON *path, const char *key);
int view_push_index(cJSON *path, int index);
void view_pop(cJSON *path);

#endif
