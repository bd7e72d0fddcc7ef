/*
 * The view invariant over random ops: for every kind of reader, every op the write check
 * accepts (and the server's stamping op after it),
 *     apply(view(doc), view(op)) == view(apply(doc, op)),
 * with each reader's copy kept op after op exactly as a connection keeps it (so drift
 * accumulates and shows), under the live frame (consents follow the document; names
 * grow as the room learns identity values and admits clients) and under fixed frames
 * (history reads with a consent state of their own). The ops edit free text with names
 * in it character by character, record and revoke consents of every kind, insert
 * stamped items, edit identity fields, and come as one to three components; supervisors
 * read in both modes as consents come and go.
 *
 * Runs with a fixed seed, and also with KONSIL_TEST_SEED when set (tests/run.sh sets a
 * random one; the seed is printed, so a failure can be replayed); KONSIL_TEST_OPS sets the number of candidate ops per
 * seed (default 4000: about 1500 accepted and 500 stamping ops, each through 12 readers).
 */
#include "view_fixture.h"

#include <inttypes.h>

static template_spec *tpl;
static auth_principal client, general, debt, housing, family, lead, supervisor, admin;
static const auth_principal *authors[] = {&client, &client, &client, &general, &debt,
                                          &housing, &family, &lead, &lead};
#define N_AUTHORS (sizeof authors / sizeof authors[0])

enum { N_VIEWS = 12 };
static access_view views[N_VIEWS];
static const char *view_names[N_VIEWS] = {
    "client", "counsellor", "counsellor:debt", "counsellor:housing", "counsellor:family",
    "lead", "supervisor", "supervisor (grant)", "admin", "export", "export --pseudonymise",
    "counsellor:migration"};

/* ---- randomness ------------------------------------------------------------------------ */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (unsigned)(rng % n) : 0;
}

static const char *const words[] = {
    "Mira", "Sommer", "feld", " ", "Mimi", "Hilfe", "ä", "\xf0\x9f\x98\x80", "Klient:in",
    "0171", "x", "Mira Sommerfeld", "MIRA", "Lindenweg 4", ", ", "\n"};
#define N_WORDS (sizeof words / sizeof words[0])

static void random_text(char *out, size_t cap)
{
    size_t n = 1 + rnd(3);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *w = words[rnd(N_WORDS)];
        if (strlen(out) + strlen(w) + 1 < cap)
            strcat(out, w);
    }
}

static cJSON *path_of(const char *text)
{
    return J(text);
}

/* ---- generators -------------------------------------------------------------------------- */

/* Collects the paths of the string leaves of v into list. */
static void string_leaves(const cJSON *v, cJSON *path, cJSON *list)
{
    const cJSON *e;
    int i = 0;

    if (cJSON_IsString(v)) {
        cJSON_AddItemToArray(list, cJSON_Duplicate(path, 1));
        return;
    }
    for (e = v ? v->child : NULL; e; e = e->next, i++) {
        cJSON_AddItemToArray(path, cJSON_IsObject(v) ? cJSON_CreateString(e->string)
                                                     : cJSON_CreateNumber(i));
        string_leaves(e, path, list);
        cJSON_DeleteItemFromArray(path, cJSON_GetArraySize(path) - 1);
    }
}

/* The UTF-16 offsets of the character boundaries of s; returns how many. */
static size_t boundaries(const char *s, size_t *units, size_t *bytes, size_t cap)
{
    size_t n = 0, u = 0;
    for (size_t b = 0;; ) {
        if (n < cap) {
            units[n] = u;
            bytes[n] = b;
            n++;
        }
        if (!s[b])
            break;
        unsigned char c = (unsigned char)s[b];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        u += len == 4 ? 2 : 1;
        b += len;
    }
    return n;
}

/* A string edit (si or sd) somewhere in doc, or NULL when it holds no string. */
static cJSON *string_edit(const cJSON *doc, const cJSON *under)
{
    cJSON *list = cJSON_CreateArray(), *path = cJSON_Duplicate(under, 1), *c = NULL;
    const cJSON *root = fix_at(doc, under), *pick, *s;
    size_t units[512], bytes[512], n;
    char text[128];

    string_leaves(root, path, list);
    if (cJSON_GetArraySize(list) == 0)
        goto done;
    pick = cJSON_GetArrayItem(list, (int)rnd((unsigned)cJSON_GetArraySize(list)));
    s = fix_at(doc, pick);
    n = boundaries(s->valuestring, units, bytes, 512);
    c = cJSON_CreateObject();
    cJSON *p = cJSON_Duplicate(pick, 1);
    if (n > 1 && rnd(3) == 0) {
        size_t a = rnd((unsigned)n - 1), b = a + 1 + rnd((unsigned)(n - 1 - a));
        char del[1024];
        snprintf(del, sizeof del, "%.*s", (int)(bytes[b] - bytes[a]), s->valuestring + bytes[a]);
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)units[a]));
        cJSON_AddStringToObject(c, "sd", del);
    } else {
        random_text(text, sizeof text);
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)units[rnd((unsigned)n)]));
        cJSON_AddStringToObject(c, "si", text);
    }
    cJSON_AddItemToObject(c, "p", p);
done:
    cJSON_Delete(list);
    cJSON_Delete(path);
    return c;
}

static const char *const stamped_lists[] = {
    "[\"chat\"]", "[\"help_plan\",\"tasks\"]", "[\"sections\",\"debt\",\"notes\"]",
    "[\"sections\",\"housing\",\"notes\"]", "[\"sections\",\"family\",\"child_welfare\"]",
    "[\"internal\",\"notes\"]", "[\"internal\",\"risk\"]", "[\"concern\",\"deadlines\"]"};

static cJSON *item_insert(const cJSON *doc)
{
    cJSON *p = path_of(stamped_lists[rnd(sizeof stamped_lists / sizeof stamped_lists[0])]);
    const cJSON *list = fix_at(doc, p);
    cJSON *c = cJSON_CreateObject(), *item = cJSON_CreateObject();
    char text[128];
    int n = cJSON_GetArraySize(list);

    random_text(text, sizeof text);
    cJSON_AddStringToObject(item, "text", text);
    if (rnd(10) == 0)
        cJSON_AddStringToObject(item, rnd(2) ? "from" : "author", "lead-1");   /* forged */
    if (rnd(10) == 0)
        cJSON_AddNullToObject(item, "author");
    cJSON_AddItemToArray(p, cJSON_CreateNumber(rnd(4) ? n : (int)rnd((unsigned)n + 1)));
    cJSON_AddItemToObject(c, "p", p);
    cJSON_AddItemToObject(c, "li", item);
    return c;
}

static cJSON *consent_record(const cJSON *doc, bool by_client)
{
    static const char *const kinds[] = {"share", "share", "share", "supervision", "supervision",
                                        "processing", "release", "sharing"};
    static const char *const specialties[] = {"debt", "housing", "family", "migration", "none"};
    static const char *const hows[] = {"in_person", "paper", "phone", "self"};
    const char *kind = kinds[rnd(sizeof kinds / sizeof kinds[0])];
    cJSON *c = cJSON_CreateObject(), *r = cJSON_CreateObject(), *p = path_of("[\"consents\"]");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "consents"));
    char text[128];

    cJSON_AddStringToObject(r, "kind", kind);
    if (strcmp(kind, "share") == 0 || rnd(20) == 0)
        cJSON_AddStringToObject(r, "with", specialties[rnd(5)]);
    if (strcmp(kind, "release") == 0)
        cJSON_AddStringToObject(r, "with", "Jobcenter");
    cJSON_AddStringToObject(r, "status", rnd(3) ? "given" : "revoked");
    if (!by_client || rnd(20) == 0)
        cJSON_AddStringToObject(r, "how", hows[rnd(by_client ? 4 : 3)]);
    if (rnd(3) == 0) {
        random_text(text, sizeof text);
        cJSON_AddStringToObject(r, "note", text);
    }
    cJSON_AddItemToArray(p, cJSON_CreateNumber(n));
    cJSON_AddItemToObject(c, "p", p);
    cJSON_AddItemToObject(c, "li", r);
    return c;
}

static cJSON *random_value(void)
{
    char text[64];
    switch (rnd(4)) {
    case 0:
        random_text(text, sizeof text);
        return cJSON_CreateString(text);
    case 1:
        return cJSON_CreateNumber(rnd(100));
    case 2:
        return J("{\"text\":\"Mira\",\"n\":[1]}");
    default:
        return J("[\"Sommerfeld\",{\"b\":2}]");
    }
}

/* Anything anywhere: oi/od, li/ld/lm, na, si on whatever the walk reaches. */
static cJSON *any_component(const cJSON *doc)
{
    cJSON *path = cJSON_CreateArray(), *c = cJSON_CreateObject(), *at;
    const cJSON *node = doc, *child;
    int n, i;
    bool existing;

    for (;;) {
        n = cJSON_GetArraySize(node);
        if (n == 0 || rnd(3) == 0)
            break;
        i = (int)rnd((unsigned)n);
        child = cJSON_GetArrayItem(node, i);
        if (!cJSON_IsObject(child) && !cJSON_IsArray(child))
            break;
        cJSON_AddItemToArray(path, cJSON_IsObject(node) ? cJSON_CreateString(child->string)
                                                        : cJSON_CreateNumber(i));
        node = child;
    }
    n = cJSON_GetArraySize(node);
    i = n ? (int)rnd((unsigned)n) : 0;
    child = n ? cJSON_GetArrayItem(node, i) : NULL;
    at = cJSON_IsObject(node) ? cJSON_CreateString(child && rnd(3) ? child->string : "fresh")
                              : cJSON_CreateNumber(cJSON_IsArray(node) && rnd(3) == 0 ? n : i);
    cJSON_AddItemToArray(path, at);
    existing = child && (cJSON_IsObject(node) ? strcmp(at->valuestring, child->string) == 0
                                              : at->valueint < n);
    if (existing && cJSON_IsNumber(child) && rnd(2)) {
        cJSON_AddItemToObject(c, "na", cJSON_CreateNumber(1));
    } else if (cJSON_IsArray(node)) {
        unsigned kind = existing ? rnd(4) : 0;
        if (kind == 0 || kind == 3)
            cJSON_AddItemToObject(c, "li", random_value());
        if (kind == 1 || kind == 3)
            cJSON_AddItemToObject(c, "ld", cJSON_Duplicate(child, 1));
        if (kind == 2)
            cJSON_AddItemToObject(c, "lm", cJSON_CreateNumber(rnd((unsigned)n)));
    } else {
        if (existing)
            cJSON_AddItemToObject(c, "od", cJSON_Duplicate(child, 1));
        if (!existing || rnd(2))
            cJSON_AddItemToObject(c, "oi", cJSON_IsString(child) && rnd(2) ?
                                  cJSON_CreateString("Sommerfeld") : random_value());
    }
    cJSON_AddItemToObject(c, "p", path);
    return c;
}

static const char *const edit_areas[] = {
    "[\"concern\"]", "[\"situation\"]", "[\"person\"]", "[\"sections\"]", "[\"internal\"]",
    "[\"chat\"]", "[\"help_plan\"]", "[\"meta\"]", "[]"};

static cJSON *one_component(const cJSON *doc, const auth_principal *who)
{
    cJSON *c = NULL, *under;

    switch (rnd(10)) {
    case 0:
    case 1:
        return item_insert(doc);
    case 2:
        return consent_record(doc, who->role == AUTH_ROLE_CLIENT);
    case 3:
        return any_component(doc);
    default:
        under = path_of(edit_areas[rnd(sizeof edit_areas / sizeof edit_areas[0])]);
        c = string_edit(doc, under);
        cJSON_Delete(under);
        return c ? c : any_component(doc);
    }
}

/* An op of one to three components, each made on the document the ones before leave. */
static cJSON *random_op(const cJSON *doc, const auth_principal *who)
{
    cJSON *op = cJSON_CreateArray(), *scratch = cJSON_Duplicate(doc, 1);
    unsigned n = rnd(4) == 0 ? 2 + rnd(2) : 1;

    for (unsigned i = 0; i < n; i++) {
        cJSON *c = one_component(scratch, who), *one = cJSON_CreateArray();
        ot_error err = {{0}};
        cJSON_AddItemToArray(one, cJSON_Duplicate(c, 1));
        cJSON_AddItemToArray(op, c);
        if (ot_apply(&scratch, one, &err) != 0) {
            cJSON_Delete(one);
            break;
        }
        cJSON_Delete(one);
    }
    cJSON_Delete(scratch);
    return op;
}

/* ---- the run ------------------------------------------------------------------------------- */

typedef struct reader {
    cJSON *copy;            /* the reader's document, as its connection keeps it */
} reader;

typedef struct stats {
    int candidates, accepted, stamps, consent_changes, multi, projected, transitions,
        drifted, fixed_checked;
} stats;

static void report_drift(const char *who, const char *frame, const cJSON *op, const cJSON *p,
                         const cJSON *got, const cJSON *want, const char *why)
{
    char *a = cJSON_PrintUnformatted(op), *b = p ? cJSON_PrintUnformatted(p) : NULL;
    char *g = got ? cJSON_PrintUnformatted(got) : NULL;
    char *w = want ? cJSON_PrintUnformatted(want) : NULL;
    fprintf(stderr, "  drift for %s (%s): %s\n    op        %s\n    projected %s\n",
            who, frame, why, a, b ? b : "-");
    if (g && w && strlen(g) + strlen(w) < 6000)
        fprintf(stderr, "    got       %s\n    expected  %s\n", g, w);
    cJSON_free(a);
    cJSON_free(b);
    cJSON_free(g);
    cJSON_free(w);
}

/* One op through every reader: live (its kept copy) and a fixed frame. */
static void project_all(reader *readers, const cJSON *before, const cJSON *after,
                        const cJSON *op, access_names **names, access_names *names_after,
                        access_consents fixed, stats *st)
{
    access_frame live = {.consents = access_view_consents(tpl, before), .names = *names};
    access_frame after_frame = {.consents = access_view_consents(tpl, after), .names = names_after};
    access_frame hist = {.consents = fixed, .consents_fixed = true, .names = names_after};

    for (int k = 0; k < N_VIEWS && st->drifted < 3; k++) {
        const access_view *v = &views[k];
        auth_error err = {{0}};
        ot_error oerr = {{0}};
        bool needs = access_view_op_needs_doc(tpl, v, &live, names_after, op);
        cJSON *p = access_view_op(tpl, v, &live, names_after, needs ? before : NULL, op, &err);
        cJSON *want = access_view_snapshot(tpl, v, &after_frame, after, &err);

        st->projected++;
        if (p && cJSON_GetArraySize(p) > cJSON_GetArraySize(op))
            st->transitions++;
        if (p && access_view_op_whole(tpl, v, &live, op) && !json_equal(p, op)) {
            report_drift(view_names[k], "live", op, p, NULL, NULL, "op_whole lied");
            st->drifted++;
        }
        if (!p || !want || ot_apply(&readers[k].copy, p, &oerr) != 0 ||
            !json_equal(readers[k].copy, want)) {
            report_drift(view_names[k], "live", op, p, readers[k].copy, want,
                         !p ? err.message : oerr.message[0] ? oerr.message : "differs");
            st->drifted++;
            cJSON_Delete(readers[k].copy);
            readers[k].copy = cJSON_Duplicate(want, 1);   /* report each drift once */
        }
        cJSON_Delete(p);
        cJSON_Delete(want);

        /* A history read: consents fixed, names of the time of the read; one reader
         * per op, in turn (each costs three snapshots). */
        if (k != st->projected / N_VIEWS % N_VIEWS)
            continue;
        cJSON *h0 = access_view_snapshot(tpl, v, &hist, before, &err);
        needs = access_view_op_needs_doc(tpl, v, &hist, NULL, op);
        cJSON *hp = access_view_op(tpl, v, &hist, NULL, needs ? before : NULL, op, &err);
        cJSON *h1 = access_view_snapshot(tpl, v, &hist, after, &err);
        memset(&oerr, 0, sizeof oerr);
        st->fixed_checked++;
        if (!h0 || !hp || !h1 || ot_apply(&h0, hp, &oerr) != 0 || !json_equal(h0, h1)) {
            report_drift(view_names[k], "fixed", op, hp, h0, h1,
                         !hp ? err.message : oerr.message[0] ? oerr.message : "differs");
            st->drifted++;
        }
        cJSON_Delete(h0);
        cJSON_Delete(hp);
        cJSON_Delete(h1);
    }
    access_names_free(*names);
    *names = names_after;
}

/* A new case: the template's document, the client admitted, every reader subscribed. */
static void start_case(cJSON **doc, access_names **names, reader *readers)
{
    access_frame f0;
    auth_error err = {{0}};

    for (int k = 0; k < N_VIEWS; k++)
        cJSON_Delete(readers[k].copy);
    cJSON_Delete(*doc);
    access_names_free(*names);
    *doc = cJSON_Duplicate(template_document(tpl), 1);
    *names = access_names_new();
    access_names_add(*names, client.display_name);
    f0 = (access_frame){.consents = 0, .names = *names};
    for (int k = 0; k < N_VIEWS; k++)
        readers[k].copy = access_view_snapshot(tpl, &views[k], &f0, *doc, &err);
}

/* Cases of this many accepted ops each, so the cost of a run grows linearly. */
#define CASE_OPS 250

static void run(uint64_t seed, int candidates)
{
    stats st = {0};
    reader readers[N_VIEWS] = {{0}};
    cJSON *doc = NULL;
    access_names *names = NULL;
    auth_error err = {{0}};
    int in_case = 0;

    rng = seed ? seed : 1;
    for (int round = 0; round < candidates && st.drifted == 0; round++) {
        const auth_principal *who = authors[rnd(N_AUTHORS)];
        access_view author = access_view_of(who, false);
        cJSON *op, *next, *stamp = NULL;
        access_names *after;
        access_consents fixed = rnd(0x100);
        ot_error oerr = {{0}};

        if (!doc || in_case >= CASE_OPS) {
            start_case(&doc, &names, readers);
            in_case = 0;
        }
        op = random_op(doc, who);
        st.candidates++;
        memset(&err, 0, sizeof err);
        next = cJSON_Duplicate(doc, 1);
        if (access_view_check_write(tpl, &author, op, doc, &err) != 0 ||
            ot_apply(&next, op, &oerr) != 0) {
            cJSON_Delete(next);
            cJSON_Delete(op);
            continue;
        }
        st.accepted++;
        in_case++;
        st.multi += cJSON_GetArraySize(op) > 1;
        if (access_view_consents(tpl, doc) != access_view_consents(tpl, next))
            st.consent_changes++;
        if (access_view_stamp(tpl, who, FIX_NOW + round, next, op, &stamp, &err) != 0) {
            fprintf(stderr, "  stamping failed: %s\n", err.message);
            st.drifted++;
        }
        after = access_names_copy(names);
        access_names_learn(after, template_identity(tpl), next);
        if (rnd(50) == 0)
            access_names_add(after, rnd(2) ? "Mimi Sommer" : "Kim");   /* a client admitted */
        project_all(readers, doc, next, op, &names, after, fixed, &st);
        cJSON_Delete(doc);
        doc = next;
        if (stamp) {
            next = cJSON_Duplicate(doc, 1);
            memset(&oerr, 0, sizeof oerr);
            if (ot_apply(&next, stamp, &oerr) != 0) {
                fprintf(stderr, "  the stamping op does not apply: %s\n", oerr.message);
                st.drifted++;
                cJSON_Delete(next);
            } else {
                st.stamps++;
                project_all(readers, doc, next, stamp, &names, access_names_copy(names), fixed,
                            &st);
                cJSON_Delete(doc);
                doc = next;
            }
            cJSON_Delete(stamp);
        }
        cJSON_Delete(op);
    }
    fprintf(stderr, "  seed %" PRIu64 ": %d candidate ops, %d accepted (%d of several components, "
                    "%d changing the consent state), %d stamping ops, %d projections (%d with "
                    "more components than the op), %d fixed-frame checks, %d drifts\n",
            seed, st.candidates, st.accepted, st.multi, st.consent_changes, st.stamps,
            st.projected, st.transitions, st.fixed_checked, st.drifted);
    CHECK(st.drifted == 0);
    CHECK(st.accepted > candidates / 5);
    CHECK(st.consent_changes > 20);
    CHECK(st.stamps > 100);
    CHECK(st.multi > 50);
    CHECK(st.transitions > 50);
    for (int k = 0; k < N_VIEWS; k++)
        cJSON_Delete(readers[k].copy);
    access_names_free(names);
    cJSON_Delete(doc);
}

static int candidates(void)
{
    const char *n = getenv("KONSIL_TEST_OPS");
    return n && atoi(n) > 0 ? atoi(n) : 4000;
}

static void fixed_seed(void)
{
    run(0x9e3779b97f4a7c15ull, candidates());
}

static void seed_from_environment(void)
{
    const char *s = getenv("KONSIL_TEST_SEED");
    if (!s || !*s) {
        fprintf(stderr, "  (KONSIL_TEST_SEED not set: one seed only)\n");
        return;
    }
    run(strtoull(s, NULL, 0), candidates());
}

int main(void)
{
    auth_error err = {{0}};

    tpl = template_default(&err);
    if (!tpl) {
        fprintf(stderr, "default template: %s\n", err.message);
        return 1;
    }
    fix_principal(&client, "client-1", "Mimi Sommer", AUTH_ROLE_CLIENT, AUTH_SPECIALTY_NONE, false);
    fix_principal(&general, "general-1", "G", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_NONE, false);
    fix_principal(&debt, "debt-1", "D", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, false);
    fix_principal(&housing, "housing-1", "H", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, false);
    fix_principal(&family, "family-1", "F", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_FAMILY, false);
    fix_principal(&lead, "lead-1", "L", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_SOCIAL_LAW, true);
    fix_principal(&supervisor, "supervisor-1", "S", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);
    fix_principal(&admin, "admin-1", "A", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false);
    views[0] = access_view_of(&client, false);
    views[1] = access_view_of(&general, false);
    views[2] = access_view_of(&debt, false);
    views[3] = access_view_of(&housing, false);
    views[4] = access_view_of(&family, false);
    views[5] = access_view_of(&lead, false);
    views[6] = access_view_of(&supervisor, false);
    views[7] = access_view_of(&supervisor, true);
    views[8] = access_view_of(&admin, false);
    views[9] = access_view_export(false);
    views[10] = access_view_export(true);
    views[11] = (access_view){.roles = ACCESS_COUNSELLOR | ACCESS_COUNSELLOR_OF(AUTH_SPECIALTY_MIGRATION)};

    RUN(fixed_seed);
    RUN(seed_from_environment);

    template_free(tpl);
    return unit_finish("test_access_view_props");
}
