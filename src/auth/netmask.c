/*
 * Networks and membership (see netmask.h).
 */
#include "auth/netmask.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(const char *s, size_t len, auth_netmask *m, auth_error *err)
{
    char text[64], *slash;
    int width, bits;

    if (len == 0 || len >= sizeof text)
        return auth_fail(err, "'%.*s' is no network", (int)(len < 60 ? len : 60), s);
    memcpy(text, s, len);
    text[len] = '\0';
    slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    memset(m, 0, sizeof *m);
    if (inet_pton(AF_INET, text, m->addr) == 1) {
        m->family = AF_INET;
        width = 32;
    } else if (inet_pton(AF_INET6, text, m->addr) == 1) {
        m->family = AF_INET6;
        width = 128;
    } else {
        return auth_fail(err, "'%s' is no IPv4 or IPv6 address", text);
    }
    bits = width;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > width)
            return auth_fail(err, "'%s/%s': the prefix must be 0 to %d", text, slash + 1,
                             width);
        bits = (int)b;
    }
    m->bits = bits;
    for (int i = bits; i < width; i++)
        if (m->addr[i / 8] & (0x80 >> (i % 8)))
            return auth_fail(err, "'%s/%d' has host bits set (did you mean a network?)",
                             text, bits);
    return 0;
}

int auth_netmask_parse(const char *text, auth_netmasks *out, auth_error *err)
{
    const char *p = text;

    out->n = 0;
    for (;;) {
        const char *end = strchr(p, ','), *a = p, *b = end ? end : p + strlen(p);
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (out->n == AUTH_NETMASK_MAX)
            return auth_fail(err, "more than %d networks", AUTH_NETMASK_MAX);
        if (parse_one(a, (size_t)(b - a), &out->m[out->n], err) != 0)
            return -1;
        out->n++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

static bool in(const auth_netmask *m, const unsigned char *addr)
{
    int full = m->bits / 8, rest = m->bits % 8;

    if (memcmp(m->addr, addr, (size_t)full) != 0)
        return false;
    return rest == 0 || ((m->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool auth_netmask_match(const auth_netmasks *list, const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const unsigned char *v4 = NULL, *v6 = NULL;

    if (sa->sa_family == AF_INET) {
        v4 = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        v6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(v6, mapped, sizeof mapped) == 0)
            v4 = v6 + 12;
    }
    for (size_t i = 0; i < list->n; i++) {
        const auth_netmask *m = &list->m[i];
        if ((m->family == AF_INET && v4 && in(m, v4)) ||
            (m->family == AF_INET6 && v6 && in(m, v6)))
            return true;
    }
    return false;
}
