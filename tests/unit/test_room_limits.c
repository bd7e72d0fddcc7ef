/*
 * Unit tests of the room's limits against the in-memory environment of room_fixture.h:
 * every message against the output bound (shared snapshot replies), ops too far behind
 * the document, sizes and growth budgets, rooms per principal, presence ids bound to
 * their connection.
 */
#include "room_fixture.h"

/* Every message counts against the bound, replies included: a snapshot reply is one
 * message shared by every member that asks; one larger than the bound still goes out
 * alone, and a second on top of it closes the connection. */
static void test_output_bound(void)
{
    room_set *s = make_set(100, 200);
    room_peer a, b, c;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    room_peer_init(&c, "carol", "sc");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"t\":\"0123456789\"}}}");
    finish_load();
    flush();
    drain(&a);
    request(s, &b, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    request(s, &c, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(room_outq_head(&b.outq) && room_outq_head(&b.outq) == room_outq_head(&c.outq));
    /* b asks again and again without reading: 2 x 70 bytes pass, the third does not */
    request(s, &b, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(!b.dead && b.outq.count == 2);
    request(s, &b, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(b.dead && fk.n_killed == 1 && fk.killed[0] == &b);
    CHECK(b.outq.count == 0);       /* what it did not read is dropped at once */
    CHECK(!c.dead);
    room_peer_detach(s, &a);
    room_peer_detach(s, &b);
    room_peer_detach(s, &c);
    room_set_free(s);

    /* A bound smaller than one reply: the reply alone goes out, anything more closes. */
    s = make_set(100, 20);
    room_peer_init(&a, "alice", "sa");
    request(s, &a, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    finish_load();
    CHECK(!a.dead && a.outq.count == 1);
    request(s, &a, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(a.dead);
    room_peer_detach(s, &a);
    room_set_free(s);
}

static double spent;
static void hook_spend(void *ctx, room_peer *p, double ops)
{
    (void)ctx;
    (void)p;
    spent += ops;
}

/* An op too far behind is refused before any transform; one within the lag is charged
 * for the versions it crosses. */
static void test_op_lag(void)
{
    room_config lim = {.max_op_lag = 150};
    room_env hooks = {.spend = hook_spend};
    room_set *s = make_set_with(200, 1 << 20, &lim, &hooks);
    room_peer a;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"n\":0}}}");
    finish_load();
    flush();
    drain(&a);
    for (int v = 1; v <= 199; v++) {
        char op[160];
        snprintf(op, sizeof op, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":%d,"
                 "\"seq\":%d,\"op\":[{\"p\":[\"n\"],\"na\":1}]}", v, v + 1);
        request(s, &a, op);
    }
    flush();
    drain(&a);
    spent = 0;
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":49,\"seq\":500,"
                   "\"op\":[{\"p\":[\"n\"],\"na\":1}]}");
    CHECK(fk.n_commits == 0);
    j = expect(&a, "op", 49);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), PROTO_ERR_TOO_OLD);
    cJSON_Delete(j);
    CHECK(spent == 0);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":50,\"seq\":501,"
                   "\"op\":[{\"p\":[\"n\"],\"na\":1}]}");
    CHECK(fk.n_commits == 1);
    CHECK(spent == 1.5);        /* 150 versions crossed: one and a half ops more */
    flush();
    room_peer_detach(s, &a);
    room_set_free(s);
}

static size_t grown;
static void hook_limits(void *ctx, void *policy, const char *author, room_limits *out)
{
    (void)ctx;
    (void)policy;
    memset(out, 0, sizeof *out);
    out->doc.sheet = 60;
    out->doc.item = 20;
    out->doc.string = 30;
    out->doc.has_grow = 1;
    out->doc.grow = strcmp(author, "alice") == 0 ? 1000 : 8 - (grown < 8 ? grown : 8);
    out->budget = 8;
    out->window_ms = 60000;
    out->retry_ms = 1500;
}

static void hook_grew(void *ctx, void *policy, const char *author, size_t bytes)
{
    (void)ctx;
    (void)policy;
    if (strcmp(author, "bob") == 0)
        grown += bytes;
}

/* Sizes and growth: each refusal names its limit, and nothing changes. */
static void test_size_limits(void)
{
    room_env hooks = {.limits = hook_limits, .grew = hook_grew};
    room_set *s = make_set_with(100, 1 << 20, NULL, &hooks);
    room_peer a, b;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"l\":[],\"s\":\"\"}}}");
    finish_load();
    flush();
    drain(&a);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":2,"
                   "\"op\":[{\"p\":[\"l\",0],\"li\":\"0123456789012345678901\"}]}");
    j = expect(&a, "op", 1);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), PROTO_ERR_REJECTED);
    CHECK(strstr(str(cJSON_GetObjectItem(j, "error"), "message"), "item size limit") != NULL);
    cJSON_Delete(j);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":3,"
                   "\"op\":[{\"p\":[\"s\",0],\"si\":\"0123456789012345678901234567890\"}]}");
    j = expect(&a, "op", 1);
    CHECK(strstr(str(cJSON_GetObjectItem(j, "error"), "message"), "string size limit") != NULL);
    cJSON_Delete(j);
    /* bob may add 8 bytes: 5 pass, the next 5 do not */
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":1,"
                   "\"op\":[{\"p\":[\"s\",0],\"si\":\"abcde\"}]}");
    flush();
    drain(&b);
    CHECK(grown == 5);
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":2,\"seq\":2,"
                   "\"op\":[{\"p\":[\"s\",0],\"si\":\"fghij\"}]}");
    j = expect(&b, "op", 2);
    CHECK(strstr(str(cJSON_GetObjectItem(j, "error"), "message"), "append budget: the op adds 5 "
                 "bytes, 3 left of 8 per 60 s") != NULL);
    CHECK(strstr(str(cJSON_GetObjectItem(j, "error"), "message"), "again in 2 s") != NULL);
    cJSON_Delete(j);
    /* the sheet: 60 bytes; it is 21, three items would make it 77 */
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":2,\"seq\":4,"
                   "\"op\":[{\"p\":[\"l\",0],\"li\":\"0123456789abcdef\"},"
                   "{\"p\":[\"l\",1],\"li\":\"0123456789abcdef\"},"
                   "{\"p\":[\"l\",2],\"li\":\"0123456789abcdef\"}]}");
    j = expect(&a, "op", 2);
    CHECK(strstr(str(cJSON_GetObjectItem(j, "error"), "message"), "sheet size limit") != NULL);
    cJSON_Delete(j);
    CHECK(fk.n_commits == 0);
    check_fetch(s, &a, "{\"v\":2,\"data\":{\"l\":[],\"s\":\"abcde\"}}");
    room_peer_detach(s, &a);
    room_peer_detach(s, &b);
    room_set_free(s);
}

/* One principal's requests keep at most max_rooms_principal rooms: its idle ones go
 * first, then it is refused while others still get rooms. */
static void test_rooms_per_principal(void)
{
    room_config lim = {.max_rooms_principal = 2};
    room_set *s = make_set_with(100, 1 << 20, &lim, NULL);
    room_peer a, b;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    /* fetched, not subscribed: idle at once, so they make way */
    for (int i = 0; i < 5; i++) {
        char f[80];
        snprintf(f, sizeof f, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"x%d\"}", i);
        request(s, &a, f);
        finish_load();
        cJSON_Delete(expect(&a, "f", -1));
    }
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d1\"}");
    finish_load();
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d2\"}");
    finish_load();
    drain(&a);
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d3\"}");
    j = expect(&a, "s", -1);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), PROTO_ERR_LIMIT);
    cJSON_Delete(j);
    request(s, &b, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d3\"}");
    finish_load();
    j = expect(&b, "s", -1);
    CHECK(cJSON_GetObjectItem(j, "error") == NULL);
    cJSON_Delete(j);
    /* d3 is bob's room now: alice may use it, it is not hers */
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d3\"}");
    j = expect(&a, "s", -1);
    CHECK(cJSON_GetObjectItem(j, "error") == NULL);
    cJSON_Delete(j);
    room_peer_detach(s, &a);
    room_peer_detach(s, &b);
    room_set_free(s);
}

/* A presence id belongs to the connection that set it: another principal can neither
 * move nor erase it; the same principal's new connection takes it over. */
static void test_presence_ids(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer lead, lead2, client, obs;
    cJSON *j;

    room_peer_init(&lead, "lea", "s1");
    room_peer_init(&lead2, "lea", "s2");
    room_peer_init(&client, "kim", "s3");
    room_peer_init(&obs, "otto", "s4");
    request(s, &obs, "{\"a\":\"ps\",\"ch\":\"d\",\"seq\":1}");
    finish_load();
    request(s, &lead, "{\"a\":\"p\",\"ch\":\"d\",\"id\":\"cur\",\"p\":{\"i\":1},\"pv\":1}");
    drain(&obs);
    drain(&lead);
    request(s, &client, "{\"a\":\"p\",\"ch\":\"d\",\"id\":\"cur\",\"p\":{\"i\":9},\"pv\":7}");
    request(s, &client, "{\"a\":\"p\",\"ch\":\"d\",\"id\":\"cur\",\"p\":null,\"pv\":8}");
    for (int i = 0; i < 2; i++) {
        j = expect(&client, "p", -1);
        CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), PROTO_ERR_FORBIDDEN);
        cJSON_Delete(j);
    }
    CHECK(room_outq_head(&obs.outq) == NULL);   /* relayed to nobody */
    /* the lead's own new connection takes its id over */
    request(s, &lead2, "{\"a\":\"p\",\"ch\":\"d\",\"id\":\"cur\",\"p\":{\"i\":2},\"pv\":2}");
    j = expect(&obs, "p", -1);
    CHECK_STR(str(j, "src"), "s2");
    cJSON_Delete(j);
    room_peer_detach(s, &lead);         /* the old connection leaves: nothing to announce */
    CHECK(room_outq_head(&obs.outq) == NULL);
    room_peer_detach(s, &lead2);
    j = expect(&obs, "p", -1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "p")));
    cJSON_Delete(j);
    room_peer_detach(s, &client);
    room_peer_detach(s, &obs);
    room_set_free(s);
}

int main(void)
{
    RUN(test_output_bound);
    RUN(test_op_lag);
    RUN(test_size_limits);
    RUN(test_rooms_per_principal);
    RUN(test_presence_ids);
    fixture_free();
    return unit_finish("test_room_limits");
}
