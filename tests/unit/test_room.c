/*
 * Unit tests for src/room against an in-memory environment: commits wait until the test
 * flushes them, so each test can check what peers may and may not see before an op is
 * durable. Covers fan-out after commit only, no echo to the author, acks, deferred
 * snapshots, transform of stale ops, duplicate detection on (principal, src, seq),
 * catch-up and stale submits from the store, a room loaded with ops in its tail, slow
 * consumers, presence, when the document is stored with an op (milestones), a
 * document's creation and deletion, and the limits: every message against the output
 * bound (shared snapshot replies), ops too far behind, sizes and growth budgets, rooms
 * per principal, presence ids bound to their connection.
 */
#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "unit.h"

#define MAX_LOG 256
#define MAX_PENDING 256

/* The fake store: one document's committed log. */
typedef struct entry {
    int64_t v;
    int kind;
    char src[32], author[32];
    int64_t seq;
    char *text;
} entry;

static struct fake {
    entry log[MAX_LOG];
    int64_t n_log;
    room *loading;
    room_op *commits[MAX_PENDING];
    room *commit_rooms[MAX_PENDING];
    int64_t milestones[MAX_LOG];    /* versions of the ops that came with one */
    size_t milestone_len[MAX_LOG];
    int n_milestones;
    int n_commits;
    struct read { room *r; int64_t from, to; size_t max; int purpose; void *tag; } reads[MAX_PENDING];
    int n_reads;
    room_peer *killed[8];
    int n_killed;
    int64_t now;
} fk;

static int env_load(void *ctx, room *r)
{
    (void)ctx;
    fk.loading = r;
    return 0;
}

static int env_read(void *ctx, room *r, int64_t from, int64_t to, size_t max, int with_doc,
                    int purpose, void *tag)
{
    (void)ctx;
    (void)with_doc;     /* no access hooks here: never asked */
    fk.reads[fk.n_reads].r = r;
    fk.reads[fk.n_reads].from = from;
    fk.reads[fk.n_reads].to = to;
    fk.reads[fk.n_reads].max = max;
    fk.reads[fk.n_reads].purpose = purpose;
    fk.reads[fk.n_reads].tag = tag;
    fk.n_reads++;
    return 0;
}

static void env_commit(void *ctx, room *r, room_op *op, room_op *follow, char *milestone)
{
    (void)ctx;
    (void)follow;       /* no access hooks here: never a follower */
    if (milestone) {
        fk.milestones[fk.n_milestones] = op->v;
        fk.milestone_len[fk.n_milestones++] = strlen(milestone);
    }
    free(milestone);
    op->refs++;
    fk.commits[fk.n_commits] = op;
    fk.commit_rooms[fk.n_commits] = r;
    fk.n_commits++;
}

static void env_wake(void *ctx, room_peer *p)
{
    (void)ctx;
    (void)p;
}

static void env_kill(void *ctx, room_peer *p)
{
    (void)ctx;
    fk.killed[fk.n_killed++] = p;
}

static int64_t env_now(void *ctx)
{
    (void)ctx;
    return ++fk.now;
}

static void op_release(room_op *op)
{
    if (--op->refs > 0)
        return;
    free(op->src);
    free(op->author);
    cJSON_Delete(op->payload);
    free(op->text);
    room_msg_unref(op->msg);
    free(op);
}

/* The writer finishes every queued commit, in order. */
static void flush(void)
{
    for (int i = 0; i < fk.n_commits; i++) {
        room_op *op = fk.commits[i];
        entry *e = &fk.log[fk.n_log++];
        e->v = op->v;
        e->kind = op->kind;
        snprintf(e->src, sizeof e->src, "%s", op->src);
        snprintf(e->author, sizeof e->author, "%s", op->author);
        e->seq = op->seq;
        e->text = op->text ? strdup(op->text) : NULL;
        room_committed(fk.commit_rooms[i], 0);
        op_release(op);
    }
    fk.n_commits = 0;
}

static room_row row_of(const entry *e)
{
    room_row row = {e->v, e->kind, e->src, e->seq, 0, e->author,
                    e->text ? cJSON_Parse(e->text) : NULL, e->text};
    return row;
}

/* Answers the pending store reads from the log. */
static void serve_reads(void)
{
    while (fk.n_reads) {
        struct read rd = fk.reads[0];
        room_row rows[MAX_LOG];
        size_t n = 0;
        memmove(&fk.reads[0], &fk.reads[1], (size_t)--fk.n_reads * sizeof fk.reads[0]);
        for (int64_t v = rd.from; v < rd.to && n < rd.max && v < fk.n_log; v++)
            rows[n++] = row_of(&fk.log[v]);
        room_read_done(rd.r, rd.purpose, rd.tag, 0, rows, n, NULL);
        for (size_t i = 0; i < n; i++)
            cJSON_Delete(rows[i].payload);
    }
}

/* What an op of the room's (wire) kind does to the document, as a store maps it. */
static doc_op_kind doc_kind(int kind)
{
    return kind == PROTO_CREATE ? DOC_OP_CREATE : kind == PROTO_DEL ? DOC_OP_DEL : DOC_OP_EDIT;
}

/* Finishes the pending load from the log (no milestones: replay everything). */
static void finish_load(void)
{
    doc_state doc;
    room_row rows[MAX_LOG];
    int64_t create_v = -1;
    room *r = fk.loading;

    doc_init(&doc);
    for (int64_t v = 0; v < fk.n_log; v++) {
        ot_error err = {""};
        rows[v] = row_of(&fk.log[v]);
        doc_apply(&doc, doc_kind(rows[v].kind), rows[v].payload, &err);
        if (rows[v].kind == PROTO_CREATE)
            create_v = v;
    }
    fk.loading = NULL;
    {
        room_load load = {0, &doc, rows, (size_t)fk.n_log, fk.now, create_v,
                          create_v >= 0 ? fk.log[create_v].src : NULL,
                          create_v >= 0 ? fk.log[create_v].author : NULL,
                          create_v >= 0 ? fk.log[create_v].seq : 0, NULL};
        room_loaded(r, &load);
    }
    for (int64_t v = 0; v < fk.n_log; v++)
        cJSON_Delete(rows[v].payload);
    doc_clear(&doc);
}

/* A set with the fake store; `limits` (may be NULL) adds the limit settings and hooks. */
static room_set *make_set_with(size_t tail_ops, size_t outq_max, const room_config *limits,
                               const room_env *hooks)
{
    room_config cfg = {.collection = "cases", .tail_ops = tail_ops, .tail_bytes = 1 << 20,
                       .milestone_every = 4, .outq_max = outq_max, .read_chunk = 3,
                       .headroom = 16, .max_rooms = 10, .max_presence_channels = 4,
                       .max_presences = 4};
    room_env env = {.ctx = NULL, .load = env_load, .read_ops = env_read, .commit = env_commit,
                    .wake = env_wake, .kill = env_kill, .now_ms = env_now};

    if (limits) {
        cfg.max_rooms_principal = limits->max_rooms_principal;
        cfg.max_op_lag = limits->max_op_lag;
    }
    if (hooks) {
        env.limits = hooks->limits;
        env.grew = hooks->grew;
        env.spend = hooks->spend;
        env.may_open = hooks->may_open;
    }
    for (int64_t i = 0; i < fk.n_log; i++)
        free(fk.log[i].text);
    memset(&fk, 0, sizeof fk);
    return room_set_new(&cfg, &env);
}

static room_set *make_set(size_t tail_ops, size_t outq_max)
{
    return make_set_with(tail_ops, outq_max, NULL, NULL);
}

static void request(room_set *s, room_peer *p, const char *json)
{
    const proto_limits lim = {64, 8};
    proto_msg m;
    proto_error err;

    CHECK(proto_parse(json, strlen(json), &lim, &m, &err) == 0);
    if (m.action == PROTO_P || m.action == PROTO_PS || m.action == PROTO_PU)
        room_presence_request(s, p, &m);
    else
        room_request(s, p, &m);
}

/* The next queued message of p, parsed (caller frees), or NULL. */
static cJSON *next_msg(room_peer *p)
{
    room_msg *m = room_outq_head(&p->outq);
    cJSON *j;

    if (!m)
        return NULL;
    j = cJSON_Parse(room_msg_text(m));
    room_outq_pop(&p->outq);
    return j;
}

static int64_t num(const cJSON *j, const char *key)
{
    return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

static const char *str(const cJSON *j, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

/* Expects p's next message to be {a, ...} with v (v < 0: no check); returns it. */
static cJSON *expect(room_peer *p, const char *a, int64_t v)
{
    cJSON *j = next_msg(p);

    CHECK(j != NULL);
    if (!j)
        return NULL;
    CHECK_STR(str(j, "a"), a);
    if (v >= 0)
        CHECK(num(j, "v") == v);
    return j;
}

/* Peer p fetches document "d" and gets exactly `snapshot` (the reply's data, unformatted). */
static void check_fetch(room_set *s, room_peer *p, const char *snapshot)
{
    request(s, p, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    cJSON *reply = expect(p, "f", -1);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(reply, "data"));
    CHECK_STR(text, snapshot);
    free(text);
    cJSON_Delete(reply);
}

static void drain(room_peer *p)
{
    cJSON *j;
    while ((j = next_msg(p)))
        cJSON_Delete(j);
}

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

/* Submits an op from p at the document's version and commits it. */
static void submit(room_set *s, room_peer *p, int64_t v, const char *op)
{
    char json[1024];

    snprintf(json, sizeof json, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":%lld,"
             "\"seq\":%lld,%s}", (long long)v, (long long)v + 1, op);
    request(s, p, json);
    flush();
    drain(p);
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

/* Peer p's next message is an error with this code. */
static void expect_error(room_peer *p, const char *code)
{
    cJSON *j = next_msg(p);

    CHECK(j != NULL);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), code);
    cJSON_Delete(j);
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
    RUN(test_fanout_after_commit);
    RUN(test_deferred_snapshot);
    RUN(test_transform_and_duplicates);
    RUN(test_history_from_store);
    RUN(test_loaded_tail);
    RUN(test_slow_consumer);
    RUN(test_presence);
    RUN(test_milestones);
    RUN(test_create_and_delete);
    RUN(test_output_bound);
    RUN(test_op_lag);
    RUN(test_size_limits);
    RUN(test_rooms_per_principal);
    RUN(test_presence_ids);
    for (int64_t i = 0; i < fk.n_log; i++)
        free(fk.log[i].text);
    return unit_finish("test_room");
}
