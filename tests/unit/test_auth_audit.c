/*
 * The audit chain: the canonical form and hash of an entry pinned to fixed values (so
 * any other implementation, and any later change, can be checked against them), and
 * verification that finds an altered, an inserted and a removed entry, in each of the
 * ways someone with write access to the table could try it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "unit.h"

#define CHAIN_LENGTH 6

typedef struct chain {
    audit_entry e[CHAIN_LENGTH + 2];
    size_t n;
} chain;

static const char *const actions[] = {"login.ok", "session.read.open", "link.create",
                                      "join", "session.read.close", "logout"};

/* A sealed chain of CHAIN_LENGTH entries. */
static chain make_chain(void)
{
    chain c;
    memset(&c, 0, sizeof c);
    const char *prev = AUDIT_GENESIS_HASH;
    for (size_t i = 0; i < CHAIN_LENGTH; i++) {
        audit_entry *e = &c.e[i];
        e->seq = (int64_t)i + 1;
        e->ts_ms = 1700000000000 + (int64_t)i * 1000;
        e->actor_id = i % 2 ? "user-b" : "user-a";
        e->action = actions[i];
        e->session_id = i == 0 ? NULL : "session-1";
        e->details = i == 2 ? "{\"link\":\"l-1\",\"expires_in_s\":3600}" : NULL;
        auth_error err = {{0}};
        if (audit_seal(e, prev, &err) != 0) {
            fprintf(stderr, "seal: %s\n", err.message);
            abort();
        }
        prev = e->hash;
    }
    c.n = CHAIN_LENGTH;
    return c;
}

static audit_report verify(const chain *c, const audit_anchor *anchor, int expected_rc)
{
    audit_report r;
    memset(&r, 0, sizeof r);
    int rc = audit_verify(c->e, c->n, anchor, &r);
    if (rc != expected_rc)
        fprintf(stderr, "  verify returned %d (%s), expected %d\n", rc, r.message, expected_rc);
    CHECK(rc == expected_rc);
    return r;
}

static void remove_at(chain *c, size_t i)
{
    memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof c->e[0]);
    c->n--;
}

static void insert_at(chain *c, size_t i, const audit_entry *e)
{
    memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof c->e[0]);
    c->e[i] = *e;
    c->n++;
}

static void canonical_form_is_pinned(void)
{
    audit_entry e = {.seq = 1, .ts_ms = 1700000000000, .actor_id = "u-1", .action = "login.ok",
                     .session_id = NULL,
                     .details = " {\"z\":\"\xc3\xa4\", \"b\":{\"d\":null,\"c\":true},"
                                "\"a\":[1.0, 0.5, -3, \"x\\u0001\\\"\"]}\n"};
    auth_error err = {{0}};
    char *canonical = audit_canonical(&e, &err);
    CHECK_STR(canonical, "{\"action\":\"login.ok\",\"actor\":\"u-1\",\"details\":{\"a\":[1,0.5,-3,"
                         "\"x\\u0001\\\"\"],\"b\":{\"c\":true,\"d\":null},\"z\":\"\xc3\xa4\"},"
                         "\"seq\":1,\"session\":null,\"ts\":1700000000000,\"v\":1}");
    free(canonical);
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == 0);
    CHECK_STR(e.hash, "5ddd6102a1aed82f7b8964ff270a89864de2a5ed2ee5f686f170ca207fb18545");
    CHECK_STR(e.prev_hash, AUDIT_GENESIS_HASH);
}

static void canonical_form_ignores_layout_only(void)
{
    audit_entry a = {.seq = 7, .ts_ms = 5, .actor_id = "x", .action = "y", .session_id = "s",
                     .details = "{\"b\":1,\"a\":{\"d\":2,\"c\":3}}"};
    audit_entry b = a;
    b.details = "{ \"a\" : { \"c\" : 3.0 , \"d\" : 2 } , \"b\" : 1 }";
    auth_error err = {{0}};
    char *ca = audit_canonical(&a, &err), *cb = audit_canonical(&b, &err);
    CHECK(ca && cb && strcmp(ca, cb) == 0);
    free(ca);
    free(cb);
    b.details = "{\"b\":2,\"a\":{\"d\":2,\"c\":3}}";
    CHECK(audit_seal(&a, AUDIT_GENESIS_HASH, &err) == 0);
    CHECK(audit_seal(&b, AUDIT_GENESIS_HASH, &err) == 0);
    CHECK(strcmp(a.hash, b.hash) != 0);
}

static void canonical_form_refuses_ambiguous_entries(void)
{
    const char *bad_details[] = {"{\"a\":1,\"a\":2}", "[1]", "{\"a\":1e999}", "{\"a\":",
                                 "\"x\"", "{\"a\":\"\xff\"}", "{} {}"};
    for (size_t i = 0; i < sizeof bad_details / sizeof bad_details[0]; i++) {
        audit_entry e = {.seq = 1, .ts_ms = 1, .actor_id = "a", .action = "b",
                         .details = bad_details[i]};
        auth_error err = {{0}};
        char *c = audit_canonical(&e, &err);
        if (c) fprintf(stderr, "  accepted details %s\n", bad_details[i]);
        CHECK(c == NULL && err.message[0]);
        free(c);
    }
    audit_entry e = {.seq = 1, .ts_ms = 1, .actor_id = "a", .action = ""};
    auth_error err = {{0}};
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == -1);
    e.action = "ok";
    e.seq = 0;
    CHECK(audit_canonical(&e, &err) == NULL);
    e.seq = 1;
    memset(&err, 0, sizeof err);
    CHECK(audit_seal(&e, "not a hash", &err) == -1);
    CHECK(audit_seal(&e, "0000000000000000000000000000000000000000000000000000000000000000X",
                     &err) == -1);
}

static void intact_chain_verifies(void)
{
    chain c = make_chain();
    audit_report r = verify(&c, NULL, 0);
    CHECK(r.problem == AUDIT_INTACT);
    audit_anchor anchor = {.seq = 4};
    memcpy(anchor.hash, c.e[3].hash, sizeof anchor.hash);
    verify(&c, &anchor, 0);
    c.n = 0;
    verify(&c, NULL, 0);
}

static void altered_entry_is_found(void)
{
    chain c = make_chain();
    c.e[2].details = "{\"link\":\"l-2\",\"expires_in_s\":3600}";
    audit_report r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 2 && r.seq == 3);

    c = make_chain();
    c.e[4].actor_id = "someone-else";
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 4);

    c = make_chain();
    c.e[1].ts_ms += 1;
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 1);

    c = make_chain();
    c.e[3].session_id = NULL;
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 3);

    c = make_chain();
    c.e[5].hash[10] = c.e[5].hash[10] == 'a' ? 'b' : 'a';
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 5);

    c = make_chain();
    c.e[2].details = "not json";
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.index == 2);

    /* Two entries swapped. */
    c = make_chain();
    audit_entry t = c.e[1];
    c.e[1] = c.e[2];
    c.e[2] = t;
    r = verify(&c, NULL, 1);
    CHECK(r.problem != AUDIT_INTACT && r.index == 1);
}

static void removed_entry_is_found(void)
{
    chain c = make_chain();
    remove_at(&c, 2);
    audit_report r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 2 && r.seq == 3);

    /* Removed, and the later seqs moved down to close the gap. */
    c = make_chain();
    remove_at(&c, 2);
    for (size_t i = 2; i < c.n; i++) c.e[i].seq--;
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 2);

    c = make_chain();
    remove_at(&c, 0);
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 0 && r.seq == 1);

    /* Cut from the end: only a checkpoint can tell. */
    c = make_chain();
    audit_anchor anchor = {.seq = CHAIN_LENGTH};
    memcpy(anchor.hash, c.e[CHAIN_LENGTH - 1].hash, sizeof anchor.hash);
    c.n -= 2;
    verify(&c, NULL, 0);
    r = verify(&c, &anchor, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == c.n);

    /* Replaced by a forged entry with a freshly computed hash. */
    c = make_chain();
    auth_error err = {{0}};
    c.e[2].details = "{\"link\":\"forged\"}";
    CHECK(audit_seal(&c.e[2], c.e[1].hash, &err) == 0);
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 3);
}

static void inserted_entry_is_found(void)
{
    /* Sealed properly onto entry 2, the later entries renumbered but not resealed. */
    chain c = make_chain();
    audit_entry forged = {.seq = 3, .ts_ms = 1700000001500, .actor_id = "user-a",
                          .action = "export", .session_id = "session-1"};
    auth_error err = {{0}};
    CHECK(audit_seal(&forged, c.e[1].hash, &err) == 0);
    insert_at(&c, 2, &forged);
    for (size_t i = 3; i < c.n; i++) c.e[i].seq++;
    audit_report r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_INSERTED && r.index == 2);

    /* With a seq that repeats an existing one. */
    c = make_chain();
    forged.seq = 3;
    CHECK(audit_seal(&forged, c.e[2].hash, &err) == 0);
    insert_at(&c, 3, &forged);
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_INSERTED && r.index == 3);

    /* With a made-up hash, linked to its predecessor; the next entry links past it. */
    c = make_chain();
    forged.seq = 3;
    CHECK(audit_seal(&forged, c.e[1].hash, &err) == 0);
    forged.hash[0] = forged.hash[0] == 'f' ? 'e' : 'f';
    insert_at(&c, 2, &forged);
    for (size_t i = 3; i < c.n; i++) c.e[i].seq++;
    r = verify(&c, NULL, 1);
    CHECK(r.problem == AUDIT_INSERTED && r.index == 2);
}

static void rewritten_chain_needs_an_anchor(void)
{
    chain c = make_chain();
    audit_anchor anchor = {.seq = 5};
    memcpy(anchor.hash, c.e[4].hash, sizeof anchor.hash);
    auth_error err = {{0}};
    c.e[1].actor_id = "nobody";
    const char *prev = AUDIT_GENESIS_HASH;
    for (size_t i = 0; i < c.n; i++) {
        CHECK(audit_seal(&c.e[i], prev, &err) == 0);
        prev = c.e[i].hash;
    }
    verify(&c, NULL, 0);
    audit_report r = verify(&c, &anchor, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 5);
    anchor.seq = 0;
    verify(&c, &anchor, -1);
}

int main(void)
{
    RUN(canonical_form_is_pinned);
    RUN(canonical_form_ignores_layout_only);
    RUN(canonical_form_refuses_ambiguous_entries);
    RUN(intact_chain_verifies);
    RUN(altered_entry_is_found);
    RUN(removed_entry_is_found);
    RUN(inserted_entry_is_found);
    RUN(rewritten_chain_needs_an_anchor);
    return unit_finish("test_auth_audit");
}
