/*
 * The audit chain: the canonical form and hash of an entry pinned to fixed values (so
 * any other implementation, and any later change, can be checked against them), and
 * verification that finds an altered, an inserted and a removed entry, in each of the
 * ways someone with write access to the table could try it; the head line kept as a
 * checkpoint, and what verification against it finds that the chain alone cannot.
 * Format 2 (from schema 6 on) pinned likewise; a chain that changes format on the way
 * verifies, heads kept before the change hold; an erasure empties entries of both formats
 * and the chain and every head still verify, while an emptying no erasure accounts for
 * is found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "unit.h"

#define CHAIN_LENGTH 6
/* Format 2's pinned values (format2_is_pinned), computed independently. */
#define PINNED_CONTENT "15d0dbc509bb8214bc1873805e667bc54e7a55e183cc2db6f3bee040fb3308ec"
#define PINNED_HASH "91a7364aa4f56ce0e3c53d1158ba0f08ff2f0b2115dabaf593153208262c116f"
#define PINNED_DIGEST "230db92717b407af4a3e34878c5a0e8d03d0018637796e626d1582ac57f7fa1f"

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

/* The chain rebuilt from its entries as they are, every hash recomputed (what someone
 * with write access to the table and this page can do). */
static void reseal(chain *c)
{
    auth_error err = {{0}};
    const char *prev = AUDIT_GENESIS_HASH;
    for (size_t i = 0; i < c->n; i++) {
        c->e[i].seq = (int64_t)i + 1;
        CHECK(audit_seal(&c->e[i], prev, &err) == 0);
        prev = c->e[i].hash;
    }
}

static audit_anchor head_of(const chain *c)
{
    audit_anchor a = {.seq = (int64_t)c->n};
    memcpy(a.hash, c->n ? c->e[c->n - 1].hash : AUDIT_GENESIS_HASH, sizeof a.hash);
    return a;
}

static void head_line_round_trips(void)
{
    chain c = make_chain();
    audit_anchor head = head_of(&c), back;
    char line[AUDIT_HEAD_MAX + 1], expected[AUDIT_HEAD_MAX + 1];
    CHECK(audit_head_format(&head, line) == 0);
    snprintf(expected, sizeof expected, "konsil-audit-head v1 entries=6 hash=%s", head.hash);
    CHECK_STR(line, expected);
    auth_error err = {{0}};
    CHECK(audit_head_parse(line, &back, &err) == 0);
    CHECK(back.seq == 6 && strcmp(back.hash, head.hash) == 0);

    /* As printed, with its newline, or with whitespace a file or a paste adds around it. */
    char padded[AUDIT_HEAD_MAX + 16];
    snprintf(padded, sizeof padded, "  %s\r\n", line);
    memset(&back, 0, sizeof back);
    CHECK(audit_head_parse(padded, &back, &err) == 0);
    CHECK(back.seq == 6 && strcmp(back.hash, head.hash) == 0);

    /* The empty chain has a head too, and the longest entry count fits. */
    audit_anchor empty = {.seq = 0, .hash = AUDIT_GENESIS_HASH};
    CHECK(audit_head_format(&empty, line) == 0);
    CHECK_STR(line, "konsil-audit-head v1 entries=0 hash=" AUDIT_GENESIS_HASH);
    CHECK(audit_head_parse(line, &back, &err) == 0 && back.seq == 0);
    head.seq = INT64_MAX;
    CHECK(audit_head_format(&head, line) == 0 && strlen(line) == AUDIT_HEAD_MAX);
    CHECK(audit_head_parse(line, &back, &err) == 0 && back.seq == INT64_MAX);
}

/* Whether text is refused as a checkpoint, with a message and *head left alone. */
static int refused(const char *text)
{
    audit_anchor back = {.seq = -7};
    auth_error err = {{0}};
    int rc = audit_head_parse(text, &back, &err);
    if (rc != -1 || !err.message[0] || back.seq != -7) {
        fprintf(stderr, "  accepted checkpoint \"%s\"\n", text);
        return 0;
    }
    return 1;
}

static void head_line_refuses_anything_else(void)
{
    chain c = make_chain();
    const char *h = c.e[5].hash;
    /* Each a format for snprintf(text, ..., fmt, h, h). */
    static const char *const bad[] = {
        "", "   ", "konsil-audit-head", "konsil-audit-head v1", "konsil-audit-head v1 entries=6",
        "konsil-audit-head v1 entries=6 hash=", "%s", "6 %s",
        "konsil-audit-hed v1 entries=6 hash=%s",
        "konsil-audit-head v2 entries=6 hash=%s", "konsil-audit-head V1 entries=6 hash=%s",
        "konsil-audit-head v1 entries=06 hash=%s", "konsil-audit-head v1 entries=-6 hash=%s",
        "konsil-audit-head v1 entries=+6 hash=%s", "konsil-audit-head v1 entries= hash=%s",
        "konsil-audit-head v1 entries=6.0 hash=%s",
        "konsil-audit-head v1 entries=9223372036854775808 hash=%s",
        "konsil-audit-head v1 entries=99999999999999999999 hash=%s",
        "konsil-audit-head v1 count=6 hash=%s", "konsil-audit-head v1 entries=6  hash=%s",
        "konsil-audit-head  v1 entries=6 hash=%s", "konsil-audit-head\tv1 entries=6 hash=%s",
        "konsil-audit-head v1 entries=6 hash=%s x", "konsil-audit-head v1 entries=6 hash=%s0",
        "konsil-audit-head v1 entries=6 hash=%s\nkonsil-audit-head v1 entries=6 hash=%s",
        "konsil-audit-head v1 hash=%s entries=6", "konsil-audit-head v1 entries=6 hash=%.63s",
        "konsil-audit-head v1 entries=6 hash=%.63sg",
        "konsil-audit-head v1 entries=0 hash=%s", /* no entries, yet not the genesis hash */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[3 * AUDIT_HEAD_MAX];
        snprintf(text, sizeof text, bad[i], h, h);
        CHECK(refused(text));
    }
    char upper[AUDIT_HASH_LEN + 1], text[AUDIT_HEAD_MAX + 1];
    for (size_t i = 0; i <= AUDIT_HASH_LEN; i++)
        upper[i] = (char)(h[i] >= 'a' && h[i] <= 'f' ? h[i] - 'a' + 'A' : h[i]);
    snprintf(text, sizeof text, "konsil-audit-head v1 entries=6 hash=%s", upper);
    CHECK(refused(text));

    /* Only a head is written as one. */
    char line[AUDIT_HEAD_MAX + 1];
    audit_anchor not_head = {.seq = -1};
    memcpy(not_head.hash, h, sizeof not_head.hash);
    CHECK(audit_head_format(&not_head, line) == -1);
    not_head.seq = 0;
    CHECK(audit_head_format(&not_head, line) == -1);
    not_head.seq = 6;
    memcpy(not_head.hash, upper, sizeof not_head.hash);
    CHECK(audit_head_format(&not_head, line) == -1);
}

/* What a checkpoint finds that the chain alone does not, and what it lets pass. */
static void checkpoint_holds_the_chain_to_its_head(void)
{
    chain c = make_chain();
    audit_anchor head = head_of(&c);
    verify(&c, &head, 0);

    /* Entries appended after the checkpoint. */
    audit_entry later = {.seq = 7, .ts_ms = 1700000009000, .actor_id = "user-a",
                         .action = "logout"};
    auth_error err = {{0}};
    CHECK(audit_seal(&later, c.e[5].hash, &err) == 0);
    c.e[c.n++] = later;
    verify(&c, NULL, 0);
    verify(&c, &head, 0);

    /* The last entry, and every entry, deleted. */
    c = make_chain();
    c.n--;
    verify(&c, NULL, 0);
    audit_report r = verify(&c, &head, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 5 && r.seq == 6);
    c.n = 0;
    verify(&c, NULL, 0);
    r = verify(&c, &head, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 0 && r.seq == 1);

    /* Every read entry removed and the chain recomputed: fewer entries than the head. */
    c = make_chain();
    for (size_t i = c.n; i-- > 0;)
        if (strncmp(c.e[i].action, "session.read.", 13) == 0) remove_at(&c, i);
    CHECK(c.n == CHAIN_LENGTH - 2);
    reseal(&c);
    verify(&c, NULL, 0);
    r = verify(&c, &head, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.seq == CHAIN_LENGTH - 1);

    /* ... and padded back past the head's length: entry 6 is not the one kept. */
    c.e[c.n++] = later;
    c.e[c.n++] = later;
    c.e[c.n++] = later;
    reseal(&c);
    verify(&c, NULL, 0);
    r = verify(&c, &head, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == CHAIN_LENGTH && r.index == CHAIN_LENGTH - 1);

    /* The empty chain's head holds for every chain; a "head" of nothing with a hash
     * does not exist. */
    c = make_chain();
    audit_anchor empty = {.seq = 0, .hash = AUDIT_GENESIS_HASH};
    verify(&c, &empty, 0);
    c.n = 0;
    verify(&c, &empty, 0);
    empty.seq = -1;
    verify(&c, &empty, -1);
}

/* ---- format 2 and erasures ----------------------------------------------------------- */

#define LONG_CHAIN 16

typedef struct long_chain {
    audit_entry e[LONG_CHAIN];
    char details[LONG_CHAIN][200];
    size_t n;
} long_chain;

static const char *const nonces[] = {
    "00112233445566778899aabbccddeeff", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdef0123456789abcdef",
    "fedcba9876543210fedcba9876543210", "1111111111111111111111111111111b",
    "2222222222222222222222222222222c", "3333333333333333333333333333333d",
};

/* Appends an entry to c (format fmt, about session `about` or none), sealed. */
static audit_entry *append(long_chain *c, int fmt, const char *actor, const char *action,
                           const char *about)
{
    audit_entry *e = &c->e[c->n];
    auth_error err = {{0}};
    memset(e, 0, sizeof *e);
    e->seq = (int64_t)c->n + 1;
    e->ts_ms = 1700000000000 + (int64_t)c->n * 1000;
    e->actor_id = actor;
    e->action = action;
    e->session_id = about;
    e->format = fmt;
    e->nonce = fmt == AUDIT_FORMAT_V2 ? nonces[c->n % 8] : NULL;
    CHECK(audit_seal(e, c->n ? c->e[c->n - 1].hash : AUDIT_GENESIS_HASH, &err) == 0);
    c->n++;
    return e;
}

/* Empties every entry about `about` or by `actor`, as the store does, and appends the
 * erasure's entry that names them. */
static void erase(long_chain *c, const char *about, const char *actor)
{
    int64_t seqs[LONG_CHAIN], by = (int64_t)c->n + 1, n = 0;
    char hashes[LONG_CHAIN][AUDIT_HASH_LEN + 1], digest[AUDIT_HASH_LEN + 1];
    for (size_t i = 0; i < c->n; i++) {
        audit_entry *e = &c->e[i];
        if (e->emptied_by || !((e->session_id && strcmp(e->session_id, about) == 0) ||
                               (actor && strcmp(e->actor_id, actor) == 0)))
            continue;
        e->actor_id = "";
        e->action = "";
        e->session_id = NULL;
        e->details = NULL;
        e->nonce = NULL;
        e->emptied_by = by;
        seqs[n] = e->seq;
        memcpy(hashes[n++], e->hash, sizeof hashes[0]);
    }
    CHECK(audit_emptied_digest(seqs, (const char (*)[AUDIT_HASH_LEN + 1])hashes, (size_t)n,
                               digest) == 0);
    snprintf(c->details[c->n], sizeof c->details[0],
             "{\"how\":\"request\",\"emptied\":%lld,\"emptied_digest\":\"%s\"}",
             (long long)n, digest);
    audit_entry *e = &c->e[c->n];
    auth_error err = {{0}};
    memset(e, 0, sizeof *e);
    e->seq = by;
    e->ts_ms = 1700000000000 + (int64_t)c->n * 1000;
    e->actor_id = "u-officer";
    e->action = AUDIT_ERASE_ACTION;
    e->session_id = about;
    e->details = c->details[c->n];
    e->format = AUDIT_FORMAT_V2;
    e->nonce = nonces[7];
    CHECK(audit_seal(e, c->e[c->n - 1].hash, &err) == 0);
    c->n++;
}

static audit_report verify_long(const long_chain *c, const audit_anchor *anchor, int expected)
{
    audit_report r;
    memset(&r, 0, sizeof r);
    int rc = audit_verify(c->e, c->n, anchor, &r);
    if (rc != expected)
        fprintf(stderr, "  verify returned %d (%s), expected %d\n", rc, r.message, expected);
    CHECK(rc == expected);
    return r;
}

static audit_anchor head_at(const long_chain *c, size_t n)
{
    audit_anchor a = {.seq = (int64_t)n};
    memcpy(a.hash, n ? c->e[n - 1].hash : AUDIT_GENESIS_HASH, sizeof a.hash);
    return a;
}

static void format2_is_pinned(void)
{
    audit_entry e = {.seq = 3, .ts_ms = 1700000000000, .actor_id = "u-1",
                     .action = "case.create", .session_id = "c-1",
                     .details = "{\"version\":2, \"template\":\"default\"}",
                     .format = AUDIT_FORMAT_V2, .nonce = "00112233445566778899aabbccddeeff"};
    auth_error err = {{0}};
    char *canonical = audit_canonical(&e, &err);
    CHECK_STR(canonical, "{\"action\":\"case.create\",\"actor\":\"u-1\",\"details\":"
                         "{\"template\":\"default\",\"version\":2},\"nonce\":"
                         "\"00112233445566778899aabbccddeeff\",\"session\":\"c-1\"}");
    free(canonical);
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == 0);
    CHECK_STR(e.content_hash, PINNED_CONTENT);
    CHECK_STR(e.hash, PINNED_HASH);
    /* A nonce is required, and only 32 lowercase hex digits. */
    e.nonce = "00112233445566778899AABBCCDDEEFF";
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == -1);
    e.nonce = NULL;
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == -1);
    /* An emptied entry has no content and is never sealed. */
    e.nonce = "00112233445566778899aabbccddeeff";
    e.emptied_by = 9;
    CHECK(audit_canonical(&e, &err) == NULL);
    CHECK(audit_seal(&e, AUDIT_GENESIS_HASH, &err) == -1);
    /* The digest of what an erasure emptied. */
    int64_t seqs[] = {1, 4};
    char hashes[2][AUDIT_HASH_LEN + 1] = {AUDIT_GENESIS_HASH, AUDIT_GENESIS_HASH};
    char digest[AUDIT_HASH_LEN + 1];
    CHECK(audit_emptied_digest(seqs, (const char (*)[AUDIT_HASH_LEN + 1])hashes, 2,
                               digest) == 0);
    CHECK_STR(digest, PINNED_DIGEST);
    CHECK(audit_emptied_digest(NULL, NULL, 0, digest) == 0);
    /* SHA-256 of the empty string */
    CHECK_STR(digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Entries of format 1, then of format 2 (the upgrade to schema 6): one chain; a head
 * kept before the change holds after it; each format's alterations are found. */
static void formats_chain_together(void)
{
    long_chain c;
    memset(&c, 0, sizeof c);
    append(&c, AUDIT_FORMAT_V1, "u-a", "login.ok", NULL);
    append(&c, 0, "u-a", "case.create", "c-1");
    append(&c, AUDIT_FORMAT_V1, "u-b", "join", "c-1");
    audit_anchor old_head = head_at(&c, c.n);
    append(&c, AUDIT_FORMAT_V2, "u-a", "session.read.open", "c-1");
    append(&c, AUDIT_FORMAT_V2, "u-b", "logout", NULL);
    append(&c, AUDIT_FORMAT_V2, "u-a", "logout", NULL);
    verify_long(&c, NULL, 0);
    verify_long(&c, &old_head, 0);
    audit_anchor new_head = head_at(&c, c.n);
    verify_long(&c, &new_head, 0);

    /* A format-2 entry's content changed: its content hash no longer matches. */
    long_chain d = c;
    d.e[4].actor_id = "u-c";
    audit_report r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 5);
    /* ... or its kept content hash (or time) changed: the link no longer matches. */
    d = c;
    d.e[4].content_hash[0] = d.e[4].content_hash[0] == 'a' ? 'b' : 'a';
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 5);
    d = c;
    d.e[3].ts_ms++;
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 4);
    /* An entry passed off as the other format. */
    d = c;
    d.e[1].format = AUDIT_FORMAT_V2;
    d.e[1].nonce = nonces[0];
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 2);
    /* A format-2 entry removed from the middle, the rest renumbered. */
    d = c;
    memmove(&d.e[3], &d.e[4], 2 * sizeof d.e[0]);
    d.n--;
    d.e[3].seq--;
    d.e[4].seq--;
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_REMOVED && r.index == 3);
}

/* An erasure empties the entries about a case (and by its client) of both formats: the
 * chain verifies, and so do the heads kept before the erasure and before the format
 * change; nothing of the emptied content is left in them. */
static void erasure_keeps_the_chain(void)
{
    long_chain c;
    memset(&c, 0, sizeof c);
    append(&c, AUDIT_FORMAT_V1, "u-a", "case.create", "c-gone");
    append(&c, AUDIT_FORMAT_V1, "client-1", "logout", NULL);
    append(&c, AUDIT_FORMAT_V1, "u-a", "case.create", "c-kept");
    audit_anchor before_format = head_at(&c, c.n);
    append(&c, AUDIT_FORMAT_V2, "u-a", "session.read.open", "c-gone");
    append(&c, AUDIT_FORMAT_V2, "client-1", "join", "c-gone");
    append(&c, AUDIT_FORMAT_V2, "u-a", "session.read.open", "c-kept");
    audit_anchor before_erasure = head_at(&c, c.n);
    erase(&c, "c-gone", "client-1");
    CHECK(c.n == 7 && c.e[0].emptied_by == 7 && c.e[1].emptied_by == 7 &&
          c.e[3].emptied_by == 7 && c.e[4].emptied_by == 7 && !c.e[2].emptied_by &&
          !c.e[5].emptied_by);
    CHECK(strstr(c.details[6], "\"emptied\":4") != NULL);
    verify_long(&c, NULL, 0);
    verify_long(&c, &before_format, 0);
    verify_long(&c, &before_erasure, 0);
    audit_anchor after = head_at(&c, c.n);
    append(&c, AUDIT_FORMAT_V2, "u-a", "logout", NULL);
    verify_long(&c, &after, 0);
    for (size_t i = 0; i < c.n; i++)
        CHECK(!c.e[i].emptied_by || (!c.e[i].session_id && !c.e[i].details &&
                                     !c.e[i].nonce && !c.e[i].actor_id[0]));

    /* A second erasure later in the chain. */
    erase(&c, "c-kept", NULL);
    verify_long(&c, NULL, 0);
    verify_long(&c, &after, 0);
}

/* Emptying that no erasure accounts for, and an erasure's record changed, are found. */
static void emptying_needs_its_erasure(void)
{
    long_chain c;
    memset(&c, 0, sizeof c);
    append(&c, AUDIT_FORMAT_V1, "u-a", "case.create", "c-gone");
    append(&c, AUDIT_FORMAT_V1, "u-a", "login.ok", NULL);
    append(&c, AUDIT_FORMAT_V2, "u-a", "session.read.open", "c-gone");
    append(&c, AUDIT_FORMAT_V2, "u-b", "session.read.open", "c-other");
    erase(&c, "c-gone", NULL);
    verify_long(&c, NULL, 0);

    /* Another entry emptied in the erasure's name, of either format. */
    for (size_t victim = 1; victim <= 3; victim += 2) {
        long_chain d = c;
        d.e[victim].emptied_by = 5;
        d.e[victim].nonce = NULL;
        audit_report r = verify_long(&d, NULL, 1);
        CHECK(r.problem == AUDIT_EMPTIED && r.seq == 5);
    }
    /* Emptied in the name of nothing, of an entry that is no erasure, or of an earlier
     * one. */
    int64_t bogus[] = {9, 4, 1};
    for (size_t k = 0; k < 3; k++) {
        long_chain d = c;
        d.e[1].emptied_by = bogus[k];
        audit_report r = verify_long(&d, NULL, 1);
        CHECK(r.problem == AUDIT_EMPTIED && r.seq == 2);
    }
    /* An emptied format-1 entry whose hash was changed breaks its link. */
    long_chain d = c;
    d.e[0].hash[5] = d.e[0].hash[5] == 'a' ? 'b' : 'a';
    audit_report r = verify_long(&d, NULL, 1);
    CHECK(r.problem != AUDIT_INTACT);
    /* The erasure's own record changed (fewer entries): its hash no longer matches. */
    d = c;
    d.e[4].details = d.details[4];
    char *at = strstr(d.details[4], "\"emptied\":2");
    CHECK(at != NULL);
    if (at)
        at[10] = '1';
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 5);
    /* ... and recomputed after that: the count no longer fits. */
    auth_error err = {{0}};
    CHECK(audit_seal(&d.e[4], d.e[3].hash, &err) == 0);
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_EMPTIED && r.seq == 5);
    /* An emptied format-2 entry "restored" with other content. */
    d = c;
    d.e[2].emptied_by = 0;
    d.e[2].actor_id = "u-z";
    d.e[2].action = "session.read.open";
    d.e[2].nonce = nonces[2];
    r = verify_long(&d, NULL, 1);
    CHECK(r.problem == AUDIT_ALTERED && r.seq == 3);
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
    RUN(head_line_round_trips);
    RUN(head_line_refuses_anything_else);
    RUN(checkpoint_holds_the_chain_to_its_head);
    RUN(format2_is_pinned);
    RUN(formats_chain_together);
    RUN(erasure_keeps_the_chain);
    RUN(emptying_needs_its_erasure);
    return unit_finish("test_auth_audit");
}
