/*
 * Networks for --metrics-allow (auth/netmask.h): parsing and its refusals, membership
 * of IPv4, IPv6 and IPv4-mapped addresses, prefixes that are not whole bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "auth/netmask.h"
#include "unit.h"

static bool match(const auth_netmasks *l, const char *addr)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;

    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        return auth_netmask_match(l, (struct sockaddr *)&a4);
    }
    if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        return auth_netmask_match(l, (struct sockaddr *)&a6);
    }
    return false;
}

static void loopback_default(void)
{
    auth_netmasks l;
    auth_error err = {{0}};

    CHECK(auth_netmask_parse("127.0.0.0/8, ::1", &l, &err) == 0);
    CHECK(l.n == 2);
    CHECK(match(&l, "127.0.0.1"));
    CHECK(match(&l, "127.255.0.9"));
    CHECK(match(&l, "::1"));
    CHECK(match(&l, "::ffff:127.0.0.1"));
    CHECK(!match(&l, "128.0.0.1"));
    CHECK(!match(&l, "10.0.0.1"));
    CHECK(!match(&l, "::2"));
    CHECK(!match(&l, "::ffff:10.0.0.1"));
}

static void odd_prefixes(void)
{
    auth_netmasks l;
    auth_error err = {{0}};

    CHECK(auth_netmask_parse("10.1.64.0/18,fd00:1:2::/48,192.0.2.7", &l, &err) == 0);
    CHECK(match(&l, "10.1.64.0"));
    CHECK(match(&l, "10.1.127.255"));
    CHECK(!match(&l, "10.1.128.0"));
    CHECK(!match(&l, "10.1.63.255"));
    CHECK(match(&l, "fd00:1:2:ffff::1"));
    CHECK(!match(&l, "fd00:1:3::1"));
    CHECK(match(&l, "192.0.2.7"));
    CHECK(!match(&l, "192.0.2.8"));
    CHECK(auth_netmask_parse("0.0.0.0/0", &l, &err) == 0);
    CHECK(match(&l, "203.0.113.5"));
    CHECK(!match(&l, "::1"));
}

static void refusals(void)
{
    auth_netmasks l;
    const char *bad[] = {"", "localhost", "127.0.0.1/33", "::1/129", "10.0.0.1/8",
                         "127.0.0.1/", "127.0.0.1/x", "10.0.0.0/8,,::1", "1.2.3"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        auth_error err = {{0}};
        CHECK(auth_netmask_parse(bad[i], &l, &err) == -1);
        CHECK(err.message[0] != '\0');
    }
    auth_error err = {{0}};
    CHECK(auth_netmask_parse("10.0.0.1/8", &l, &err) == -1);
    CHECK(strstr(err.message, "host bits") != NULL);
}

int main(void)
{
    RUN(loopback_default);
    RUN(odd_prefixes);
    RUN(refusals);
    return unit_finish("test_auth_netmask");
}
