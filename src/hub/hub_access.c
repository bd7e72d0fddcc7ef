/*
 * Room policies and the access hooks (see hub_access.h).
 */
#include "hub/hub_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_view.h"
#include "case/case_sheet.h"
#include "hub/hub_internal.h"
#include "hub/hub_view.h"
#include "util/klog.h"

enum { CASE_OPEN, CASE_CLOSED, CASE_RESTRICTED, CASE_ERASED };

/* A member of the case's team. */
typedef struct policy_member {
    char id[AUTH_ID_MAX];
    int counsellor;         /* lead or counsellor: may own tasks */
} policy_member;

struct hub_policy {
    unsigned refs;
    template_spec *tpl;
    hub_live live;          /* the consents and names at the room's version (hub_view.h) */
    auth_principal *people; /* everyone admitted to the room (the stamps name them) */
    size_t n_people;
    char id[AUTH_ID_MAX];   /* the case's id: its document's */
    char lead[AUTH_ID_MAX];
    int status;             /* CASE_ */
    policy_member *members;
    size_t n_members;
    char (*running)[AUTH_ID_MAX];   /* sessions whose clients reach the document */
    size_t n_running;
};

static int status_of(const char *s)
{
    return s && strcmp(s, "open") == 0 ? CASE_OPEN :
           s && strcmp(s, "restricted") == 0 ? CASE_RESTRICTED :
           s && strcmp(s, "erased") == 0 ? CASE_ERASED : CASE_CLOSED;
}

hub_policy *hub_policy_new(const cJSON *meta, const cJSON *doc)
{
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(meta, "template");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(meta, "id");
    const cJSON *lead = cJSON_GetObjectItemCaseSensitive(meta, "lead"), *e;
    auth_error err = {{0}};
    hub_policy *p;

    if (!cJSON_IsString(tpl) || !cJSON_IsString(id) || !cJSON_IsString(lead))
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->refs = 1;
    p->tpl = template_parse(tpl->valuestring, strlen(tpl->valuestring), &err);
    if (!p->tpl) {
        klog_line l;
        klog_begin(&l, KLOG_ERROR, "hub", "a case's template does not parse");
        klog_str(&l, "case", id->valuestring);
        klog_str(&l, "error", err.message);
        klog_end(&l);
        free(p);
        return NULL;
    }
    if (hub_live_init(&p->live, p->tpl, cJSON_GetObjectItemCaseSensitive(meta, "client_names"),
                      doc) != 0) {   /* without its names the room would leak them: none */
        hub_live_clear(&p->live);
        template_free(p->tpl);
        free(p);
        return NULL;
    }
    snprintf(p->id, sizeof p->id, "%s", id->valuestring);
    snprintf(p->lead, sizeof p->lead, "%s", lead->valuestring);
    p->status = status_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "status")));
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "team"))
        hub_policy_add_member(p, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id")),
                              cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e,
                                                                                    "team_role")));
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "running"))
        hub_policy_session(p, cJSON_GetStringValue(e), 1);
    return p;
}

void *hub_policy_ref(void *policy)
{
    ((hub_policy *)policy)->refs++;
    return policy;
}

void hub_policy_unref(void *policy)
{
    hub_policy *p = policy;

    if (!p || --p->refs > 0)
        return;
    hub_live_clear(&p->live);
    template_free(p->tpl);
    free(p->people);
    free(p->members);
    free(p->running);
    free(p);
}

static policy_member *member(const hub_policy *p, const char *user_id)
{
    for (size_t i = 0; user_id && i < p->n_members; i++)
        if (strcmp(p->members[i].id, user_id) == 0)
            return &p->members[i];
    return NULL;
}

void hub_policy_add_member(hub_policy *p, const char *user_id, const char *team_role)
{
    policy_member *grown;

    if (!user_id || !team_role || member(p, user_id))
        return;
    grown = realloc(p->members, (p->n_members + 1) * sizeof *grown);
    if (!grown)
        return;     /* the member is refused until the room reloads: fails closed */
    p->members = grown;
    snprintf(grown[p->n_members].id, AUTH_ID_MAX, "%s", user_id);
    grown[p->n_members++].counsellor = strcmp(team_role, "supervisor") != 0;
}

void hub_policy_remove_member(hub_policy *p, const char *user_id)
{
    policy_member *m = member(p, user_id);

    if (m)
        *m = p->members[--p->n_members];
}

void hub_policy_set_lead(hub_policy *p, const char *user_id)
{
    snprintf(p->lead, sizeof p->lead, "%s", user_id);
}

void hub_policy_set_status(hub_policy *p, const char *status)
{
    p->status = status_of(status);
}

void hub_policy_session(hub_policy *p, const char *session, int running)
{
    char (*grown)[AUTH_ID_MAX];

    if (!session)
        return;
    for (size_t i = 0; i < p->n_running; i++)
        if (strcmp(p->running[i], session) == 0) {
            if (!running)
                memcpy(p->running[i], p->running[--p->n_running], AUTH_ID_MAX);
            return;
        }
    if (!running)
        return;
    grown = realloc(p->running, (p->n_running + 1) * sizeof *grown);
    if (!grown)
        return;     /* its clients are refused until the room reloads: fails closed */
    p->running = grown;
    snprintf(p->running[p->n_running++], AUTH_ID_MAX, "%s", session);
}

const template_spec *hub_policy_template(const hub_policy *p)
{
    return p->tpl;
}

hub_live *hub_policy_live(hub_policy *p)
{
    return &p->live;
}

const auth_principal *hub_policy_person(const hub_policy *p, const char *id)
{
    for (size_t i = 0; i < p->n_people; i++)
        if (strcmp(p->people[i].id, id) == 0)
            return &p->people[i];
    return NULL;
}

/* who joins the people the room has admitted (its latest name and role). 0 or -1. */
static int note_person(hub_policy *p, const auth_principal *who)
{
    auth_principal *grown;

    for (size_t i = 0; i < p->n_people; i++)
        if (strcmp(p->people[i].id, who->id) == 0) {
            p->people[i] = *who;
            return 0;
        }
    grown = realloc(p->people, (p->n_people + 1) * sizeof *grown);
    if (!grown)
        return -1;
    p->people = grown;
    p->people[p->n_people++] = *who;
    return 0;
}

const char *hub_policy_case(const hub_policy *p)
{
    return p->id;
}

int hub_policy_view(const hub_policy *p, const char *doc, const auth_principal *who,
                    const char *bound_session, unsigned *view)
{
    auth_principal me = *who;
    int reaches = 0;

    if (!p || strcmp(p->id, doc) != 0 || p->status == CASE_ERASED)
        return -1;
    if (who->role == AUTH_ROLE_CLIENT) {
        for (size_t i = 0; bound_session && i < p->n_running && !reaches; i++)
            reaches = strcmp(p->running[i], bound_session) == 0;
        reaches = reaches && p->status == CASE_OPEN;
    } else if (who->role == AUTH_ROLE_COUNSELLOR || who->role == AUTH_ROLE_SUPERVISOR) {
        reaches = member(p, who->id) != NULL;
    }
    me.is_lead = who->role == AUTH_ROLE_COUNSELLOR && strcmp(p->lead, who->id) == 0;
    if (who->role == AUTH_ROLE_ADMIN && p->status == CASE_RESTRICTED) {
        /* A restricted case is read by its lead and by admins, who read what the lead
         * reads (and never write: the case is read-only, and admins never write). */
        reaches = 1;
        me.role = AUTH_ROLE_COUNSELLOR;
        me.specialty = AUTH_SPECIALTY_NONE;
        me.is_lead = true;
    }
    if (!reaches || (p->status == CASE_RESTRICTED && !me.is_lead))
        return -1;
    {
        access_view v = access_view_of(&me, false);   /* supervisors: pseudonymised on /ws */
        *view = access_view_key(&v);
    }
    return 0;
}

void hub_view_principal(unsigned key, auth_principal *out)
{
    access_set view = access_view_from_key(key).roles;

    memset(out, 0, sizeof *out);
    memcpy(out->id, "view", sizeof "view");
    memcpy(out->display_name, "view", sizeof "view");
    out->role = AUTH_ROLE_ADMIN;
    if (view & ACCESS_CLIENT) {
        out->role = AUTH_ROLE_CLIENT;
    } else if (view & ACCESS_COUNSELLOR) {
        out->role = AUTH_ROLE_COUNSELLOR;
        out->is_lead = (view & ACCESS_LEAD) != 0;
        for (int s = AUTH_SPECIALTY_DEBT; s < AUTH_SPECIALTY_COUNT; s++)
            if (view & ACCESS_COUNSELLOR_OF(s))
                out->specialty = (auth_specialty)s;
    } else if (view & ACCESS_SUPERVISOR) {
        out->role = AUTH_ROLE_SUPERVISOR;
    }
}

static void set_err(proto_error *err, const char *code, const char *message)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
}

/* json0 1.1.0 does not transform si/sd against the text0 subtype (`t`), so mixing the
 * two forms on one string forks documents; Konsil's clients use si/sd. */
static int uses_subtype(const cJSON *op)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, op)
        if (cJSON_GetObjectItemCaseSensitive(c, "t"))
            return 1;
    return 0;
}

static int admit(void *ctx, void *policy, room_peer *peer, proto_action action, int kind,
                 const cJSON *op, unsigned *view, proto_error *err)
{
    hub_policy *p = policy;
    hub_conn *c = peer ? (hub_conn *)((char *)peer - offsetof(hub_conn, peer)) : NULL;

    (void)ctx;
    if (!c || hub_policy_view(p, p ? p->id : "", &c->principal, c->bound_session,
                                 view) != 0) {
        set_err(err, PROTO_ERR_FORBIDDEN, "You do not take part in this case");
        return -1;
    }
    if (note_person(p, &c->principal) != 0 ||
        (c->principal.role == AUTH_ROLE_CLIENT &&
         hub_live_add_client(&p->live, c->principal.display_name) != 0)) {
        set_err(err, PROTO_ERR_UNKNOWN, "out of memory");
        return -1;
    }
    hub_live_serve(&p->live, *view);
    if (action == PROTO_S || action == PROTO_F)
        hub_conn_note_read(c, p->id);
    if (action != PROTO_OP)
        return 0;
    if (!auth_principal_may_write(&c->principal)) {
        set_err(err, PROTO_ERR_REJECTED, c->principal.role == AUTH_ROLE_SUPERVISOR ?
                "supervisors never write the case sheet" : "admins never write the case sheet");
        return -1;
    }
    if (p->status != CASE_OPEN) {
        set_err(err, PROTO_ERR_REJECTED, "the case is closed: its case sheet is read-only");
        return -1;
    }
    if (kind != PROTO_EDIT) {
        set_err(err, PROTO_ERR_REJECTED, "a case's document is created and kept by the "
                "server: create and del are not accepted");
        return -1;
    }
    if (uses_subtype(op)) {
        set_err(err, PROTO_ERR_REJECTED, "subtype components (t, e.g. text0) are not "
                "accepted: json0 cannot transform them against si/sd; use si/sd for strings");
        return -1;
    }
    return 0;
}

/* A task may be owned by a counsellor of the team (the lead included). */
static int owner_ok(void *ctx, const char *id)
{
    const policy_member *m = member(ctx, id);

    return m && m->counsellor;
}

static int check_write(void *ctx, void *policy, unsigned view, const cJSON *op,
                       const cJSON *doc, proto_error *err)
{
    hub_policy *p = policy;
    access_view v = access_view_from_key(view);
    auth_error aerr = {{0}};

    (void)ctx;
    if (access_view_check_write(p->tpl, &v, op, doc, &aerr) != 0) {
        set_err(err, PROTO_ERR_REJECTED, aerr.message);
        return -1;
    }
    if (case_sheet_check_owners(template_tasks(p->tpl), op, owner_ok, p, err->message,
                                sizeof err->message) != 0) {
        err->code = PROTO_ERR_REJECTED;
        return -1;
    }
    return 0;
}

void hub_access_env(room_env *env)
{
    env->admit = admit;
    env->check_write = check_write;
    env->policy_ref = hub_policy_ref;
    env->policy_unref = hub_policy_unref;
}
