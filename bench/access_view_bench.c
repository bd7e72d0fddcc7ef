/*
 * What the view module costs per op and per snapshot, for each kind of reader, on a case
 * sheet of the default template filled like a long session (N chat messages, notes, a
 * few KB of own words; N from the first argument, default 200).
 *
 *   build/bench/access_view_bench [N [MIN_SECONDS]]
 *
 * Figures, each the mean over at least MIN_SECONDS (default 0.5) after a warm-up:
 *   - a typing op (one character into concern.own_words) projected for each reader;
 *   - a snapshot projected for each reader;
 *   - an op that gives a consent (share with housing; supervision), projected for the
 *     readers it changes (their transition components included);
 *   - the write check and the stamping op of a chat message.
 * Prints one line per figure: name, microseconds per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth/access_view.h"
#include "auth/template.h"
#include "ot/json0.h"

static double min_seconds = 0.5;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef cJSON *(*bench_fn)(void *arg);

/* Microseconds per call of fn (its result freed, untimed cost included). */
static double measure(bench_fn fn, void *arg)
{
    long n = 0;
    double start, elapsed;

    cJSON_Delete(fn(arg));
    start = now_s();
    do {
        for (int i = 0; i < 16; i++, n++)
            cJSON_Delete(fn(arg));
        elapsed = now_s() - start;
    } while (elapsed < min_seconds);
    return elapsed / (double)n * 1e6;
}

static const template_spec *tpl;
static cJSON *doc;

typedef struct job {
    const access_view *v;
    const access_frame *f;
    const access_names *after;
    const cJSON *op;
    const cJSON *doc;
    const auth_principal *who;
} job;

static cJSON *view_op(void *arg)
{
    job *j = arg;
    auth_error err = {{0}};
    return access_view_op(tpl, j->v, j->f, j->after, j->doc, j->op, &err);
}

static cJSON *view_snapshot(void *arg)
{
    job *j = arg;
    auth_error err = {{0}};
    return access_view_snapshot(tpl, j->v, j->f, j->doc, &err);
}

static cJSON *write_check(void *arg)
{
    job *j = arg;
    auth_error err = {{0}};
    if (access_view_check_write(tpl, j->v, j->op, j->doc, &err) != 0)
        fprintf(stderr, "refused: %s\n", err.message);
    return NULL;
}

/* j->doc: the document after j->op. */
static cJSON *stamp(void *arg)
{
    job *j = arg;
    auth_error err = {{0}};
    cJSON *out = NULL;
    if (access_view_stamp(tpl, j->who, 1, j->doc, j->op, &out, &err) != 0)
        fprintf(stderr, "stamping: %s\n", err.message);
    return out;
}

static void apply(const char *text)
{
    cJSON *op = cJSON_Parse(text);
    ot_error err = {{0}};
    if (!op || ot_apply(&doc, op, &err) != 0) {
        fprintf(stderr, "fixture op does not apply: %s\n", err.message);
        exit(1);
    }
    cJSON_Delete(op);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    auth_error err = {{0}};
    auth_principal client, debt, housing, supervisor;
    char text[512];

    if (argc > 2)
        min_seconds = atof(argv[2]);
    tpl = template_default(&err);
    doc = tpl ? cJSON_Duplicate(template_document(tpl), 1) : NULL;
    if (!doc || auth_principal_init(&client, "c-1", "Mira Sommer", AUTH_ROLE_CLIENT, 0, 0, &err) ||
        auth_principal_init(&debt, "d-1", "D", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, 0, &err) ||
        auth_principal_init(&housing, "h-1", "H", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, 0, &err) ||
        auth_principal_init(&supervisor, "s-1", "S", AUTH_ROLE_SUPERVISOR, 0, 0, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    apply("[{\"p\":[\"person\",\"legal_name\",0],\"si\":\"Mira Sommerfeld\"}]");
    for (int i = 0; i < 40; i++)
        apply("[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"Mira hat Schulden und sucht eine Wohnung. \"}]");
    apply("[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"Drei Gläubiger, Ratenplan in Arbeit.\"}]");
    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text, "[{\"p\":[\"chat\",%d],\"li\":{\"text\":\"Nachricht %d von Mira\","
                 "\"from\":\"c-1\",\"from_role\":\"client\",\"at\":%d}}]", i, i, i);
        apply(text);
        if (i % 4 == 0) {
            snprintf(text, sizeof text, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"text\":\"Notiz %d\","
                     "\"author\":\"d-1\",\"at\":%d}}]", i, i);
            apply(text);
        }
    }
    char *printed = cJSON_PrintUnformatted(doc);
    printf("case sheet: %zu bytes, %d chat messages\n", strlen(printed), n);
    cJSON_free(printed);

    access_names *names = access_names_new();
    access_names_add(names, client.display_name);
    access_names_learn(names, template_identity(tpl), doc);
    access_frame none = {.consents = 0, .names = names};
    access_frame supervision = {.consents = ACCESS_CONSENT_SUPERVISION_BIT, .names = names};
    access_view vc = access_view_of(&client, false), vd = access_view_of(&debt, false);
    access_view vh = access_view_of(&housing, false), vs = access_view_of(&supervisor, false);
    cJSON *typing = cJSON_Parse("[{\"p\":[\"concern\",\"own_words\",5],\"si\":\"x\"}]");
    cJSON *share = cJSON_Parse("[{\"p\":[\"consents\",0],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\"}}]");
    cJSON *supervise = cJSON_Parse("[{\"p\":[\"consents\",0],\"li\":{\"kind\":\"supervision\",\"status\":\"given\"}}]");
    char chat_op[128];
    snprintf(chat_op, sizeof chat_op, "[{\"p\":[\"chat\",%d],\"li\":{\"text\":\"hallo\"}}]", n);
    cJSON *chat = cJSON_Parse(chat_op), *after = cJSON_Duplicate(doc, 1);
    ot_error oerr = {{0}};
    if (ot_apply(&after, chat, &oerr) != 0)
        return 1;

    struct { const char *name; bench_fn fn; job j; } figures[] = {
        {"typing op, client (view)", view_op, {&vc, &none, NULL, typing, NULL, NULL}},
        {"typing op, counsellor:debt (view)", view_op, {&vd, &none, NULL, typing, NULL, NULL}},
        {"typing op, supervisor without consent: masked (view)", view_op, {&vs, &none, NULL, typing, NULL, NULL}},
        {"typing op, supervisor with consent: names replaced (view)", view_op, {&vs, &supervision, NULL, typing, doc, NULL}},
        {"snapshot, client (view)", view_snapshot, {&vc, &none, NULL, NULL, doc, NULL}},
        {"snapshot, counsellor:debt (view)", view_snapshot, {&vd, &none, NULL, NULL, doc, NULL}},
        {"snapshot, supervisor without consent (view)", view_snapshot, {&vs, &none, NULL, NULL, doc, NULL}},
        {"snapshot, supervisor with consent (view)", view_snapshot, {&vs, &supervision, NULL, NULL, doc, NULL}},
        {"share/housing given, counsellor:housing (transition)", view_op, {&vh, &none, NULL, share, doc, NULL}},
        {"share/housing given, client (no transition)", view_op, {&vc, &none, NULL, share, doc, NULL}},
        {"supervision given, supervisor (masks become text)", view_op, {&vs, &none, NULL, supervise, doc, NULL}},
        {"chat message: write check", write_check, {&vc, NULL, NULL, chat, doc, &client}},
        {"chat message: stamping op", stamp, {&vc, NULL, NULL, chat, after, &client}},
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        printf("%-66s %10.2f us\n", figures[i].name, measure(figures[i].fn, &figures[i].j));

    cJSON_Delete(typing);
    cJSON_Delete(share);
    cJSON_Delete(supervise);
    cJSON_Delete(chat);
    cJSON_Delete(after);
    access_names_free(names);
    cJSON_Delete(doc);
    template_free((template_spec *)tpl);
    return 0;
}
