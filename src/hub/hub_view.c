/*
 * The live frame and the room's projection and presence hooks (see hub_view.h).
 */
#include "hub/hub_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_access.h"
#include "hub/hub_internal.h"
#include "util/json_print.h"

/* ---- names, shared between the live frame and the frames of ops ----------------------- */

struct hub_names {
    unsigned refs;
    access_names *n;
};

static hub_names *names_wrap(access_names *n)
{
    hub_names *w = n ? malloc(sizeof *w) : NULL;

    if (!w) {
        access_names_free(n);
        return NULL;
    }
    w->refs = 1;
    w->n = n;
    return w;
}

static hub_names *names_ref(hub_names *w)
{
    if (w)
        w->refs++;
    return w;
}

static void names_unref(hub_names *w)
{
    if (!w || --w->refs > 0)
        return;
    access_names_free(w->n);
    free(w);
}

/* ---- the live frame ----------------------------------------------------------------------- */

int hub_live_init(hub_live *l, const template_spec *tpl, const cJSON *client_names,
                  const cJSON *doc)
{
    access_names *n = access_names_new();
    const cJSON *e;

    memset(l, 0, sizeof *l);
    l->tpl = tpl;
    cJSON_ArrayForEach(e, client_names)
        if (n && access_names_add(n, cJSON_GetStringValue(e)) != 0) {
            access_names_free(n);
            n = NULL;
        }
    if (n && doc && access_names_learn(n, template_identity(tpl), doc) != 0) {
        access_names_free(n);
        n = NULL;
    }
    if (!(l->names = names_wrap(n)))
        return -1;
    l->consents = doc ? access_view_consents(tpl, doc) : 0;
    return 0;
}

void hub_live_clear(hub_live *l)
{
    names_unref(l->names);
    names_unref(l->next);
    memset(l, 0, sizeof *l);
}

void hub_live_serve(hub_live *l, uint32_t key)
{
    for (size_t i = 0; i < l->n_keys; i++)
        if (l->keys[i] == key)
            return;
    if (l->n_keys < HUB_LIVE_KEYS)
        l->keys[l->n_keys++] = key;
}

int hub_live_add_client(hub_live *l, const char *display_name)
{
    const access_names *from = (l->next ? l->next : l->names)->n;
    access_names *grown = access_names_copy(from);
    hub_names *w;

    if (!grown || access_names_add(grown, display_name) != 0) {
        access_names_free(grown);
        return -1;
    }
    if (access_names_same(from, grown)) {
        access_names_free(grown);
        return 0;
    }
    if (!(w = names_wrap(grown)))
        return -1;
    names_unref(l->next);
    l->next = w;
    return 0;
}

/* ---- the frame of an op ------------------------------------------------------------------- */

/* A projection made with the document before the op, for one view key. */
typedef struct frame_text {
    uint32_t key;
    char *text;
} frame_text;

typedef struct hub_frame {
    unsigned refs;
    access_consents consents;   /* before the op */
    hub_names *before, *after;  /* after: set by op_end */
    int renames;                /* the op may change the names (it touches identity paths) */
    cJSON *doc;                 /* a copy of the document before it, from op_begin to
                                   op_end, when renames and a pseudonymised view is served */
    frame_text pre[HUB_LIVE_KEYS];
    size_t n_pre;
    int failed;                 /* memory ran out: projections fail */
} hub_frame;

static void frame_unref(void *frame)
{
    hub_frame *f = frame;

    if (!f || --f->refs > 0)
        return;
    names_unref(f->before);
    names_unref(f->after);
    cJSON_Delete(f->doc);
    for (size_t i = 0; i < f->n_pre; i++)
        free(f->pre[i].text);
    free(f);
}

/* Whether one of the paths a and b (arrays of keys and indices) is a prefix of the other. */
static int on_one_line(const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;

    for (; x && y; x = x->next, y = y->next)
        if (!cJSON_IsString(x) || !cJSON_IsString(y) || strcmp(x->valuestring, y->valuestring) != 0)
            return 0;
    return 1;
}

/* Whether op has a component at, inside or above an identity path. */
static int touches_identity(const template_spec *t, const cJSON *op)
{
    const cJSON *c, *ip;

    cJSON_ArrayForEach(c, op) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "p");
        cJSON_ArrayForEach(ip, template_identity(t))
            if (cJSON_IsArray(p) && on_one_line(p, ip))
                return 1;
    }
    return 0;
}

static const char *frame_pre(const hub_frame *f, uint32_t key)
{
    for (size_t i = 0; i < f->n_pre; i++)
        if (f->pre[i].key == key)
            return f->pre[i].text;
    return NULL;
}

/* The projection of op for key made with doc (the document before it) into f->pre, when
 * that view needs the document; names_after: the names after the op. 0 or -1. */
static int frame_make(hub_frame *f, const template_spec *t, uint32_t key,
                      const access_names *names_after, const cJSON *op, const cJSON *doc)
{
    access_view v = access_view_from_key(key);
    access_frame fr = {f->consents, false, f->before->n};
    auth_error err = {{0}};
    cJSON *proj;
    char *text;

    if (frame_pre(f, key) || !access_view_op_needs_doc(t, &v, &fr, names_after, op))
        return 0;
    proj = access_view_op(t, &v, &fr, names_after, doc, op, &err);
    text = proj ? json_print(proj) : NULL;
    cJSON_Delete(proj);
    if (!text || f->n_pre >= HUB_LIVE_KEYS) {
        if (!text)
            fprintf(stderr, "konsil serve: projecting an op: %s\n",
                    err.message[0] ? err.message : "out of memory");
        free(text);
        return -1;
    }
    f->pre[f->n_pre].key = key;
    f->pre[f->n_pre++].text = text;
    return 0;
}

static void *op_begin(void *ctx, void *policy, const cJSON *op, const cJSON *doc)
{
    hub_live *l = hub_policy_live(policy);
    const template_spec *t = l->tpl;
    hub_frame *f = calloc(1, sizeof *f);
    const access_names *after;
    int deferred = 0;

    (void)ctx;
    if (!f)
        return NULL;
    f->refs = 1;
    f->consents = l->consents;
    f->before = names_ref(l->names);
    f->renames = touches_identity(t, op);
    after = (l->next ? l->next : l->names)->n;
    for (size_t i = 0; i < l->n_keys; i++) {
        access_view v = access_view_from_key(l->keys[i]);
        if (f->renames && (v.flags & ACCESS_VIEW_PSEUDONYMISED)) {
            deferred = 1;   /* its names after the op are known only then */
            continue;
        }
        if (frame_make(f, t, l->keys[i], after, op, doc) != 0)
            f->failed = 1;
    }
    if (deferred && !(f->doc = cJSON_Duplicate(doc, 1)))
        f->failed = 1;
    return f;
}

/* The principal who submitted an op, as the stamps name it: the one the room admitted
 * with that id, else what the view key says of it. */
static auth_principal author_of(void *policy, const char *author, unsigned view)
{
    const auth_principal *who = hub_policy_person(policy, author);
    auth_principal p;

    if (who)
        return *who;
    hub_view_principal(view, &p);
    snprintf(p.id, sizeof p.id, "%s", author);
    return p;
}

static int op_end(void *ctx, void *policy, void *frame, const cJSON *op, const cJSON *doc,
                  const char *author, unsigned view, int64_t ts, cJSON **follow)
{
    hub_live *l = hub_policy_live(policy);
    const template_spec *t = l->tpl;
    hub_frame *f = frame;
    hub_names *after = names_ref(l->next ? l->next : l->names);
    auth_error err = {{0}};

    (void)ctx;
    *follow = NULL;
    if (f->renames) {
        access_names *grown = access_names_copy(after->n);
        if (!grown || access_names_learn(grown, template_identity(t), doc) != 0) {
            access_names_free(grown);
            f->failed = 1;
        } else if (access_names_same(after->n, grown)) {
            access_names_free(grown);
        } else {
            names_unref(after);
            if (!(after = names_wrap(grown))) {
                after = names_ref(l->names);
                f->failed = 1;
            }
        }
    }
    f->after = after;
    if (f->doc) {
        for (size_t i = 0; i < l->n_keys; i++)
            if ((access_view_from_key(l->keys[i]).flags & ACCESS_VIEW_PSEUDONYMISED) &&
                frame_make(f, t, l->keys[i], after->n, op, f->doc) != 0)
                f->failed = 1;
        cJSON_Delete(f->doc);
        f->doc = NULL;
    }
    if (access_view_touches_consents(t, op))
        l->consents = access_view_consents(t, doc);
    names_unref(l->names);
    l->names = names_ref(after);
    names_unref(l->next);
    l->next = NULL;
    if (strcmp(author, ROOM_SERVER_AUTHOR) != 0) {
        auth_principal who = author_of(policy, author, view);
        if (access_view_stamp(t, &who, ts, doc, op, follow, &err) != 0) {
            fprintf(stderr, "konsil serve: stamping an op of %s: %s\n", author, err.message);
            *follow = NULL;
        }
    }
    return f->failed ? -1 : 0;
}

/* ---- projections -------------------------------------------------------------------------- */

static char *print_free(cJSON *tree)
{
    char *text = tree ? json_print(tree) : NULL;

    cJSON_Delete(tree);
    return text;
}

/* A create op's {type, data}, its data read as a snapshot under fr. */
static char *project_create(const template_spec *t, const access_view *v,
                            const access_frame *fr, const cJSON *payload)
{
    auth_error err = {{0}};
    cJSON *out = cJSON_CreateObject();
    cJSON *data = access_view_snapshot(t, v, fr, cJSON_GetObjectItemCaseSensitive(payload,
                                                                                "data"), &err);

    if (!out || !data || !cJSON_AddItemToObject(out, "type", cJSON_Duplicate(
            cJSON_GetObjectItemCaseSensitive(payload, "type"), 1))) {
        cJSON_Delete(out);
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddItemToObject(out, "data", data);
    return print_free(out);
}

static char *project(void *ctx, void *policy, unsigned view, int kind, const cJSON *payload,
                     void *frame, const cJSON *doc, int *needs_doc)
{
    hub_live *l = hub_policy_live(policy);
    const template_spec *t = l->tpl;
    access_view v = access_view_from_key(view);
    hub_frame *f = frame;
    access_frame fr = {l->consents, false, l->names->n};
    const access_names *after = l->names->n;
    auth_error err = {{0}};
    const char *pre;

    (void)ctx;
    *needs_doc = 0;
    if (kind == ROOM_SNAPSHOT)
        return print_free(access_view_snapshot(t, &v, &fr, payload, &err));
    if (kind == PROTO_CREATE) {
        fr.consents = access_view_consents(t, cJSON_GetObjectItemCaseSensitive(payload, "data"));
        return project_create(t, &v, &fr, payload);
    }
    if (f) {
        if (f->failed || !f->after)
            return NULL;
        if ((pre = frame_pre(f, view)))
            return strdup(pre);
        fr.consents = f->consents;
        fr.names = f->before->n;
        after = f->after->n;
    } else if (doc) {
        fr.consents = access_view_consents(t, doc);    /* read from the store */
    } else {
        *needs_doc = 1;
        return NULL;
    }
    if (!doc && access_view_op_needs_doc(t, &v, &fr, after, payload)) {
        *needs_doc = 1;
        return NULL;
    }
    return print_free(access_view_op(t, &v, &fr, after, doc, payload, &err));
}

static int projects_whole(void *ctx, void *policy, unsigned view, int kind,
                          const cJSON *payload, void *frame)
{
    hub_live *l = hub_policy_live(policy);
    access_view v = access_view_from_key(view);
    hub_frame *f = frame;
    access_frame fr;

    (void)ctx;
    if (kind != PROTO_EDIT || !f || f->failed || !f->after || frame_pre(f, view))
        return 0;
    fr.consents = f->consents;
    fr.consents_fixed = false;
    fr.names = f->before->n;
    return access_view_op_whole(l->tpl, &v, &fr, payload);
}

char *hub_view_snapshot_fixed(const template_spec *tpl, uint32_t view, const cJSON *meta,
                              const cJSON *doc)
{
    const cJSON *frame = cJSON_GetObjectItemCaseSensitive(meta, "frame");
    const cJSON *consents = cJSON_GetObjectItemCaseSensitive(frame, "consents");
    access_names *names = access_names_new();
    access_view v = access_view_from_key(view);
    access_frame fr = {cJSON_IsNumber(consents) ? (access_consents)consents->valuedouble : 0,
                       true, names};
    auth_error err = {{0}};
    const cJSON *e;
    char *text = NULL;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "client_names"))
        if (names && access_names_add(names, cJSON_GetStringValue(e)) != 0)
            goto done;
    if (names && access_names_learn(names, template_identity(tpl),
                                    cJSON_GetObjectItemCaseSensitive(frame, "identity")) == 0)
        text = print_free(access_view_snapshot(tpl, &v, &fr, doc, &err));
done:
    access_names_free(names);
    return text;
}

/* ---- presence ----------------------------------------------------------------------------- */

static cJSON *presence_value(void *ctx, void *policy, unsigned view, const cJSON *value)
{
    hub_live *l = hub_policy_live(policy);
    access_view v = access_view_from_key(view);

    (void)ctx;
    return access_view_presence(l->tpl, &v, l->consents, value);
}

static char *presence_identity(void *ctx, void *policy, unsigned view, const room_peer *sender)
{
    const hub_conn *c = (const hub_conn *)((const char *)sender - offsetof(hub_conn, peer));
    access_view v = access_view_from_key(view);

    (void)ctx;
    (void)policy;
    return print_free(access_view_identity(&v, &c->principal));
}

void hub_view_env(room_env *env)
{
    env->op_begin = op_begin;
    env->op_end = op_end;
    env->frame_unref = frame_unref;
    env->project = project;
    env->projects_whole = projects_whole;
    env->presence_value = presence_value;
    env->presence_identity = presence_identity;
}
