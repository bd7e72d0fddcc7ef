/*
 * Room policies and the access hooks (see hub_access.h).
 */
#include "hub/hub_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access_presence.h"
#include "auth/access_project.h"
#include "auth/access_pseudo.h"
#include "auth/access_write.h"
#include "case/case_sheet.h"
#include "hub/hub_internal.h"

enum { CASE_OPEN, CASE_CLOSED, CASE_RESTRICTED, CASE_ERASED };

/* A member of the case's team. */
typedef struct policy_member {
    char id[AUTH_ID_MAX];
    int counsellor;         /* lead or counsellor: may own tasks */
} policy_member;

struct hub_policy {
    unsigned refs;
    template_spec *tpl;
    access_pseudo *pseudo;  /* what supervisors' views get instead of the client's
                               identity; its dictionary grows with the names the room
                               learns (clients' names, and the identity values of the
                               document when a snapshot is projected or a list item
                               inserted) */
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

hub_policy *hub_policy_new(const cJSON *meta)
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
        fprintf(stderr, "konsil serve: case %s: %s\n", id->valuestring, err.message);
        free(p);
        return NULL;
    }
    p->pseudo = access_pseudo_new(template_identity(p->tpl), template_rules(p->tpl));
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "client_names"))
        if (p->pseudo && access_pseudo_add_name(p->pseudo, cJSON_GetStringValue(e)) != 0) {
            access_pseudo_free(p->pseudo);
            p->pseudo = NULL;
        }
    if (!p->pseudo) {   /* without its dictionary the room would leak names: none */
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
    template_free(p->tpl);
    access_pseudo_free(p->pseudo);
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

const access_rules *hub_policy_rules(const hub_policy *p)
{
    return template_rules(p->tpl);
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
    *view = access_principal_set(&me);
    return 0;
}

void hub_view_principal(unsigned view, auth_principal *out)
{
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
    if (c->principal.role == AUTH_ROLE_CLIENT &&
        access_pseudo_add_name(p->pseudo, c->principal.display_name) != 0) {
        set_err(err, PROTO_ERR_UNKNOWN, "out of memory");
        return -1;
    }
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

cJSON *hub_policy_project_snapshot(hub_policy *p, unsigned view, const cJSON *doc)
{
    auth_principal who;
    auth_error err = {{0}};
    cJSON *out;

    hub_view_principal(view, &who);
    out = access_project_snapshot(hub_policy_rules(p), &who, doc, &err);
    if (out && (view & ACCESS_SUPERVISOR)) {
        if (access_pseudo_learn(p->pseudo, doc) != 0) {
            cJSON_Delete(out);
            return NULL;
        }
        access_pseudo_snapshot(p->pseudo, out);
    }
    return out;
}

/* What view receives of a snapshot, an edit or a create: the access projection and, for
 * supervisors (always pseudonymised on /ws; identified reading is the history API's,
 * under a grant), the pseudonymisation. */
static cJSON *project(void *ctx, void *policy, unsigned view, int kind, const cJSON *payload)
{
    hub_policy *p = policy;
    auth_principal who;
    auth_error err = {{0}};
    int pseudo = (view & ACCESS_SUPERVISOR) != 0;
    cJSON *out, *data;

    (void)ctx;
    hub_view_principal(view, &who);
    if (kind == ROOM_SNAPSHOT)
        return hub_policy_project_snapshot(p, view, payload);
    if (kind == PROTO_EDIT) {
        out = access_project_op(hub_policy_rules(p), &who, payload, &err);
        if (out && pseudo)
            access_pseudo_op(p->pseudo, out);
        return out;
    }
    /* create: its data is a snapshot */
    out = cJSON_Duplicate(payload, 0);
    data = access_project_snapshot(hub_policy_rules(p), &who,
                                   cJSON_GetObjectItemCaseSensitive(payload, "data"), &err);
    if (!out || !data) {
        cJSON_Delete(out);
        cJSON_Delete(data);
        return NULL;
    }
    if (pseudo)
        access_pseudo_snapshot(p->pseudo, data);
    cJSON_AddItemToObject(out, "type", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(payload, "type"), 1));
    cJSON_AddItemToObject(out, "data", data);
    return out;
}

/* project() without pseudonyms keeps an edit whole when view reads every component. */
static int projects_whole(void *ctx, void *policy, unsigned view, int kind,
                          const cJSON *payload)
{
    hub_policy *p = policy;
    auth_principal who;
    const cJSON *c;

    (void)ctx;
    if (kind != PROTO_EDIT || (view & ACCESS_SUPERVISOR))
        return 0;
    hub_view_principal(view, &who);
    cJSON_ArrayForEach(c, payload)
        if (!access_can_read_all(hub_policy_rules(p), &who,
                                 cJSON_GetObjectItemCaseSensitive(c, "p")))
            return 0;
    return 1;
}

static int inserts_item(const cJSON *op)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, op)
        if (cJSON_GetObjectItemCaseSensitive(c, "li"))
            return 1;
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
    auth_principal who;
    auth_error aerr = {{0}};

    (void)ctx;
    hub_view_principal(view, &who);
    if (access_check_write(hub_policy_rules(p), &who, op, doc, &aerr) != 0) {
        set_err(err, PROTO_ERR_REJECTED, aerr.message);
        return -1;
    }
    if (case_sheet_check_owners(template_tasks(p->tpl), op, owner_ok, p, err->message,
                                sizeof err->message) != 0) {
        err->code = PROTO_ERR_REJECTED;
        return -1;
    }
    /* An inserted list item may be a chat message naming the client: the supervisors'
     * projection of this op, made once it is committed, redacts the identity values
     * the document holds now. Learning only here keeps half-typed values out of the
     * dictionary. */
    if (inserts_item(op) && access_pseudo_learn(p->pseudo, doc) != 0) {
        set_err(err, PROTO_ERR_UNKNOWN, "out of memory");
        return -1;
    }
    return 0;
}

static int presence_visible(void *ctx, void *policy, unsigned view, const cJSON *value)
{
    auth_principal who;

    (void)ctx;
    if (!policy)
        return 0;
    hub_view_principal(view, &who);
    return access_presence_visible(hub_policy_rules(policy), &who, value);
}

static int pseudonymous_view(void *ctx, void *policy, unsigned view)
{
    (void)ctx;
    (void)policy;
    return (view & ACCESS_SUPERVISOR) != 0;
}

void hub_access_env(room_env *env)
{
    env->admit = admit;
    env->project = project;
    env->projects_whole = projects_whole;
    env->check_write = check_write;
    env->presence_visible = presence_visible;
    env->pseudonymous_view = pseudonymous_view;
    env->policy_ref = hub_policy_ref;
    env->policy_unref = hub_policy_unref;
}
