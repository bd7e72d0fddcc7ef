/*
 * The hub's side of the limits (protocol/limits.md): what the rooms ask through their
 * environment, and the creation budget of the REST API. The policies themselves are
 * pure (doc/doc_size.h, auth/budget.h, room_limits.c); this file supplies the numbers
 * and the state:
 *
 *   - may_open: a client reaches one case, its session's; a request for any other
 *     document is refused before a room is made for it (ERR_FORBIDDEN);
 *   - limits / grew: a case sheet's limits are the server option when it was given,
 *     else its template's, else the HUB_DEFAULT_ ones; the growth budget is kept per
 *     (case, principal) in the hub's budget table, which outlives the rooms (an idle
 *     room's eviction does not give a principal its budget back);
 *   - spend: an op transformed across many versions takes more of its connection's op
 *     budget (hub_conn_spend);
 *   - hub_limits_create: cases, sessions and links one account may create per window.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <string.h>

#include "auth/budget.h"
#include "hub/hub_access.h"

static hub_conn *conn_of(room_peer *p)
{
    return (hub_conn *)((char *)p - offsetof(hub_conn, peer));
}

int hub_limits_init(hub *h)
{
    h->budgets = auth_budget_new(h->cfg.budget_max_keys);
    return h->budgets ? 0 : -1;
}

void hub_limits_free(hub *h)
{
    auth_budget_free(h->budgets);
    h->budgets = NULL;
}

static int may_open(void *ctx, room_peer *peer, const char *doc, proto_error *err)
{
    hub_conn *c = conn_of(peer);

    (void)ctx;
    if (c->principal.role != AUTH_ROLE_CLIENT || strcmp(doc, c->bound_case) == 0)
        return 0;
    err->code = PROTO_ERR_FORBIDDEN;
    snprintf(err->message, sizeof err->message, "You do not take part in this case");
    return -1;
}

/* The option when given, else the template's value, else the default. */
static size_t pick(size_t option, size_t from_template, size_t fallback)
{
    return option ? option : from_template ? from_template : fallback;
}

static void budget_key(char *out, size_t n, const hub_policy *p, const char *author)
{
    snprintf(out, n, "grow\x01%s\x01%s", hub_policy_case(p), author);
}

static int64_t window_ms(const hub *h, const template_limits *t)
{
    return (int64_t)pick((size_t)h->cfg.append_window_secs, (size_t)t->append_window_secs,
                         HUB_DEFAULT_APPEND_WINDOW_SECS) * 1000;
}

static void limits(void *ctx, void *policy, const char *author, room_limits *out)
{
    hub *h = ctx;
    const template_limits none = {0, 0, 0, 0, 0};
    const template_limits *t = policy ? template_size_limits(hub_policy_template(policy))
                                      : &none;
    char key[2 * AUTH_ID_MAX + 8];

    memset(out, 0, sizeof *out);
    out->doc.sheet = pick(h->cfg.max_sheet, t->sheet_bytes, HUB_DEFAULT_SHEET);
    out->doc.item = pick(h->cfg.max_item, t->item_bytes, HUB_DEFAULT_ITEM);
    out->doc.string = pick(h->cfg.max_string, t->string_bytes, HUB_DEFAULT_STRING);
    out->budget = pick(h->cfg.append_budget, t->append_bytes, HUB_DEFAULT_APPEND);
    out->window_ms = window_ms(h, t);
    if (!policy)
        return;
    budget_key(key, sizeof key, policy, author);
    out->doc.has_grow = 1;
    out->doc.grow = auth_budget_left(h->budgets, key, out->budget, hub_now_ms(),
                                     &out->retry_ms);
}

static void grew(void *ctx, void *policy, const char *author, size_t bytes)
{
    hub *h = ctx;
    char key[2 * AUTH_ID_MAX + 8];

    if (!policy)
        return;
    budget_key(key, sizeof key, policy, author);
    /* Out of memory forgets this growth: the sheet's own limit still holds. */
    (void)auth_budget_use(h->budgets, key, bytes,
                          window_ms(h, template_size_limits(hub_policy_template(policy))),
                          hub_now_ms());
}

static void spend(void *ctx, room_peer *peer, double ops)
{
    hub_conn *c = conn_of(peer);

    (void)ctx;
    if (c->wsi && !c->close_code)
        hub_conn_spend(c, ops);
}

void hub_limits_env(room_env *env)
{
    env->may_open = may_open;
    env->limits = limits;
    env->grew = grew;
    env->spend = spend;
}

int hub_limits_create(hub *h, const char *user_id, int64_t *retry_secs)
{
    char key[AUTH_ID_MAX + 8];
    int64_t retry_ms = 0;

    snprintf(key, sizeof key, "make\x01%s", user_id);
    if (auth_budget_take(h->budgets, key, h->cfg.max_creates,
                         (int64_t)h->cfg.create_window_secs * 1000, hub_now_ms(),
                         &retry_ms) == 0)
        return 0;
    *retry_secs = (retry_ms + 999) / 1000;
    if (*retry_secs < 1)
        *retry_secs = 1;
    return -1;
}
