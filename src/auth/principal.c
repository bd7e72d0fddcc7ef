/*
 * Principals; see principal.h. Names are checked here, once, so every later use (audit
 * entries, presence stamps, history authors) can print them without escaping worries
 * beyond ordinary JSON.
 */
#include "auth/principal.h"

#include <stdio.h>
#include <string.h>

#include "util/utf16.h"

static const char *const role_names[] = {
    [AUTH_ROLE_CLIENT] = "client",
    [AUTH_ROLE_COUNSELLOR] = "counsellor",
    [AUTH_ROLE_SUPERVISOR] = "supervisor",
    [AUTH_ROLE_ADMIN] = "admin",
};

static const char *const specialty_names[AUTH_SPECIALTY_COUNT] = {
    [AUTH_SPECIALTY_NONE] = "none",
    [AUTH_SPECIALTY_DEBT] = "debt",
    [AUTH_SPECIALTY_SOCIAL_LAW] = "social_law",
    [AUTH_SPECIALTY_MIGRATION] = "migration",
    [AUTH_SPECIALTY_HOUSING] = "housing",
    [AUTH_SPECIALTY_FAMILY] = "family",
    [AUTH_SPECIALTY_ADDICTION] = "addiction",
};

#define ROLE_COUNT (sizeof role_names / sizeof role_names[0])

const char *auth_role_name(auth_role role)
{
    return (unsigned)role < ROLE_COUNT ? role_names[role] : "unknown";
}

int auth_role_parse(const char *name, auth_role *out)
{
    for (unsigned i = 0; name && i < ROLE_COUNT; i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (auth_role)i;
            return 0;
        }
    }
    return -1;
}

const char *auth_specialty_name(auth_specialty specialty)
{
    return (unsigned)specialty < AUTH_SPECIALTY_COUNT ? specialty_names[specialty] : "unknown";
}

int auth_specialty_parse(const char *name, auth_specialty *out)
{
    for (unsigned i = 0; name && i < AUTH_SPECIALTY_COUNT; i++) {
        if (strcmp(name, specialty_names[i]) == 0) {
            *out = (auth_specialty)i;
            return 0;
        }
    }
    return -1;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static int check_id(const char *id, auth_error *err)
{
    if (!id || !id[0])
        return auth_fail(err, "principal id is empty");
    size_t len = strlen(id);
    if (len >= AUTH_ID_MAX)
        return auth_fail(err, "principal id is longer than %d bytes", AUTH_ID_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        if (!id_char(id[i]))
            return auth_fail(err, "principal id may hold only letters, digits and . _ : -");
    }
    return 0;
}

static int check_display_name(const char *name, auth_error *err)
{
    if (!name || !name[0])
        return auth_fail(err, "display name is empty");
    size_t len = strlen(name);
    if (len >= AUTH_DISPLAY_NAME_MAX)
        return auth_fail(err, "display name is longer than %d bytes",
                         AUTH_DISPLAY_NAME_MAX - 1);
    if (!utf16_valid_utf8(name, len))
        return auth_fail(err, "display name is not valid UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return auth_fail(err, "display name contains a control character");
    }
    return 0;
}

int auth_principal_init(auth_principal *out, const char *id, const char *display_name,
                        auth_role role, auth_specialty specialty, bool is_lead,
                        auth_error *err)
{
    if ((unsigned)role >= ROLE_COUNT)
        return auth_fail(err, "unknown role");
    if ((unsigned)specialty >= AUTH_SPECIALTY_COUNT)
        return auth_fail(err, "unknown specialty");
    if (check_id(id, err) != 0 || check_display_name(display_name, err) != 0)
        return -1;
    if (role != AUTH_ROLE_COUNSELLOR && specialty != AUTH_SPECIALTY_NONE)
        return auth_fail(err, "only counsellors have a specialty (%s has %s)",
                         role_names[role], specialty_names[specialty]);
    if (role != AUTH_ROLE_COUNSELLOR && is_lead)
        return auth_fail(err, "only a counsellor can lead a session (not a %s)",
                         role_names[role]);
    auth_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.display_name, sizeof p.display_name, "%s", display_name);
    p.role = role;
    p.specialty = specialty;
    p.is_lead = is_lead;
    *out = p;
    return 0;
}

bool auth_principal_may_write(const auth_principal *who)
{
    return who && (who->role == AUTH_ROLE_CLIENT || who->role == AUTH_ROLE_COUNSELLOR);
}
