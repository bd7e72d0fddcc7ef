/*
 * Shared by the room tests (test_room*.c): a fake store for one document whose commits
 * wait until the test flushes them (so a test can check what peers may and may not see
 * before an op is durable), pending loads and reads answered from its log, and helpers
 * to send a peer's requests and read what was queued for it.
 */
#ifndef KONSIL_TEST_ROOM_FIXTURE_H
#define KONSIL_TEST_ROOM_FIXTURE_H

#include <stdio.h>
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

static inline int env_load(void *ctx, room *r)
{
    (void)ctx;
    fk.loading = r;
    return 0;
}

static inline int env_read(void *ctx, room *r, int64_t from, int64_t to, size_t max,
                           int with_doc, int purpose, void *tag)
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

static inline void env_commit(void *ctx, room *r, room_op *op, room_op *follow, char *milestone)
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

static inline void env_wake(void *ctx, room_peer *p)
{
    (void)ctx;
    (void)p;
}

static inline void env_kill(void *ctx, room_peer *p)
{
    (void)ctx;
    fk.killed[fk.n_killed++] = p;
}

static inline int64_t env_now(void *ctx)
{
    (void)ctx;
    return ++fk.now;
}

static inline void op_release(room_op *op)
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
static inline void flush(void)
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

static inline room_row row_of(const entry *e)
{
    room_row row = {e->v, e->kind, e->src, e->seq, 0, e->author,
                    e->text ? cJSON_Parse(e->text) : NULL, e->text};
    return row;
}

/* Answers the pending store reads from the log. */
static inline void serve_reads(void)
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
static inline doc_op_kind doc_kind(int kind)
{
    return kind == PROTO_CREATE ? DOC_OP_CREATE : kind == PROTO_DEL ? DOC_OP_DEL : DOC_OP_EDIT;
}

/* Finishes the pending load from the log (no milestones: replay everything). */
static inline void finish_load(void)
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
static inline room_set *make_set_with(size_t tail_ops, size_t outq_max,
                                      const room_config *limits, const room_env *hooks)
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

static inline room_set *make_set(size_t tail_ops, size_t outq_max)
{
    return make_set_with(tail_ops, outq_max, NULL, NULL);
}

static inline void request(room_set *s, room_peer *p, const char *json)
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
static inline cJSON *next_msg(room_peer *p)
{
    room_msg *m = room_outq_head(&p->outq);
    cJSON *j;

    if (!m)
        return NULL;
    j = cJSON_Parse(room_msg_text(m));
    room_outq_pop(&p->outq);
    return j;
}

static inline int64_t num(const cJSON *j, const char *key)
{
    return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

static inline const char *str(const cJSON *j, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

/* Expects p's next message to be {a, ...} with v (v < 0: no check); returns it. */
static inline cJSON *expect(room_peer *p, const char *a, int64_t v)
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
static inline void check_fetch(room_set *s, room_peer *p, const char *snapshot)
{
    request(s, p, "{\"a\":\"f\",\"c\":\"cases\",\"d\":\"d\"}");
    cJSON *reply = expect(p, "f", -1);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(reply, "data"));
    CHECK_STR(text, snapshot);
    free(text);
    cJSON_Delete(reply);
}

static inline void drain(room_peer *p)
{
    cJSON *j;
    while ((j = next_msg(p)))
        cJSON_Delete(j);
}

/* Submits an op from p at the document's version and commits it. */
static inline void submit(room_set *s, room_peer *p, int64_t v, const char *op)
{
    char json[1024];

    snprintf(json, sizeof json, "{\"a\":\"op\",\"c\":\"cases\",\"d\":\"d\",\"v\":%lld,"
             "\"seq\":%lld,%s}", (long long)v, (long long)v + 1, op);
    request(s, p, json);
    flush();
    drain(p);
}

/* Peer p's next message is an error with this code. */
static inline void expect_error(room_peer *p, const char *code)
{
    cJSON *j = next_msg(p);

    CHECK(j != NULL);
    CHECK_STR(str(cJSON_GetObjectItem(j, "error"), "code"), code);
    cJSON_Delete(j);
}

/* Frees what the fake store's log holds (at the end of a suite). */
static inline void fixture_free(void)
{
    for (int64_t i = 0; i < fk.n_log; i++)
        free(fk.log[i].text);
}

#endif
