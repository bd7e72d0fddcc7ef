/*
 * Principals: the invariants auth_principal_init keeps (who may have a specialty, who
 * may lead, what an id and a display name may hold), the wire names of roles and
 * specialties, and who may write at all.
 */
#include <string.h>

#include "auth/access_rules.h"
#include "auth/principal.h"
#include "unit.h"

static int make(auth_principal *p, const char *id, const char *name, auth_role role,
                auth_specialty s, bool is_lead)
{
    auth_error err = {{0}};
    return auth_principal_init(p, id, name, role, s, is_lead, &err);
}

static void valid_principals(void)
{
    auth_principal p;
    CHECK(make(&p, "6f1c2a9e-0b7d-4c1e-9a53-2f8e7d6c5b4a", "Frau M\xc3\xbcller",
               AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, true) == 0);
    CHECK_STR(p.display_name, "Frau M\xc3\xbcller");
    CHECK(p.role == AUTH_ROLE_COUNSELLOR && p.specialty == AUTH_SPECIALTY_DEBT && p.is_lead);
    CHECK(make(&p, "c-1", "Sonnenblume", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == 0);
    CHECK(make(&p, "g-1", "General", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_NONE, false) == 0);
    CHECK(make(&p, "s-1", "Supervision", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false) == 0);
}

static void invalid_principals_leave_the_output_alone(void)
{
    auth_principal p;
    memset(&p, 0x5a, sizeof p);
    auth_principal before = p;
    CHECK(make(&p, "c-1", "C", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_DEBT, false) == -1);
    CHECK(make(&p, "c-1", "C", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, true) == -1);
    CHECK(make(&p, "s-1", "S", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, true) == -1);
    CHECK(make(&p, "s-1", "S", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_FAMILY, false) == -1);
    CHECK(make(&p, "a-1", "A", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, true) == -1);
    CHECK(make(&p, "", "X", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, NULL, "X", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "id with space", "X", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "id\"quote", "X", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    char long_id[AUTH_ID_MAX + 1];
    memset(long_id, 'a', AUTH_ID_MAX);
    long_id[AUTH_ID_MAX] = '\0';
    CHECK(make(&p, long_id, "X", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "c-1", "", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "c-1", "bad\xff", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "c-1", "line\nbreak", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    char long_name[AUTH_DISPLAY_NAME_MAX + 1];
    memset(long_name, 'n', AUTH_DISPLAY_NAME_MAX);
    long_name[AUTH_DISPLAY_NAME_MAX] = '\0';
    CHECK(make(&p, "c-1", long_name, AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "c-1", "C", (auth_role)9, AUTH_SPECIALTY_NONE, false) == -1);
    CHECK(make(&p, "c-1", "C", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_COUNT, false) == -1);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
    long_name[AUTH_DISPLAY_NAME_MAX - 1] = '\0';
    CHECK(make(&p, "c-1", long_name, AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == 0);
}

static void names_round_trip(void)
{
    for (int r = AUTH_ROLE_CLIENT; r <= AUTH_ROLE_ADMIN; r++) {
        auth_role back;
        CHECK(auth_role_parse(auth_role_name((auth_role)r), &back) == 0 && back == (auth_role)r);
    }
    for (int s = AUTH_SPECIALTY_NONE; s < AUTH_SPECIALTY_COUNT; s++) {
        auth_specialty back;
        CHECK(auth_specialty_parse(auth_specialty_name((auth_specialty)s), &back) == 0 &&
              back == (auth_specialty)s);
    }
    auth_role r;
    auth_specialty s;
    CHECK(auth_role_parse("Counsellor", &r) == -1);
    CHECK(auth_role_parse("counselor", &r) == -1);
    CHECK(auth_role_parse(NULL, &r) == -1);
    CHECK(auth_specialty_parse("social-law", &s) == -1);
    CHECK_STR(auth_specialty_name(AUTH_SPECIALTY_SOCIAL_LAW), "social_law");
}

static void who_writes_and_matches(void)
{
    auth_principal client, lead, supervisor, admin;
    CHECK(make(&client, "c", "c", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false) == 0);
    CHECK(make(&lead, "l", "l", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_FAMILY, true) == 0);
    CHECK(make(&supervisor, "s", "s", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false) == 0);
    CHECK(make(&admin, "a", "a", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false) == 0);
    CHECK(auth_principal_may_write(&client) && auth_principal_may_write(&lead));
    CHECK(!auth_principal_may_write(&supervisor) && !auth_principal_may_write(&admin));
    CHECK(!auth_principal_may_write(NULL));
    CHECK(access_principal_set(&client) == ACCESS_CLIENT);
    CHECK(access_principal_set(&lead) ==
          (ACCESS_COUNSELLOR | ACCESS_LEAD | ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_FAMILY)));
    CHECK(access_principal_set(&supervisor) == ACCESS_SUPERVISOR);
    CHECK(access_principal_set(&admin) == 0);
}

int main(void)
{
    RUN(valid_principals);
    RUN(invalid_principals_leave_the_output_alone);
    RUN(names_round_trip);
    RUN(who_writes_and_matches);
    return unit_finish("test_auth_principal");
}
