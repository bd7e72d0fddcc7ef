/*
 * Presence relay (see room_presence.h). A channel is a name and the peers subscribed
 * to it; a channel with no subscribers is freed. Each peer keeps the channels it
 * subscribed to and, per (channel, presence id), the last presence version it sent,
 * so that its departure can be announced with p:null. The relay finds each (channel,
 * presence id) and the peer that owns it in `owners`, whether anyone subscribes to the
 * channel or not.
 */
#include "room/room_presence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room_peer.h"

typedef struct channel {
    char *name;
    room_peer **subs;
    unsigned *views;    /* per subscriber: what it may see (room_env.admit) */
    size_t n, cap;
    void *policy;       /* the room's access policy (a counted reference) or NULL */
} channel;

struct room_pres_sub {
    room_pres_sub *next;
    channel *ch;
};

struct room_pres_entry {
    room_pres_entry *next;
    char *ch, *id;
    char *key;          /* "<ch>\x01<id>", its key in `owners` */
    room_peer *owner;
    cJSON *pv;
};

struct room_presence {
    room_map channels;
    room_map owners;    /* room_pres_entry by key: every presence any peer holds */
    const room_config *cfg;     /* the room set's, borrowed */
    const room_env *env;
};

room_presence *room_presence_new(const room_config *cfg, const room_env *env)
{
    room_presence *rp = calloc(1, sizeof *rp);

    if (!rp)
        return NULL;
    room_map_init(&rp->channels);
    room_map_init(&rp->owners);
    rp->cfg = cfg;
    rp->env = env;
    return rp;
}

void room_presence_free(room_presence *rp)
{
    size_t pos = 0;
    channel *ch;

    if (!rp)
        return;
    while ((ch = room_map_next(&rp->channels, &pos))) {
        free(ch->subs);
        free(ch->views);
        free(ch->name);
        free(ch);
    }
    room_map_clear(&rp->channels);
    room_map_clear(&rp->owners);
    free(rp);
}

/* {a:'p', ch, src, id, p, pv, u}: u is the sender's identity, stamped here (JSON text;
 * NULL: {"id": principal}). */
static void emit_presence(proto_buf *b, const char *ch, const room_peer *p, const char *identity,
                          const char *id, const cJSON *value, const cJSON *pv)
{
    if (!identity) {
        proto_emit_presence(b, ch, p->src, id, value, pv, p->principal);
        return;
    }
    proto_buf_lit(b, "{\"a\":\"p\",\"ch\":");
    proto_buf_str(b, ch);
    proto_buf_lit(b, ",\"src\":");
    proto_buf_str(b, p->src);
    proto_buf_lit(b, ",\"id\":");
    proto_buf_str(b, id);
    proto_buf_lit(b, ",\"p\":");
    proto_buf_json(b, value);
    proto_buf_lit(b, ",\"pv\":");
    proto_buf_json(b, pv);
    proto_buf_lit(b, ",\"u\":");
    proto_buf_lit(b, identity);
    proto_buf_lit(b, "}");
}

/* One presence update going out, and the forms built of it so far: one per view of the
 * receivers (access hooks), each with the value and the sender's identity as that view
 * gets them; without hooks (or policy) one form for everyone. */
#define FORMS_CACHED 8
typedef struct presence_out {
    room_presence *rp;
    const char *ch, *id;
    const room_peer *from;
    const cJSON *value, *pv;
    void *policy;
    struct { unsigned view; room_msg *msg; } forms[FORMS_CACHED];
    size_t n;
    room_msg *shared;       /* a message the same for everyone (a request), not owned */
} presence_out;

static void presence_out_free(presence_out *o)
{
    for (size_t i = 0; i < o->n; i++)
        room_msg_unref(o->forms[i].msg);
    o->n = 0;
}

/* The message view receives, built once per view (a new reference). NULL: memory. */
static room_msg *form_for(presence_out *o, unsigned view)
{
    const room_env *env = o->rp->env;
    int hooks = o->policy && env->presence_value && env->presence_identity;
    cJSON *value = NULL;
    char *u = NULL;
    room_msg *msg = NULL;
    proto_buf b;

    if (o->shared) {
        room_msg_ref(o->shared);
        return o->shared;
    }
    if (!hooks)
        view = 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->forms[i].view == view) {
            room_msg_ref(o->forms[i].msg);
            return o->forms[i].msg;
        }
    if (hooks) {
        value = env->presence_value(env->ctx, o->policy, view, o->value);
        u = env->presence_identity(env->ctx, o->policy, view, o->from);
    }
    if (!hooks || (value && u)) {
        proto_buf_init(&b, o->rp->cfg->headroom);
        emit_presence(&b, o->ch, o->from, u, o->id, hooks ? value : o->value, o->pv);
        msg = room_msg_from_buf(&b);
    }
    cJSON_Delete(value);
    free(u);
    if (msg && o->n < FORMS_CACHED) {
        o->forms[o->n].view = view;
        o->forms[o->n++].msg = msg;
        room_msg_ref(msg);
    }
    return msg;
}

/* Sends every other subscriber of ch the form of o for its view. */
static void relay(room_presence *rp, channel *ch, presence_out *o)
{
    for (size_t i = 0; i < ch->n; i++) {
        room_msg *m;
        if (ch->subs[i] == o->from)
            continue;
        m = form_for(o, ch->views[i]);
        if (m)
            room_peer_push(rp->cfg, rp->env, ch->subs[i], m);
        else
            room_peer_kill(rp->env, ch->subs[i]);
        room_msg_unref(m);
    }
}

static void announce_gone(room_presence *rp, room_peer *p, const room_pres_entry *e)
{
    channel *ch = room_map_get(&rp->channels, e->ch);
    presence_out o = {rp, e->ch, e->id, p, NULL, e->pv, NULL, {{0, NULL}}, 0, NULL};

    if (!ch)
        return;
    o.policy = ch->policy;
    relay(rp, ch, &o);
    presence_out_free(&o);
}

static void entry_free(room_presence *rp, room_pres_entry *e)
{
    room_map_del(&rp->owners, e->key);
    free(e->ch);
    free(e->id);
    free(e->key);
    cJSON_Delete(e->pv);
    free(e);
}

/* Takes e off its owner's list. */
static void entry_unlink(room_pres_entry *e)
{
    room_pres_entry **pp;

    for (pp = &e->owner->pres; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            e->owner->n_pres--;
            break;
        }
    e->next = NULL;
}

/* Announces and forgets the peer's presences in channel name (all when NULL). */
static void forget(room_presence *rp, room_peer *p, const char *name)
{
    room_pres_entry **pp = &p->pres;

    while (*pp) {
        room_pres_entry *e = *pp;
        if (name && strcmp(e->ch, name) != 0) {
            pp = &e->next;
            continue;
        }
        announce_gone(rp, p, e);
        *pp = e->next;
        p->n_pres--;
        entry_free(rp, e);
    }
}

enum { REMEMBERED = 0, TOO_MANY = -1, NOT_YOURS = -2, NO_MEMORY = -3 };

static char *entry_key(const char *ch, const char *id)
{
    size_t a = strlen(ch), b = strlen(id);
    char *key = malloc(a + b + 2);

    if (key) {
        memcpy(key, ch, a);
        key[a] = '\x01';
        memcpy(key + a + 1, id, b + 1);
    }
    return key;
}

/* Records p's presence msg->presence_id in msg->ch (or forgets it, for null): a
 * REMEMBERED, or why not. */
static int remember(room_presence *rp, room_peer *p, const proto_msg *msg, size_t max)
{
    char *key = entry_key(msg->ch, msg->presence_id);
    room_pres_entry *e = key ? room_map_get(&rp->owners, key) : NULL;
    int gone = !msg->presence || cJSON_IsNull(msg->presence);

    if (!key)
        return NO_MEMORY;
    if (e && e->owner != p) {
        if (strcmp(e->owner->principal, p->principal) != 0) {
            free(key);
            return NOT_YOURS;
        }
        if (!gone && p->n_pres >= max) {
            free(key);
            return TOO_MANY;
        }
        /* The same principal on another connection: the id moves here, unannounced. */
        entry_unlink(e);
        e->owner = p;
        e->next = p->pres;
        p->pres = e;
        p->n_pres++;
    }
    if (gone) {
        free(key);
        if (e) {
            entry_unlink(e);
            entry_free(rp, e);
        }
        return REMEMBERED;
    }
    if (!e) {
        if (p->n_pres >= max) {
            free(key);
            return TOO_MANY;
        }
        e = calloc(1, sizeof *e);
        if (!e || !(e->ch = strdup(msg->ch)) || !(e->id = strdup(msg->presence_id)) ||
            room_map_put(&rp->owners, key, e) != 0) {
            if (e) {
                free(e->ch);
                free(e->id);
            }
            free(e);
            free(key);
            return NO_MEMORY;
        }
        e->key = key;
        key = NULL;
        e->owner = p;
        e->next = p->pres;
        p->pres = e;
        p->n_pres++;
    }
    free(key);
    cJSON_Delete(e->pv);
    e->pv = cJSON_Duplicate(msg->pv, 1);
    return REMEMBERED;
}

static room_pres_sub *find_sub(room_peer *p, const char *name)
{
    for (room_pres_sub *sub = p->pres_subs; sub; sub = sub->next)
        if (strcmp(sub->ch->name, name) == 0)
            return sub;
    return NULL;
}

static void channel_free(room_presence *rp, channel *ch)
{
    const room_env *env = rp->env;

    room_map_del(&rp->channels, ch->name);
    if (ch->policy && env->policy_unref)
        env->policy_unref(ch->policy);
    free(ch->subs);
    free(ch->views);
    free(ch->name);
    free(ch);
}

static int subscribe(room_presence *rp, room_peer *p, const char *name, void *policy,
                     unsigned view)
{
    channel *ch;
    room_pres_sub *sub;

    if ((sub = find_sub(p, name))) {
        for (size_t i = 0; i < sub->ch->n; i++)
            if (sub->ch->subs[i] == p)
                sub->ch->views[i] = view;
        return 0;
    }
    if (p->n_pres_subs >= rp->cfg->max_presence_channels)
        return -1;
    ch = room_map_get(&rp->channels, name);
    if (!ch) {
        ch = calloc(1, sizeof *ch);
        if (!ch || !(ch->name = strdup(name)) || room_map_put(&rp->channels, ch->name, ch)) {
            if (ch)
                free(ch->name);
            free(ch);
            return -1;
        }
        if (policy && rp->env->policy_ref)
            ch->policy = rp->env->policy_ref(policy);
    }
    sub = calloc(1, sizeof *sub);
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 4;
        room_peer **subs = realloc(ch->subs, cap * sizeof *subs);
        unsigned *views = subs ? realloc(ch->views, cap * sizeof *views) : NULL;
        if (subs)
            ch->subs = subs;
        if (views) {
            ch->views = views;
            ch->cap = cap;
        }
    }
    if (!sub || ch->n == ch->cap) {
        free(sub);
        if (!ch->n)
            channel_free(rp, ch);
        return -1;
    }
    ch->views[ch->n] = view;
    ch->subs[ch->n++] = p;
    sub->ch = ch;
    sub->next = p->pres_subs;
    p->pres_subs = sub;
    p->n_pres_subs++;
    return 0;
}

static void unsubscribe(room_presence *rp, room_peer *p, room_pres_sub *sub)
{
    channel *ch = sub->ch;
    room_pres_sub **pp;

    for (pp = &p->pres_subs; *pp; pp = &(*pp)->next)
        if (*pp == sub) {
            *pp = sub->next;
            break;
        }
    p->n_pres_subs--;
    free(sub);
    for (size_t i = 0; i < ch->n; i++)
        if (ch->subs[i] == p) {
            ch->n--;
            ch->subs[i] = ch->subs[ch->n];
            ch->views[i] = ch->views[ch->n];
            break;
        }
    if (!ch->n)
        channel_free(rp, ch);
}

static void reply_error(room_presence *rp, room_peer *p, proto_msg *msg, const char *code,
                        const char *message)
{
    proto_error err = {code, ""};
    proto_buf b;

    snprintf(err.message, sizeof err.message, "%s", message);
    proto_buf_init(&b, rp->cfg->headroom);
    proto_emit_error(&b, msg->root, &err);
    room_peer_push_buf(rp->cfg, rp->env, p, &b);
}

static void request_presence(room_presence *rp, room_peer *p, const char *name)
{
    channel *ch = room_map_get(&rp->channels, name);
    presence_out o = {rp, name, NULL, p, NULL, NULL, NULL, {{0, NULL}}, 0, NULL};
    proto_buf b;

    proto_buf_init(&b, rp->cfg->headroom);
    proto_emit_presence_request(&b, name);
    o.shared = room_msg_from_buf(&b);
    if (o.shared && ch)
        relay(rp, ch, &o);
    room_msg_unref(o.shared);
}

void room_presence_handle(room_presence *rp, room_peer *p, proto_msg *msg, void *policy,
                          unsigned view)
{
    const room_config *cfg = rp->cfg;
    proto_buf b;

    proto_buf_init(&b, cfg->headroom);
    switch (msg->action) {
    case PROTO_P: {
        channel *ch = room_map_get(&rp->channels, msg->ch);
        if (msg->doc_presence) {
            reply_error(rp, p, msg, PROTO_ERR_NO_PRESENCE_TYPE,
                        "Type does not support presence");
            return;
        }
        switch (remember(rp, p, msg, cfg->max_presences)) {
        case TOO_MANY:
            reply_error(rp, p, msg, PROTO_ERR_LIMIT, "Too many presences on one connection");
            return;
        case NOT_YOURS:
            reply_error(rp, p, msg, PROTO_ERR_FORBIDDEN, "This presence id belongs to another "
                        "participant's connection");
            return;
        case NO_MEMORY:
            reply_error(rp, p, msg, PROTO_ERR_UNKNOWN, "out of memory");
            return;
        }
        presence_out o = {rp, msg->ch, msg->presence_id, p, msg->presence, msg->pv,
                          policy, {{0, NULL}}, 0, NULL};
        room_msg *echo;
        /* Each receiver gets the value as its view may (a place it may not read as
         * {"path": null}: it drops the old cursor and still sees the sender present). */
        if (ch)
            relay(rp, ch, &o);
        /* The echo, as the sender's own view gets it, is its acknowledgement. */
        echo = form_for(&o, view);
        if (echo)
            room_peer_push(rp->cfg, rp->env, p, echo);
        room_msg_unref(echo);
        presence_out_free(&o);
        if (!echo)
            reply_error(rp, p, msg, PROTO_ERR_UNKNOWN, "out of memory");
        return;
    }
    case PROTO_PS:
        if (subscribe(rp, p, msg->ch, policy, view) != 0) {
            reply_error(rp, p, msg, PROTO_ERR_LIMIT,
                        "Too many presence channels on one connection");
            return;
        }
        proto_emit_presence_sub(&b, PROTO_PS, msg->ch, msg->seq);
        room_peer_push_buf(rp->cfg, rp->env, p, &b);
        request_presence(rp, p, msg->ch);
        return;
    case PROTO_PU: {
        room_pres_sub *sub = find_sub(p, msg->ch);
        if (sub) {
            forget(rp, p, msg->ch);
            unsubscribe(rp, p, sub);
        }
        proto_emit_presence_sub(&b, PROTO_PU, msg->ch, msg->seq);
        room_peer_push_buf(rp->cfg, rp->env, p, &b);
        return;
    }
    case PROTO_PR:
        request_presence(rp, p, msg->ch);
        proto_emit_presence_request(&b, NULL);
        room_peer_push_buf(rp->cfg, rp->env, p, &b);
        return;
    default:
        return;
    }
}

void room_presence_leave(room_presence *rp, room_peer *p)
{
    forget(rp, p, NULL);
    while (p->pres_subs)
        unsubscribe(rp, p, p->pres_subs);
}
