/*
 * Unit tests for src/room against an in-memory environment (room_fixture.h): fan-out
 * after commit only, no echo to the author, acks, deferred snapshots, transform of stale
 * ops, duplicate detection on (principal, src, seq), catch-up and stale submits from the
 * store, a room loaded with ops in its tail, slow consumers, presence, when the document
 * is stored with an op (milestones), a document's creation and deletion. The limits are
 * in test_room_limits.c.
 */
#include "room_fixture.h"

static void test_fanout_after_commit(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a, b;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    request(s, &b, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(room_outq_head(&a.outq) == NULL);     /* nothing while loading */
    finish_load();
    j = expect(&a, "s", -1);
    CHECK(num(cJSON_GetObjectItem(j, "data"), "v") == 0);
    cJSON_Delete(j);
    drain(&b);

    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"t\":\"\"}}}");
    CHECK(fk.n_commits == 1);
    CHECK(room_outq_head(&a.outq) == NULL);     /* no ack before the commit */
    CHECK(room_outq_head(&b.outq) == NULL);     /* no broadcast before the commit */
    flush();
    j = expect(&a, "op", 0);
    CHECK(!cJSON_GetObjectItem(j, "create"));   /* an ack, not an echo */
    CHECK_STR(str(j, "src"), "sa");
    cJSON_Delete(j);
    CHECK(room_outq_head(&a.outq) == NULL);
    j = expect(&b, "op", 0);
    CHECK(cJSON_GetObjectItem(j, "create") != NULL);
    CHECK_STR(str(j, "src"), "alice/sa");     /* qualified for another principal */
    cJSON_Delete(j);
    CHECK(room_set_uncommitted(s) == 0);

    room_peer_detach(s, &a);
    room_peer_detach(s, &b);
    room_set_free(s);
}

static void test_deferred_snapshot(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a, c;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&c, "carol", "sc");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"n\":1}}}");
    finish_load();
    /* Carol asks while the create is applied but not durable: she waits for it. */
    request(s, &c, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    CHECK(room_outq_head(&c.outq) == NULL);
    flush();
    j = expect(&c, "s", -1);
    CHECK(num(cJSON_GetObjectItem(j, "data"), "v") == 1);
    cJSON_Delete(j);
    CHECK(room_outq_head(&c.outq) == NULL);     /* the create is in the snapshot */
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":2,"
                   "\"op\":[{\"p\":[\"n\"],\"na\":2}]}");
    flush();
    cJSON_Delete(expect(&c, "op", 1));
    drain(&a);
    room_peer_detach(s, &a);
    room_peer_detach(s, &c);
    room_set_free(s);
}

static void test_transform_and_duplicates(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a, b, m;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    room_peer_init(&m, "mallory", "sb");    /* claims bob's src */
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"t\":\"ab\"}}}");
    finish_load();
    flush();
    drain(&a);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":2,"
                   "\"op\":[{\"p\":[\"t\",1],\"si\":\"A\"}]}");
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":1,"
                   "\"op\":[{\"p\":[\"t\",1],\"si\":\"B\"}]}");
    flush();
    drain(&a);
    /* Bob was not subscribed: the op he missed comes first, then his ack at v2. */
    cJSON_Delete(expect(&b, "op", 1));
    j = expect(&b, "op", 2);
    CHECK(num(j, "seq") == 1);
    cJSON_Delete(j);
    /* Bob resends (lost ack): acked at v2 again, applied once. */
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":1,\"src\":\"sb\","
                   "\"op\":[{\"p\":[\"t\",1],\"si\":\"B\"}]}");
    CHECK(fk.n_commits == 0);
    cJSON_Delete(expect(&b, "op", 1));
    cJSON_Delete(expect(&b, "op", 2));
    /* Mallory's op with bob's src and seq is hers, not a duplicate. */
    request(s, &m, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":1,\"src\":\"sb\","
                   "\"op\":[{\"p\":[\"t\",0],\"si\":\"M\"}]}");
    CHECK(fk.n_commits == 1);
    flush();
    /* Bob's insert was transformed (left side) against Alice's at the same place. */
    check_fetch(s, &b, "{\"v\":4,\"data\":{\"t\":\"MaBAb\"}}");
    /* A version from the future is refused and changes nothing. */
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":9,\"seq\":5,"
                   "\"op\":[{\"p\":[\"t\",0],\"si\":\"Z\"}]}");
    j = expect(&b, "op", 9);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), PROTO_ERR_NEWER);
    cJSON_Delete(j);
    CHECK(fk.n_commits == 0);
    drain(&m);
    room_peer_detach(s, &a);
    room_peer_detach(s, &b);
    room_peer_detach(s, &m);
    room_set_free(s);
}

static void test_history_from_store(void)
{
    room_set *s = make_set(2, 1 << 20);
    room_peer a, late;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&late, "lena", "sl");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"l\":[]}}}");
    finish_load();
    for (int i = 0; i < 9; i++) {
        char op[160];
        snprintf(op, sizeof op, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":%d,\"seq\":%d,"
                 "\"op\":[{\"p\":[\"l\",%d],\"li\":%d}]}", i + 1, i + 2, i, i);
        request(s, &a, op);
        flush();
    }
    drain(&a);
    /* The tail holds 2 ops; versions 1.. come from the store in chunks of 3. */
    request(s, &late, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\",\"v\":1}");
    CHECK(fk.n_reads == 1 && fk.reads[0].purpose == ROOM_READ_CATCHUP);
    serve_reads();
    for (int64_t v = 1; v < 10; v++)
        cJSON_Delete(expect(&late, "op", v));
    cJSON_Delete(expect(&late, "s", -1));
    /* An op based on version 2 is transformed across ops read back from the store. */
    request(s, &late, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":2,\"seq\":1,"
                      "\"op\":[{\"p\":[\"l\",0],\"li\":\"x\"}]}");
    CHECK(fk.n_reads == 1 && fk.reads[0].purpose == ROOM_READ_SUBMIT);
    serve_reads();
    CHECK(fk.n_commits == 1 && fk.commits[0]->v == 10);
    flush();
    j = expect(&late, "op", 10);
    CHECK(num(j, "seq") == 1);
    cJSON_Delete(j);
    CHECK(room_outq_head(&a.outq) == NULL);   /* alice never subscribed */
    room_peer_detach(s, &a);
    room_peer_detach(s, &late);
    room_set_free(s);
}

/* A room loaded with ops in its tail keeps them as text: a stale submit is transformed
 * against them and a catch-up streams them, for the author's principal and for others. */
static void test_loaded_tail(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a, a2, b;
    entry saved[3];
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"t\":\"ab\"}}}");
    finish_load();
    flush();
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":2,"
                   "\"op\":[{\"p\":[\"t\",1],\"si\":\"A\"}]}");
    flush();
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":2,\"seq\":3,"
                   "\"op\":[{\"p\":[\"t\",0],\"si\":\"C\"}]}");
    flush();
    drain(&a);
    room_peer_detach(s, &a);
    room_set_free(s);
    CHECK(fk.n_log == 3);
    memcpy(saved, fk.log, sizeof saved);
    for (int i = 0; i < 3; i++)
        saved[i].text = strdup(fk.log[i].text);

    /* The same log, loaded by a fresh room set. */
    s = make_set(100, 1 << 20);
    memcpy(fk.log, saved, sizeof saved);
    fk.n_log = 3;
    room_peer_init(&a2, "alice", "sa2");
    room_peer_init(&b, "bob", "sb");
    request(s, &b, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":1,"
                   "\"op\":[{\"p\":[\"t\",1],\"si\":\"B\"}]}");
    finish_load();
    CHECK(fk.n_reads == 0);
    flush();
    j = expect(&b, "op", 1);
    CHECK_STR(str(j, "src"), "alice/sa");
    cJSON_Delete(j);
    cJSON_Delete(expect(&b, "op", 2));
    j = expect(&b, "op", 3);
    CHECK(num(j, "seq") == 1);
    cJSON_Delete(j);
    request(s, &a2, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\",\"v\":1}");
    j = expect(&a2, "op", 1);
    CHECK_STR(str(j, "src"), "sa");
    CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "op"), 0), "si"), "A");
    cJSON_Delete(j);
    cJSON_Delete(expect(&a2, "op", 2));
    cJSON_Delete(expect(&a2, "op", 3));
    cJSON_Delete(expect(&a2, "s", -1));
    check_fetch(s, &b, "{\"v\":4,\"data\":{\"t\":\"CaBAb\"}}");
    drain(&a2);
    drain(&b);
    room_peer_detach(s, &a2);
    room_peer_detach(s, &b);
    room_set_free(s);
}

static void test_slow_consumer(void)
{
    room_set *s = make_set(100, 600);
    room_peer a, slow;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&slow, "sam", "ss");
    request(s, &slow, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    finish_load();
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"n\":0}}}");
    flush();
    for (int i = 1; i < 20 && !fk.n_killed; i++) {
        char op[128];
        snprintf(op, sizeof op, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":%d,\"seq\":%d,"
                 "\"op\":[{\"p\":[\"n\"],\"na\":1}]}", i, i + 1);
        request(s, &a, op);
        flush();
        drain(&a);
    }
    CHECK(fk.n_killed == 1 && fk.killed[0] == &slow);
    CHECK(slow.dead);
    CHECK(a.dead == 0);
    room_peer_detach(s, &a);
    room_peer_detach(s, &slow);
    room_set_free(s);
}

static void test_presence(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a, b;
    cJSON *j;

    room_peer_init(&a, "alice", "sa");
    room_peer_init(&b, "bob", "sb");
    /* Presence on channel d is ordered by room d: it waits for the room's load. */
    request(s, &a, "{\"a\":\"ps\",\"ch\":\"d\",\"seq\":1}");
    request(s, &b, "{\"a\":\"ps\",\"ch\":\"d\",\"seq\":1}");
    CHECK(room_outq_head(&a.outq) == NULL && room_outq_head(&b.outq) == NULL);
    finish_load();
    cJSON_Delete(expect(&a, "ps", -1));
    cJSON_Delete(expect(&a, "pr", -1));      /* bob joined: alice is asked to re-send */
    cJSON_Delete(expect(&b, "ps", -1));
    request(s, &a, "{\"a\":\"p\",\"ch\":\"d\",\"id\":\"cur\",\"p\":{\"i\":1},\"pv\":0}");
    j = expect(&b, "p", -1);
    CHECK_STR(str(j, "src"), "sa");
    CHECK_STR(str(cJSON_GetObjectItem(j, "u"), "id"), "alice");
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "p")));
    cJSON_Delete(j);
    cJSON_Delete(expect(&a, "p", -1));       /* the echo acknowledges */
    room_peer_detach(s, &a);
    j = expect(&b, "p", -1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "p")));
    CHECK_STR(str(j, "id"), "cur");
    cJSON_Delete(j);
    room_peer_detach(s, &b);
    room_set_free(s);
}

static void test_milestones(void)
{
    room_set *s = make_set(100, 1 << 20);   /* milestone_every 4 */
    room_peer a;
    char create[600];
    int64_t v = 0;

    room_peer_init(&a, "alice", "sa");
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    finish_load();
    drain(&a);
    /* A small document is stored every 4 versions. */
    submit(s, &a, v++, "\"create\":{\"type\":\"json0\",\"data\":{\"n\":0}}");
    while (v < 8)
        submit(s, &a, v++, "\"op\":[{\"p\":[\"n\"],\"na\":1}]");
    CHECK(fk.n_milestones == 2);
    CHECK(fk.milestones[0] == 3 && fk.milestones[1] == 7);
    /* A large one waits for a quarter of its size in op text: 20 bytes an op here. */
    snprintf(create, sizeof create, "\"op\":[{\"p\":[\"t\"],\"oi\":\"%0400d\"}]", 0);
    submit(s, &a, v++, create);     /* v8 */
    while (v < 12)
        submit(s, &a, v++, "\"op\":[{\"p\":[\"n\"],\"na\":1}]");
    CHECK(fk.n_milestones == 3 && fk.milestones[2] == 11);
    CHECK(fk.milestone_len[2] > 400);
    while (v < 24)
        submit(s, &a, v++, "\"op\":[{\"p\":[\"n\"],\"na\":1}]");
    /* 6 ops of 20 bytes reach a quarter of the 400-odd bytes stored with v11 */
    CHECK(fk.n_milestones == 5);
    CHECK(fk.milestones[3] == 17 && fk.milestones[4] == 23);
    room_peer_detach(s, &a);
    room_set_free(s);
}

/* The document's life without the hub's access rules (which let only the server create
 * a document and nobody delete one): a document that does not exist reads as
 * {"v":0,"type":null} and takes no edit or delete; a create makes it once; a delete
 * ends it, and an edit made before the delete is refused. */
static void test_create_and_delete(void)
{
    room_set *s = make_set(100, 1 << 20);
    room_peer a;

    room_peer_init(&a, "alice", "sa");
    request(s, &a, "{\"a\":\"s\",\"c\":\"cases\",\"d\":\"d\"}");
    finish_load();
    drain(&a);
    check_fetch(s, &a, "{\"v\":0,\"type\":null}");
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":1,"
                   "\"op\":[{\"p\":[\"x\"],\"oi\":1}]}");
    expect_error(&a, PROTO_ERR_DOES_NOT_EXIST);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":2,\"del\":true}");
    expect_error(&a, PROTO_ERR_DOES_NOT_EXIST);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":0,\"seq\":3,"
                   "\"create\":{\"type\":\"json0\",\"data\":{\"a\":1}}}");
    flush();
    drain(&a);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":4,"
                   "\"create\":{\"type\":\"json0\",\"data\":{}}}");
    expect_error(&a, PROTO_ERR_ALREADY_CREATED);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":5,\"del\":true}");
    flush();
    drain(&a);
    request(s, &a, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":1,\"seq\":6,"
                   "\"op\":[{\"p\":[\"a\"],\"na\":1}]}");
    expect_error(&a, PROTO_ERR_WAS_DELETED);
    check_fetch(s, &a, "{\"v\":2,\"type\":null}");
    CHECK(fk.n_log == 2);       /* the refused ones wrote nothing */
    room_peer_detach(s, &a);
    room_set_free(s);
}

int main(void)
{
    RUN(test_fanout_after_commit);
    RUN(test_deferred_snapshot);
    RUN(test_transform_and_duplicates);
    RUN(test_history_from_store);
    RUN(test_loaded_tail);
    RUN(test_slow_consumer);
    RUN(test_presence);
    RUN(test_milestones);
    RUN(test_create_and_delete);
    fixture_free();
    return unit_finish("test_room");
}
