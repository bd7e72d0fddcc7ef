/*
 * Connection quotas (auth/quota.h): pending connections per address and in all,
 * WebSockets per principal, per address and in all, handshake deadlines, and that
 * closing releases exactly what was counted.
 */
#include <stdio.h>
#include <string.h>

#include "auth/quota.h"
#include "unit.h"

static const auth_quota_config cfg = {
    .max_pending = 10, .max_pending_addr = 4,
    .max_conns = 8, .max_conns_addr = 5, .max_conns_principal = 3,
    .handshake_ms = 10000,
};

static void pending_per_address_and_in_all(void)
{
    auth_quota *q = auth_quota_new(&cfg);
    auth_quota_conn *c[12];
    auth_quota_verdict why;
    char addr[32];

    for (int i = 0; i < 4; i++)
        CHECK((c[i] = auth_quota_accept(q, "10.0.0.66", 0, &why)) && why == AUTH_QUOTA_OK);
    CHECK(!auth_quota_accept(q, "10.0.0.66", 0, &why) && why == AUTH_QUOTA_PENDING_ADDR);
    /* Others still get in, up to the server's limit. */
    for (int i = 4; i < 10; i++) {
        snprintf(addr, sizeof addr, "10.0.1.%d", i);
        CHECK((c[i] = auth_quota_accept(q, addr, 0, &why)) != NULL);
    }
    CHECK(auth_quota_pending(q) == 10);
    CHECK(!auth_quota_accept(q, "10.0.2.1", 0, &why) && why == AUTH_QUOTA_PENDING_FULL);
    /* Closing one frees its place. */
    auth_quota_close(q, c[0]);
    CHECK((c[0] = auth_quota_accept(q, "10.0.0.66", 0, &why)) != NULL);
    for (int i = 0; i < 10; i++)
        auth_quota_close(q, c[i]);
    CHECK(auth_quota_pending(q) == 0);
    auth_quota_free(q);
}

static void websockets_per_principal_address_and_in_all(void)
{
    auth_quota *q = auth_quota_new(&cfg);
    auth_quota_conn *c[16];
    size_t pending, ws;
    int n = 0;

    /* One principal: three WebSockets, the fourth upgrade is refused and stays pending. */
    for (int i = 0; i < 4; i++) {
        auth_quota_verdict why;
        c[n] = auth_quota_accept(q, "10.0.0.1", 0, &why);
        CHECK(c[n] != NULL);
        CHECK(auth_quota_upgrade(q, c[n], "client-a") ==
              (i < 3 ? AUTH_QUOTA_OK : AUTH_QUOTA_CONNS_PRINCIPAL));
        n++;
    }
    auth_quota_of_addr(q, "10.0.0.1", &pending, &ws);
    CHECK(pending == 1 && ws == 3);
    auth_quota_close(q, c[--n]);
    /* The same address, other principals: five WebSockets for the address in all. */
    for (int i = 0; i < 3; i++) {
        auth_quota_verdict why;
        char who[16];
        snprintf(who, sizeof who, "client-%c", 'b' + i);
        c[n] = auth_quota_accept(q, "10.0.0.1", 0, &why);
        CHECK(auth_quota_upgrade(q, c[n], who) == (i < 2 ? AUTH_QUOTA_OK : AUTH_QUOTA_CONNS_ADDR));
        n++;
    }
    auth_quota_close(q, c[--n]);
    /* Other addresses fill the server: eight in all. */
    for (int i = 0; i < 4; i++) {
        auth_quota_verdict why;
        char addr[32], who[32];
        snprintf(addr, sizeof addr, "10.0.3.%d", i);
        snprintf(who, sizeof who, "p%d", i);
        c[n] = auth_quota_accept(q, addr, 0, &why);
        CHECK(auth_quota_upgrade(q, c[n], who) == (i < 3 ? AUTH_QUOTA_OK : AUTH_QUOTA_CONNS_FULL));
        n++;
    }
    CHECK(auth_quota_websockets(q) == 8);
    /* An upgrade counted once, whatever is asked again. */
    CHECK(auth_quota_upgrade(q, c[0], "client-a") == AUTH_QUOTA_OK);
    CHECK(auth_quota_websockets(q) == 8);
    while (n)
        auth_quota_close(q, c[--n]);
    CHECK(auth_quota_websockets(q) == 0 && auth_quota_pending(q) == 0);
    auth_quota_of_addr(q, "10.0.0.1", &pending, &ws);
    CHECK(pending == 0 && ws == 0);
    auth_quota_free(q);
}

static void handshake_deadlines(void)
{
    auth_quota *q = auth_quota_new(&cfg);
    auth_quota_verdict why;
    auth_quota_conn *slow = auth_quota_accept(q, "10.0.0.7", 1000, &why);
    auth_quota_conn *quick = auth_quota_accept(q, "10.0.0.8", 2000, &why);
    auth_quota_conn *ws = auth_quota_accept(q, "10.0.0.9", 3000, &why);
    auth_quota_conn *post = auth_quota_accept(q, "10.0.0.10", 4000, &why);
    int a = 1, b = 2, d = 3, e = 4;

    auth_quota_set_owner(slow, &a);
    auth_quota_set_owner(quick, &b);
    auth_quota_set_owner(ws, &d);
    auth_quota_set_owner(post, &e);
    auth_quota_request(q, quick, false, 2500);  /* a GET, complete: no deadline */
    CHECK(auth_quota_upgrade(q, ws, "w") == AUTH_QUOTA_OK);
    auth_quota_request(q, post, true, 4500);    /* a POST: its body must come in time */
    CHECK(auth_quota_expired(q, 10999) == NULL);
    CHECK(auth_quota_expired(q, 11000) == &a);  /* 10 s after its accept */
    CHECK(auth_quota_expired(q, 11000) == NULL);    /* once */
    CHECK(auth_quota_expired(q, 13999) == NULL);
    CHECK(auth_quota_expired(q, 14000) == &e);  /* the deadline of its accept still holds */
    /* A keep-alive connection's next request with a body: the deadline runs from then. */
    auth_quota_request(q, quick, true, 20000);
    CHECK(auth_quota_expired(q, 29999) == NULL);
    auth_quota_complete(q, quick);
    CHECK(auth_quota_expired(q, 40000) == NULL);
    auth_quota_close(q, slow);
    auth_quota_close(q, quick);
    auth_quota_close(q, ws);
    auth_quota_close(q, post);
    auth_quota_free(q);
}

int main(void)
{
    RUN(pending_per_address_and_in_all);
    RUN(websockets_per_principal_address_and_in_all);
    RUN(handshake_deadlines);
    return unit_finish("test_auth_quota");
}
