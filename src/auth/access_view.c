/*
 * Views, the consent state of a document, what a view reads of one place, presence and
 * names (see access_view.h). Projections are in access_view_project.c, the write check
 * and stamping in access_view_write.c, string handling in access_view_text.c.
 */
#include "auth/access_view_internal.h"

#include <string.h>

#include "util/json_util.h"

#define KEY_ROLE_BITS 0xFFFFu

access_view access_view_of(const auth_principal *who, bool identified)
{
    access_view v = {.roles = access_principal_set(who), .flags = 0};

    if (who && who->role == AUTH_ROLE_SUPERVISOR)
        v.flags = ACCESS_VIEW_SUPERVISION | (identified ? 0 : ACCESS_VIEW_PSEUDONYMISED);
    return v;
}

access_view access_view_export(bool pseudonymise)
{
    access_view v = {.roles = 0, .flags = ACCESS_VIEW_EVERYTHING};

    if (pseudonymise)
        v.flags |= ACCESS_VIEW_PSEUDONYMISED | ACCESS_VIEW_SUPERVISION;
    return v;
}

uint32_t access_view_key(const access_view *v)
{
    return (v->roles & KEY_ROLE_BITS) | ((uint32_t)v->flags << 16);
}

access_view access_view_from_key(uint32_t key)
{
    access_view v = {.roles = key & KEY_ROLE_BITS, .flags = key >> 16};
    return v;
}

access_consents access_view_consent_mask(const template_spec *t, const access_view *v)
{
    access_consents mask = (v->flags & ACCESS_VIEW_SUPERVISION) ? ACCESS_CONSENT_SUPERVISION_BIT : 0;

    if (!(v->flags & ACCESS_VIEW_EVERYTHING))
        mask |= access_rules_consent_mask(template_rules(t), v->roles);
    return mask;
}

/* ---- consent state -------------------------------------------------------------------- */

access_consents access_view_consents(const template_spec *t, const cJSON *doc)
{
    const cJSON *path = template_consent_path(t), *v = doc, *e;

    if (!path)
        return 0;
    cJSON_ArrayForEach(e, path)
        v = json_is_object(v) ? cJSON_GetObjectItemCaseSensitive(v, e->valuestring) : NULL;
    return access_consents_of_list(v, template_consent_kinds(t));
}

/* Whether one of a and b is a prefix of the other. */
static bool on_one_line(const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;

    for (; x && y; x = x->next, y = y->next) {
        if (json_is_string(x) != json_is_string(y))
            return false;
        if (json_is_string(x) ? strcmp(x->valuestring, y->valuestring) != 0
                              : x->valuedouble != y->valuedouble)
            return false;
    }
    return true;
}

bool access_view_touches_consents(const template_spec *t, const cJSON *op)
{
    const cJSON *path = template_consent_path(t), *c;

    if (!path)
        return false;
    cJSON_ArrayForEach(c, op) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "p");
        if (json_is_array(p) && on_one_line(p, path))
            return true;
    }
    return false;
}

/* ---- what a view reads of one place ------------------------------------------------------ */

access_view_reading access_view_reading_at(const template_spec *t, const access_view *v,
                                           access_consents consents, const cJSON *path)
{
    view_ctx c;
    view_class cls;

    view_ctx_init(&c, t, v, consents, NULL);
    if (!view_reads(&c, path))
        return ACCESS_READS_NOTHING;
    cls = view_classify(&c, path);
    if (cls == VIEW_IDENTITY || cls == VIEW_INSIDE_IDENTITY)
        return (v->flags & ACCESS_VIEW_PSEUDONYMISED) ? ACCESS_READS_PSEUDONYM : ACCESS_READS_TEXT;
    if (cls == VIEW_FREE && (v->flags & ACCESS_VIEW_SUPERVISION) &&
        !(consents & ACCESS_CONSENT_SUPERVISION_BIT))
        return ACCESS_READS_STRUCTURE;
    if (cls == VIEW_CONTROLLED)
        return ACCESS_READS_TEXT;
    if (v->flags & ACCESS_VIEW_PSEUDONYMISED)
        return ACCESS_READS_REDACTED;
    return ACCESS_READS_TEXT;
}

int access_view_text(const access_view *v, access_consents consents,
                     const access_names *names, const char *s, char **out)
{
    view_ctx c = {.t = NULL, .rules = NULL, .v = *v, .consents = consents, .names = names};

    *out = NULL;
    if (!v->roles && !(v->flags & ACCESS_VIEW_EVERYTHING)) {
        *out = view_mask(s);    /* a reader of nothing: not even the text outside */
        return *out ? 1 : -1;
    }
    return view_string(&c, VIEW_FREE, s, out);
}

/* ---- presence ------------------------------------------------------------------------------- */

static cJSON *no_place(void)
{
    cJSON *v = cJSON_CreateObject();

    if (v && !cJSON_AddNullToObject(v, "path")) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* value without the strings its sender defined: the path, numbers and booleans. */
static cJSON *presence_stripped(const cJSON *value)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *m;

    cJSON_ArrayForEach(m, value) {
        cJSON *copy;
        if (strcmp(m->string, "path") != 0 && !json_is_number(m) && !cJSON_IsBool(m))
            continue;
        copy = cJSON_Duplicate(m, 1);
        if (!out || !copy || !cJSON_AddItemToObject(out, m->string, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

cJSON *access_view_presence(const template_spec *t, const access_view *v,
                            access_consents consents, const cJSON *value)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(value, "path");
    bool strip = view_transforms(v);
    view_ctx c;

    if (!value || cJSON_IsNull(value))
        return cJSON_CreateNull();
    if (!json_is_object(value))
        return strip ? no_place() : cJSON_Duplicate(value, 1);
    view_ctx_init(&c, t, v, consents, NULL);
    if (path && !cJSON_IsNull(path) && (!access_path_valid(path) || !view_reads(&c, path)))
        return no_place();
    return strip ? presence_stripped(value) : cJSON_Duplicate(value, 1);
}

/* ---- names --------------------------------------------------------------------------------- */

cJSON *access_view_identity(const access_view *v, const auth_principal *person)
{
    cJSON *u = cJSON_CreateObject();
    bool client = person->role == AUTH_ROLE_CLIENT;
    bool pseudo = (v->flags & ACCESS_VIEW_PSEUDONYMISED) ||
                  (v->roles == 0 && !(v->flags & ACCESS_VIEW_EVERYTHING));
    bool ok = u && cJSON_AddStringToObject(u, "id", person->id) &&
              cJSON_AddStringToObject(u, "name", client && pseudo ? ACCESS_PSEUDONYM
                                                                  : person->display_name) &&
              cJSON_AddStringToObject(u, "role", auth_role_name(person->role));

    if (ok && person->role == AUTH_ROLE_COUNSELLOR && person->specialty != AUTH_SPECIALTY_NONE)
        ok = cJSON_AddStringToObject(u, "specialty", auth_specialty_name(person->specialty)) != NULL;
    if (ok && client)
        ok = cJSON_AddTrueToObject(u, pseudo ? "pseudonym" : "name_self_chosen") != NULL;
    if (!ok) {
        cJSON_Delete(u);
        return NULL;
    }
    return u;
}

cJSON *access_view_server_identity(void)
{
    cJSON *u = cJSON_CreateObject();

    if (!u || !cJSON_AddStringToObject(u, "id", ACCESS_VIEW_SERVER_ID) ||
        !cJSON_AddStringToObject(u, "name", "Konsil") ||
        !cJSON_AddStringToObject(u, "role", "server")) {
        cJSON_Delete(u);
        return NULL;
    }
    return u;
}

bool access_view_may_list(const access_view *v, access_view_list which)
{
    if (which == ACCESS_LIST_LOBBY)
        return (v->roles & (ACCESS_COUNSELLOR | ACCESS_SUPERVISOR)) != 0;
    return v->roles != 0 || (v->flags & ACCESS_VIEW_EVERYTHING);
}
