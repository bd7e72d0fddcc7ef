/*
 * Access rules; see access_rules.h. Rule sets are small (tens of rules), so lookups scan
 * them all: no index to keep consistent, and the cost stays far below that of the op
 * being checked.
 */
#include "auth/access_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct access_rules {
    access_rule *rules;
    size_t count, cap;
};

#define ALL_SPECIALTY_BITS                                                                 \
    (ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_DEBT) | ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_SOCIAL_LAW) | \
     ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_MIGRATION) |                                      \
     ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_HOUSING) |                                        \
     ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_FAMILY) |                                         \
     ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_ADDICTION))
#define ALL_SELECTOR_BITS \
    (ACCESS_CLIENT | ACCESS_COUNSELLOR | ACCESS_LEAD | ACCESS_SUPERVISOR | ALL_SPECIALTY_BITS)
#define SELECTOR_LIST \
    "client, counsellor, counsellor:<specialty>, lead, supervisor"

access_rules *access_rules_new(void)
{
    return calloc(1, sizeof(access_rules));
}

static void rule_release(access_rule *r)
{
    for (size_t i = 0; i < r->depth; i++) free(r->keys[i]);
    free(r->keys);
    free(r->conds);
    cJSON_free(r->path_text);
}

void access_rules_free(access_rules *rules)
{
    if (!rules)
        return;
    for (size_t i = 0; i < rules->count; i++) rule_release(&rules->rules[i]);
    free(rules->rules);
    free(rules);
}

size_t access_rules_count(const access_rules *rules)
{
    return rules->count;
}

const access_rule *access_rules_at(const access_rules *rules, size_t index)
{
    return index < rules->count ? &rules->rules[index] : NULL;
}

/* The name of a single selector bit, for messages. */
static void selector_name(access_set bit, char out[32])
{
    static const char *const plain[] = {"client", "counsellor", "lead", "supervisor"};
    for (unsigned i = 0; i < 4; i++)
        if (bit == (1u << i)) {
            snprintf(out, 32, "%s", plain[i]);
            return;
        }
    for (int s = AUTH_SPECIALTY_DEBT; s < AUTH_SPECIALTY_COUNT; s++)
        if (bit == ACCESS_COUNSELLOR_OF(s)) {
            snprintf(out, 32, "counsellor:%s", auth_specialty_name((auth_specialty)s));
            return;
        }
    snprintf(out, 32, "?");
}

int access_rules_add_condition(access_rules *rules, size_t index, const access_condition *c,
                               auth_error *err)
{
    access_rule *r = index < rules->count ? &rules->rules[index] : NULL;
    access_condition *grown;
    char name[32];

    if (!r || !c || c->role == 0 || (c->role & (c->role - 1)) != 0 ||
        (c->role & ~ALL_SELECTOR_BITS))
        return auth_fail(err, "a condition names one role");
    selector_name(c->role, name);
    if (r->read & c->role)
        return auth_fail(err, "\"%s\" appears twice in \"read\"", name);
    for (size_t i = 0; i < r->n_conds; i++)
        if (r->conds[i].role == c->role)
            return auth_fail(err, "\"%s\" appears twice in \"read\"", name);
    switch (c->consent) {
    case ACCESS_CONSENT_SHARE:
        if (c->with == ACCESS_WITH_NONE)
            return auth_fail(err, "a \"share\" condition needs \"with\": a specialty or "
                                  "\"reader\"");
        if (c->with == ACCESS_WITH_READER &&
            !(c->role & (ACCESS_COUNSELLOR | ALL_SPECIALTY_BITS)))
            return auth_fail(err, "\"with\": \"reader\" (the reader's own specialty) needs a "
                                  "counsellor role, not \"%s\"", name);
        if (c->with != ACCESS_WITH_READER &&
            (c->with <= AUTH_SPECIALTY_NONE || c->with >= AUTH_SPECIALTY_COUNT))
            return auth_fail(err, "a \"share\" condition's \"with\" is a specialty or "
                                  "\"reader\"");
        break;
    case ACCESS_CONSENT_SUPERVISION:
    case ACCESS_CONSENT_PROCESSING:
        if (c->with != ACCESS_WITH_NONE)
            return auth_fail(err, "a \"%s\" condition takes no \"with\"",
                             access_consent_kind_name(c->consent));
        break;
    default:
        return auth_fail(err, "a \"release\" consent concerns disclosure outside Konsil: no "
                              "rule can depend on it");
    }
    grown = realloc(r->conds, (r->n_conds + 1) * sizeof *grown);
    if (!grown)
        return auth_fail(err, "out of memory");
    r->conds = grown;
    r->conds[r->n_conds++] = *c;
    return 0;
}

int access_selector_parse(const char *name, access_set *out, auth_error *err)
{
    static const struct { const char *name; access_set bit; } plain[] = {
        {"client", ACCESS_CLIENT},
        {"counsellor", ACCESS_COUNSELLOR},
        {"lead", ACCESS_LEAD},
        {"supervisor", ACCESS_SUPERVISOR},
    };
    for (size_t i = 0; name && i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(name, plain[i].name) == 0) {
            *out = plain[i].bit;
            return 0;
        }
    }
    const char prefix[] = "counsellor:";
    auth_specialty s;
    if (name && strncmp(name, prefix, sizeof prefix - 1) == 0 &&
        auth_specialty_parse(name + sizeof prefix - 1, &s) == 0 && s != AUTH_SPECIALTY_NONE) {
        *out = ACCESS_COUNSELLOR_OF(s);
        return 0;
    }
    return auth_fail(err, "unknown role \"%.60s\" (known: " SELECTOR_LIST ")",
                     name ? name : "");
}

access_set access_principal_set(const auth_principal *who)
{
    if (!who)
        return 0;
    switch (who->role) {
    case AUTH_ROLE_CLIENT:
        return ACCESS_CLIENT;
    case AUTH_ROLE_COUNSELLOR: {
        access_set set = ACCESS_COUNSELLOR;
        if (who->is_lead) set |= ACCESS_LEAD;
        if (who->specialty > AUTH_SPECIALTY_NONE && who->specialty < AUTH_SPECIALTY_COUNT)
            set |= ACCESS_COUNSELLOR_OF(who->specialty);
        return set;
    }
    case AUTH_ROLE_SUPERVISOR:
        return ACCESS_SUPERVISOR;
    case AUTH_ROLE_ADMIN:
        return 0;
    }
    return 0;
}

static bool index_element(const cJSON *e)
{
    return cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble == floor(e->valuedouble) &&
           e->valuedouble <= 2147483647.0;
}

bool access_path_valid(const cJSON *path)
{
    if (!cJSON_IsArray(path))
        return false;
    for (const cJSON *e = path->child; e; e = e->next) {
        if (!cJSON_IsString(e) && !index_element(e))
            return false;
    }
    return true;
}

/* Whether rule's path is a prefix of path (element by element; an index never equals a
 * key). */
static bool rule_covers(const access_rule *rule, const cJSON *path)
{
    const cJSON *e = path->child;
    for (size_t i = 0; i < rule->depth; i++, e = e->next) {
        if (!e || !cJSON_IsString(e) || strcmp(e->valuestring, rule->keys[i]) != 0)
            return false;
    }
    return true;
}

/* Whether rule's path lies strictly below path. */
static bool rule_below(const access_rule *rule, const cJSON *path)
{
    size_t i = 0;
    for (const cJSON *e = path->child; e; e = e->next, i++) {
        if (i >= rule->depth || !cJSON_IsString(e) || strcmp(e->valuestring, rule->keys[i]) != 0)
            return false;
    }
    return rule->depth > i;
}

const access_rule *access_rules_match(const access_rules *rules, const cJSON *path)
{
    if (!rules || !access_path_valid(path))
        return NULL;
    const access_rule *best = NULL;
    for (size_t i = 0; i < rules->count; i++) {
        const access_rule *r = &rules->rules[i];
        if ((!best || r->depth > best->depth) && rule_covers(r, path))
            best = r;
    }
    return best;
}

bool access_rules_has_below(const access_rules *rules, const cJSON *path)
{
    if (!rules || !access_path_valid(path))
        return false;
    for (size_t i = 0; i < rules->count; i++) {
        if (rule_below(&rules->rules[i], path))
            return true;
    }
    return false;
}

bool access_rule_reads(const access_rule *rule, const auth_principal *who)
{
    return rule && (rule->read & access_principal_set(who)) != 0;
}

bool access_rule_writes(const access_rule *rule, const auth_principal *who)
{
    return rule && auth_principal_may_write(who) && (rule->write & access_principal_set(who)) != 0;
}

bool access_can_read(const access_rules *rules, const auth_principal *who, const cJSON *path)
{
    return access_rule_reads(access_rules_match(rules, path), who);
}

bool access_can_write(const access_rules *rules, const auth_principal *who, const cJSON *path)
{
    return access_rule_writes(access_rules_match(rules, path), who);
}

/* Whether every writer in `write` is also a reader in `read`. A lead or a counsellor of
 * a specialty is covered by "counsellor". */
static bool writers_covered(access_set read, access_set write)
{
    access_set by_counsellor = (read & ACCESS_COUNSELLOR) ? (ACCESS_LEAD | ALL_SPECIALTY_BITS) : 0;
    return (write & ~(read | by_counsellor)) == 0;
}

static bool same_path(const access_rule *r, const cJSON *path)
{
    size_t n = (size_t)cJSON_GetArraySize(path);
    return n == r->depth && rule_covers(r, path);
}

int access_rules_add(access_rules *rules, const cJSON *path, access_set read,
                     access_set write, bool append_only, auth_error *err)
{
    if (!cJSON_IsArray(path))
        return auth_fail(err, "a rule path must be an array of object keys");
    for (const cJSON *e = path->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return auth_fail(err, "a rule path holds only object keys (strings): list "
                                  "indices are never access boundaries");
    }
    if ((read | write) & ~ALL_SELECTOR_BITS)
        return auth_fail(err, "unknown selector bits in a rule");
    if (write & ACCESS_SUPERVISOR)
        return auth_fail(err, "supervisors never write: \"supervisor\" cannot be in a write list");
    if (!writers_covered(read, write))
        return auth_fail(err, "every role in the write list must also be in the read list");
    for (size_t i = 0; i < rules->count; i++) {
        if (same_path(&rules->rules[i], path))
            return auth_fail(err, "two rules for the same path %.120s",
                             rules->rules[i].path_text);
    }
    if (rules->count == rules->cap) {
        size_t cap = rules->cap ? rules->cap * 2 : 16;
        access_rule *grown = realloc(rules->rules, cap * sizeof *grown);
        if (!grown)
            return auth_fail(err, "out of memory");
        rules->rules = grown;
        rules->cap = cap;
    }
    access_rule r = {.index = rules->count, .read = read, .write = write,
                     .append_only = append_only};
    r.depth = (size_t)cJSON_GetArraySize(path);
    r.keys = calloc(r.depth ? r.depth : 1, sizeof *r.keys);
    r.path_text = cJSON_PrintUnformatted(path);
    bool ok = r.keys && r.path_text;
    size_t i = 0;
    for (const cJSON *e = path->child; ok && e; e = e->next, i++) {
        r.keys[i] = strdup(e->valuestring);
        ok = r.keys[i] != NULL;
    }
    if (!ok) {
        r.depth = i;
        rule_release(&r);
        return auth_fail(err, "out of memory");
    }
    rules->rules[rules->count++] = r;
    return 0;
}

/* ---- reading under a consent state ------------------------------------------------ */

/* The specialty of a reader's selectors, or AUTH_SPECIALTY_NONE. */
static int reader_specialty(access_set roles)
{
    for (int s = AUTH_SPECIALTY_DEBT; s < AUTH_SPECIALTY_COUNT; s++)
        if (roles & ACCESS_COUNSELLOR_OF(s))
            return s;
    return AUTH_SPECIALTY_NONE;
}

/* The consent bit condition c needs for a reader with roles; 0 when it can never hold
 * for that reader ("with": reader and no specialty). */
static access_consents condition_bit(const access_condition *c, access_set roles)
{
    int with = c->with == ACCESS_WITH_READER ? reader_specialty(roles) : c->with;
    return access_consent_bit(c->consent, with);
}

bool access_rule_reads_under(const access_rule *rule, access_set roles, access_consents consents)
{
    if (!rule)
        return false;
    if (rule->read & roles)
        return true;
    for (size_t i = 0; i < rule->n_conds; i++) {
        const access_condition *c = &rule->conds[i];
        access_consents bit = (c->role & roles) ? condition_bit(c, roles) : 0;
        if (bit && (consents & bit))
            return true;
    }
    return false;
}

bool access_rule_may_read(const access_rule *rule, access_set roles)
{
    if (!rule)
        return false;
    if (rule->read & roles)
        return true;
    for (size_t i = 0; i < rule->n_conds; i++)
        if ((rule->conds[i].role & roles) && condition_bit(&rule->conds[i], roles))
            return true;
    return false;
}

bool access_read_all_under(const access_rules *rules, access_set roles, access_consents consents,
                           const cJSON *path)
{
    if (!access_rule_reads_under(access_rules_match(rules, path), roles, consents))
        return false;
    for (size_t i = 0; i < rules->count; i++) {
        const access_rule *r = &rules->rules[i];
        if (rule_below(r, path) && !access_rule_reads_under(r, roles, consents))
            return false;
    }
    return true;
}

bool access_may_read_below(const access_rules *rules, access_set roles, const cJSON *path)
{
    if (!rules || !access_path_valid(path))
        return false;
    for (size_t i = 0; i < rules->count; i++) {
        const access_rule *r = &rules->rules[i];
        if (rule_below(r, path) && access_rule_may_read(r, roles))
            return true;
    }
    return false;
}

access_consents access_rules_consent_mask(const access_rules *rules, access_set roles)
{
    access_consents mask = 0;

    for (size_t i = 0; rules && i < rules->count; i++) {
        const access_rule *r = &rules->rules[i];
        if (r->read & roles)
            continue;
        for (size_t k = 0; k < r->n_conds; k++)
            if (r->conds[k].role & roles)
                mask |= condition_bit(&r->conds[k], roles);
    }
    return mask;
}
