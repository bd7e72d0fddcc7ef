/*
 * Presence relay (see room_presence.h). A channel is a name and the peers subscribed
 * to it; a channel with no subscribers is freed. Each peer keeps the channels it
 * subscribed to and, per (channel, presence id), the last presence version it sent,
 * so that its departure can be announced with p:null.
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
    cJSON *pv;
};

struct room_presence {
    room_map channels;
    const room_config *cfg;     /* the room set's, borrowed */
    const room_env *env;
};

room_presence *room_presence_new(const room_config *cfg, const room_env *env)
{
    room_presence *rp = calloc(1, sizeof *rp);

    if (!rp)
        return NULL;
    room_map_init(&rp->channels);
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
    free(rp);
}

/* {a:'p', ch, src, id, p, pv, u}: u is the sender's identity, stamped here; `identity`
 * is p->identity or p->identity_pseudonymous. */
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

/* One presence update in the forms receivers may get: plain or with the place hidden
 * (p:{"path":null}: still present, no place shown — p:null would read as leaving), each
 * with the sender's identity or its pseudonymous one. */
typedef struct presence_msgs {
    room_msg *plain, *hidden, *plain_pseudo, *hidden_pseudo;
} presence_msgs;

static void presence_msgs_free(presence_msgs *pm)
{
    room_msg_unref(pm->plain);
    room_msg_unref(pm->hidden);
    room_msg_unref(pm->plain_pseudo);
    room_msg_unref(pm->hidden_pseudo);
}

static room_msg *build(room_presence *rp, const char *ch, const room_peer *p, const char *identity,
                       const char *id, const cJSON *value, const cJSON *pv)
{
    proto_buf b;

    proto_buf_init(&b, rp->cfg->headroom);
    emit_presence(&b, ch, p, identity, id, value, pv);
    return room_msg_from_buf(&b);
}

/* Builds the forms needed: hidden ones only when value can be hidden, pseudonymous ones
 * only when the sender has such an identity. Returns 0 or -1 (out of memory). */
static int presence_msgs_build(room_presence *rp, presence_msgs *pm, const char *ch,
                               const room_peer *p, const char *id, const cJSON *value,
                               const cJSON *pv, int may_hide)
{
    cJSON *placeless = NULL;

    memset(pm, 0, sizeof *pm);
    if (may_hide && value && !(placeless = cJSON_CreateObject())) return -1;
    if (placeless && !cJSON_AddNullToObject(placeless, "path")) {
        cJSON_Delete(placeless);
        return -1;
    }
    pm->plain = build(rp, ch, p, p->identity, id, value, pv);
    if (may_hide)
        pm->hidden = build(rp, ch, p, p->identity, id, placeless, pv);
    if (p->identity_pseudonymous) {
        pm->plain_pseudo = build(rp, ch, p, p->identity_pseudonymous, id, value, pv);
        if (may_hide)
            pm->hidden_pseudo = build(rp, ch, p, p->identity_pseudonymous, id, placeless, pv);
    }
    cJSON_Delete(placeless);
    if (!pm->plain || (may_hide && !pm->hidden) ||
        (p->identity_pseudonymous && (!pm->plain_pseudo || (may_hide && !pm->hidden_pseudo)))) {
        presence_msgs_free(pm);
        return -1;
    }
    return 0;
}

/* Sends the right form of pm to every other subscriber: hidden to those whose view may not
 * see value (value NULL: everyone sees it), pseudonymous to those who read pseudonyms. */
static void relay(room_presence *rp, channel *ch, room_peer *from, const presence_msgs *pm,
                  const cJSON *value)
{
    const room_env *env = rp->env;

    for (size_t i = 0; i < ch->n; i++) {
        if (ch->subs[i] == from)
            continue;
        int visible = !value || !env->presence_visible ||
                      env->presence_visible(env->ctx, ch->policy, ch->views[i], value);
        int pseudo = pm->plain_pseudo && env->pseudonymous_view &&
                     env->pseudonymous_view(env->ctx, ch->policy, ch->views[i]);
        room_msg *m = visible ? (pseudo ? pm->plain_pseudo : pm->plain)
                              : (pseudo ? pm->hidden_pseudo : pm->hidden);
        if (m)
            room_peer_push(rp->cfg, rp->env, ch->subs[i], m, 1);
    }
}

static void announce_gone(room_presence *rp, room_peer *p, const room_pres_entry *e)
{
    channel *ch = room_map_get(&rp->channels, e->ch);
    presence_msgs pm;

    if (!ch || presence_msgs_build(rp, &pm, e->ch, p, e->id, NULL, e->pv, 0) != 0)
        return;
    relay(rp, ch, p, &pm, NULL);
    presence_msgs_free(&pm);
}

static void entry_free(room_pres_entry *e)
{
    free(e->ch);
    free(e->id);
    cJSON_Delete(e->pv);
    free(e);
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
        entry_free(e);
    }
}

static int remember(room_peer *p, const proto_msg *msg, size_t max)
{
    room_pres_entry *e;

    for (e = p->pres; e; e = e->next)
        if (strcmp(e->ch, msg->ch) == 0 && strcmp(e->id, msg->presence_id) == 0)
            break;
    if (!msg->presence || cJSON_IsNull(msg->presence)) {
        room_pres_entry **pp;
        for (pp = &p->pres; *pp; pp = &(*pp)->next)
            if (*pp == e) {
                *pp = e->next;
                p->n_pres--;
                entry_free(e);
                break;
            }
        return 0;
    }
    if (!e) {
        if (p->n_pres >= max)
            return -1;
        e = calloc(1, sizeof *e);
        if (!e || !(e->ch = strdup(msg->ch)) || !(e->id = strdup(msg->presence_id))) {
            if (e)
                free(e->ch);
            free(e);
            return -1;
        }
        e->next = p->pres;
        p->pres = e;
        p->n_pres++;
    }
    cJSON_Delete(e->pv);
    e->pv = cJSON_Duplicate(msg->pv, 1);
    return 0;
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
    presence_msgs pm = {0};
    proto_buf b;

    proto_buf_init(&b, rp->cfg->headroom);
    proto_emit_presence_request(&b, name);
    pm.plain = room_msg_from_buf(&b);
    if (pm.plain && ch)
        relay(rp, ch, p, &pm, NULL);
    presence_msgs_free(&pm);
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
        if (remember(p, msg, cfg->max_presences) != 0) {
            reply_error(rp, p, msg, PROTO_ERR_LIMIT, "Too many presences on one connection");
            return;
        }
        presence_msgs pm;
        int may_hide = ch && rp->env->presence_visible;
        if (presence_msgs_build(rp, &pm, msg->ch, p, msg->presence_id, msg->presence, msg->pv,
                                may_hide) != 0) {
            reply_error(rp, p, msg, PROTO_ERR_UNKNOWN, "out of memory");
            return;
        }
        /* Receivers that may not see the place get it without one: they drop the old
         * cursor and still see the sender present. */
        if (ch)
            relay(rp, ch, p, &pm, msg->presence);
        /* The echo is the sender's acknowledgement. */
        room_peer_push(rp->cfg, rp->env, p, pm.plain, 0);
        presence_msgs_free(&pm);
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
