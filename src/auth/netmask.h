/*
 * Who may read /metrics: a list of networks (CIDR notation, IPv4 and IPv6), parsed from
 * --metrics-allow, and whether a peer's address lies in one of them. Pure: no sockets of
 * its own, no state. An IPv4 peer seen as an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * matches the IPv4 networks.
 */
#ifndef KONSIL_AUTH_NETMASK_H
#define KONSIL_AUTH_NETMASK_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "auth/auth_error.h"

#define AUTH_NETMASK_MAX 32

typedef struct auth_netmask {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* network address (4 or 16 bytes used), host bits zero */
    int bits;                   /* prefix length */
} auth_netmask;

typedef struct auth_netmasks {
    auth_netmask m[AUTH_NETMASK_MAX];
    size_t n;
} auth_netmasks;

/* "127.0.0.0/8,::1" (commas, blanks around them; an address without /N is one host).
 * Refused: an address that does not parse, a prefix beyond the family's width, host
 * bits set below the prefix, more than AUTH_NETMASK_MAX networks, an empty list. 0 or -1
 * with *err. */
int auth_netmask_parse(const char *text, auth_netmasks *out, auth_error *err);

/* Whether sa (AF_INET or AF_INET6) lies in one of the networks. */
bool auth_netmask_match(const auth_netmasks *list, const struct sockaddr *sa);

#endif
