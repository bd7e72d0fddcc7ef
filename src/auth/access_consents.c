/*
 * Consent kinds, records and state; see access_consents.h. A record that the write check
 * would refuse counts for nothing here, so a case sheet written before consents were
 * checked (other field names) grants nothing.
 */
#include "auth/access_consents.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[ACCESS_CONSENT_KINDS] = {
    "share", "supervision", "processing", "release",
};

static const char *s_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int access_consent_kind_parse(const char *name, access_consent_kind *out)
{
    for (int k = 0; name && k < ACCESS_CONSENT_KINDS; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (access_consent_kind)k;
            return 0;
        }
    }
    return -1;
}

const char *access_consent_kind_name(access_consent_kind kind)
{
    return (unsigned)kind < ACCESS_CONSENT_KINDS ? kind_names[kind] : "?";
}

access_consents access_consent_bit(access_consent_kind kind, int with)
{
    switch (kind) {
    case ACCESS_CONSENT_SHARE:
        return with > AUTH_SPECIALTY_NONE && with < AUTH_SPECIALTY_COUNT ?
               ACCESS_CONSENT_SHARE_WITH(with) : 0;
    case ACCESS_CONSENT_SUPERVISION:
        return ACCESS_CONSENT_SUPERVISION_BIT;
    case ACCESS_CONSENT_PROCESSING:
        return ACCESS_CONSENT_PROCESSING_BIT;
    default:
        return 0;
    }
}

/* The state bit a well-formed record speaks about, or 0 (release, or not well-formed). */
static access_consents record_bit(const cJSON *r, unsigned known, bool *given)
{
    const char *kind = s_of(r, "kind"), *status = s_of(r, "status"), *with = s_of(r, "with");
    access_consent_kind k;
    auth_specialty s;

    if (!cJSON_IsObject(r) || access_consent_kind_parse(kind, &k) != 0 ||
        !(known & ACCESS_CONSENT_KIND_BIT(k)) || !status)
        return 0;
    if (strcmp(status, "given") == 0)
        *given = true;
    else if (strcmp(status, "revoked") == 0)
        *given = false;
    else
        return 0;
    if (k == ACCESS_CONSENT_SHARE)
        return with && auth_specialty_parse(with, &s) == 0 ? access_consent_bit(k, (int)s) : 0;
    if (cJSON_GetObjectItemCaseSensitive(r, "with"))
        return 0;
    return access_consent_bit(k, ACCESS_WITH_NONE);
}

access_consents access_consents_of_list(const cJSON *list, unsigned known)
{
    access_consents state = 0;
    const cJSON *r;

    if (!cJSON_IsArray(list))
        return 0;
    cJSON_ArrayForEach(r, list) {
        bool given = false;
        access_consents bit = record_bit(r, known, &given);
        state = given ? (state | bit) : (state & ~bit);
    }
    return state;
}

static const char *const fields[] = {
    "kind", "with", "status", "how", "note", "given_by", "recorded_by", "at", NULL,
};

bool access_consent_field_known(const char *field)
{
    for (size_t i = 0; field && fields[i]; i++)
        if (strcmp(field, fields[i]) == 0)
            return true;
    return false;
}

bool access_consent_field_structured(const char *field)
{
    return access_consent_field_known(field) && strcmp(field, "note") != 0;
}

bool access_consent_field_controlled(const char *field)
{
    return field && (strcmp(field, "kind") == 0 || strcmp(field, "status") == 0 ||
                     strcmp(field, "how") == 0 || strcmp(field, "at") == 0);
}

static bool absent_or_null(const cJSON *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);
    return !v || cJSON_IsNull(v);
}

static int check_with(const cJSON *r, access_consent_kind k, int c, auth_error *err)
{
    const cJSON *with = cJSON_GetObjectItemCaseSensitive(r, "with");
    auth_specialty s;

    switch (k) {
    case ACCESS_CONSENT_SHARE:
        if (!cJSON_IsString(with) || auth_specialty_parse(with->valuestring, &s) != 0 ||
            s == AUTH_SPECIALTY_NONE)
            return auth_fail(err, "component %d: a \"share\" consent needs \"with\": the "
                                  "specialty it shares with (debt, social_law, migration, "
                                  "housing, family, addiction)", c);
        return 0;
    case ACCESS_CONSENT_RELEASE:
        if (!cJSON_IsString(with) || with->valuestring[0] == '\0')
            return auth_fail(err, "component %d: a \"release\" consent needs \"with\": "
                                  "towards whom the client releases from confidentiality", c);
        return 0;
    default:
        if (with)
            return auth_fail(err, "component %d: a \"%s\" consent takes no \"with\"", c,
                             access_consent_kind_name(k));
        return 0;
    }
}

int access_consent_check_record(const cJSON *r, unsigned known, bool by_client, int c,
                                auth_error *err)
{
    static const char *const stamped[] = {"given_by", "recorded_by", "at"};
    const char *kind, *status, *how;
    access_consent_kind k;

    if (!cJSON_IsObject(r))
        return auth_fail(err, "component %d: a consent record is an object {kind, with, "
                              "status, how, note}", c);
    for (const cJSON *m = r->child; m; m = m->next)
        if (!access_consent_field_known(m->string))
            return auth_fail(err, "component %d: a consent record has no field \"%.40s\" "
                                  "(fields: kind, with, status, how, note; given_by, "
                                  "recorded_by and at are stamped by the server)", c,
                             m->string);
    kind = s_of(r, "kind");
    if (!kind || access_consent_kind_parse(kind, &k) != 0 ||
        !(known & ACCESS_CONSENT_KIND_BIT(k))) {
        char list[80] = "";
        for (int i = 0; i < ACCESS_CONSENT_KINDS; i++)
            if (known & ACCESS_CONSENT_KIND_BIT(i))
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         list[0] ? ", " : "", kind_names[i]);
        return auth_fail(err, "component %d: unknown consent kind \"%.40s\" (this template "
                              "keeps: %s)", c, kind ? kind : "", list[0] ? list : "none");
    }
    if (check_with(r, k, c, err) != 0)
        return -1;
    status = s_of(r, "status");
    if (!status || (strcmp(status, "given") != 0 && strcmp(status, "revoked") != 0))
        return auth_fail(err, "component %d: a consent's \"status\" is \"given\" or "
                              "\"revoked\"", c);
    if (!absent_or_null(r, "note") && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "note")))
        return auth_fail(err, "component %d: a consent's \"note\" is a text", c);
    for (size_t i = 0; i < sizeof stamped / sizeof stamped[0]; i++)
        if (!absent_or_null(r, stamped[i]))
            return auth_fail(err, "component %d: \"%s\" of a consent record is stamped by the "
                                  "server: leave it out or null", c, stamped[i]);
    how = s_of(r, "how");
    if (by_client && !absent_or_null(r, "how"))
        return auth_fail(err, "component %d: \"how\" of a consent the client records is "
                              "stamped by the server (\"self\"): leave it out or null", c);
    if (!by_client && (!how || (strcmp(how, "in_person") != 0 && strcmp(how, "paper") != 0 &&
                                strcmp(how, "phone") != 0)))
        return auth_fail(err, "component %d: a consent recorded on the client's behalf needs "
                              "\"how\" it was given: \"in_person\", \"paper\" or \"phone\"", c);
    return 0;
}
