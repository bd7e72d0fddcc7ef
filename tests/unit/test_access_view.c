/*
 * What every kind of principal receives of the default template's case sheet, on every
 * channel, in four consent states. The table below is the specification: one row per
 * place of the sheet and consent state, one column per reader. Each cell is checked on
 * every channel the view module serves:
 *   - what a page may say about the place (access_view_reading_at),
 *   - /ws: the snapshot at version 0 and every op from there, replayed, under the live
 *     frame (consents follow the document, names grow as the room learns them),
 *   - history and export: snapshot and ops under the frame of the time of the read
 *     (consents and names of the latest version, fixed),
 *   - presence at that place.
 * A place a reader may not read, reads masked or as the pseudonym, carries a distinctive
 * word that must appear nowhere in what that reader receives (history, final views,
 * presence; on /ws nowhere unless it was in its view at some version — consent given and
 * revoked later). Names (presence, lobby, people, authors) have their own table.
 */
#include "view_fixture.h"

/* Readers, the columns of the table. */
enum { C_CLIENT, C_GENERAL, C_DEBT, C_SOCIAL, C_MIGRATION, C_HOUSING, C_FAMILY, C_ADDICTION,
       C_LEAD, C_SUP, C_SUP_ID, C_ADMIN, C_EXPORT, C_EXPORT_PS, N_READERS };
static const char *const reader_names[N_READERS] = {
    "client", "counsellor (no specialty)", "counsellor:debt", "counsellor:social_law",
    "counsellor:migration", "counsellor:housing", "counsellor:family", "counsellor:addiction",
    "lead (social_law)", "supervisor", "supervisor, identified grant", "admin", "export",
    "export --pseudonymise"};

/* Consent states, built by the ops of build_case(). */
enum { S_NONE, S_SHARE, S_SUPV, S_ALL, N_STATES, S_ANY = -1 };
static const char *const state_names[N_STATES] = {
    "no consent (share/housing and supervision given, then revoked)",
    "share/housing", "supervision (given, revoked, given again)",
    "share/housing + share/debt + supervision"};

/* Cells: T the value as it is, R the text with the names the case knows replaced by
 * "Klient:in A", M a mask of the same length (structure only), P always "Klient:in A",
 * - nothing (not in the view). */
static const struct row {
    const char *path;
    int state;
    const char *cells;     /* C  G  D  S  Mi H  F  A  L  Sup SupI Adm Exp ExpP */
    const char *secret;    /* a word of the value that must not leak where hidden */
} table[] = {
    {"[\"meta\",\"status\"]", S_ANY,                 "T T T T T T T T T R T - T R", NULL},
    {"[\"meta\",\"title\"]", S_NONE,                 "T T T T T T T T T M M - T M", "ZEBRA-TITLE"},
    {"[\"meta\",\"title\"]", S_SHARE,                "T T T T T T T T T M M - T M", "ZEBRA-TITLE"},
    {"[\"meta\",\"title\"]", S_SUPV,                 "T T T T T T T T T R T - T R", "ZEBRA-TITLE"},
    {"[\"meta\",\"title\"]", S_ALL,                  "T T T T T T T T T R T - T R", "ZEBRA-TITLE"},
    {"[\"person\",\"legal_name\"]", S_ANY,           "T T T T T T T T T P T - T P", "Sommerfeld"},
    {"[\"person\",\"phone\"]", S_ANY,                "T T T T T T T T T P T - T P", "5550123"},
    {"[\"person\",\"postcode\"]", S_ANY,             "T T T T T T T T T R T - T R", NULL},
    {"[\"concern\",\"own_words\"]", S_NONE,          "T T T T T T T T T M M - T M", "ZEBRA-OWN"},
    {"[\"concern\",\"own_words\"]", S_SHARE,         "T T T T T T T T T M M - T M", "ZEBRA-OWN"},
    {"[\"concern\",\"own_words\"]", S_SUPV,          "T T T T T T T T T R T - T R", "ZEBRA-OWN"},
    {"[\"concern\",\"own_words\"]", S_ALL,           "T T T T T T T T T R T - T R", "ZEBRA-OWN"},
    {"[\"situation\",\"assessment\"]", S_NONE,       "- T T T T T T T T M M - T M", "ZEBRA-ASSESS"},
    {"[\"situation\",\"assessment\"]", S_SHARE,      "- T T T T T T T T M M - T M", "ZEBRA-ASSESS"},
    {"[\"situation\",\"assessment\"]", S_SUPV,       "- T T T T T T T T R T - T R", "ZEBRA-ASSESS"},
    {"[\"situation\",\"assessment\"]", S_ALL,        "- T T T T T T T T R T - T R", "ZEBRA-ASSESS"},
    {"[\"help_plan\",\"tasks\",0,\"what\"]", S_NONE, "T T T T T T T T T M M - T M", "ZEBRA-TASK"},
    {"[\"help_plan\",\"tasks\",0,\"what\"]", S_SHARE, "T T T T T T T T T M M - T M", "ZEBRA-TASK"},
    {"[\"help_plan\",\"tasks\",0,\"what\"]", S_SUPV, "T T T T T T T T T R T - T R", "ZEBRA-TASK"},
    {"[\"help_plan\",\"tasks\",0,\"what\"]", S_ALL,  "T T T T T T T T T R T - T R", "ZEBRA-TASK"},
    {"[\"help_plan\",\"tasks\",0,\"due\"]", S_ANY,   "T T T T T T T T T R T - T R", NULL},
    {"[\"help_plan\",\"tasks\",0,\"created_by\"]", S_ANY, "T T T T T T T T T R T - T R", NULL},
    {"[\"sections\",\"debt\",\"client_summary\"]", S_NONE,  "T - T - - - - - T M M - T M", "ZEBRA-DEBTSUM"},
    {"[\"sections\",\"debt\",\"client_summary\"]", S_SHARE, "T - T - - T - - T M M - T M", "ZEBRA-DEBTSUM"},
    {"[\"sections\",\"debt\",\"client_summary\"]", S_SUPV,  "T - T - - - - - T R T - T R", "ZEBRA-DEBTSUM"},
    {"[\"sections\",\"debt\",\"client_summary\"]", S_ALL,   "T - T - - T - - T R T - T R", "ZEBRA-DEBTSUM"},
    {"[\"sections\",\"debt\",\"cause\"]", S_NONE,    "- - T - - - - - T M M - T M", "ZEBRA-DEBTCAUSE"},
    {"[\"sections\",\"debt\",\"cause\"]", S_SHARE,   "- - T - - - - - T M M - T M", "ZEBRA-DEBTCAUSE"},
    {"[\"sections\",\"debt\",\"cause\"]", S_SUPV,    "- - T - - - - - T R T - T R", "ZEBRA-DEBTCAUSE"},
    {"[\"sections\",\"debt\",\"cause\"]", S_ALL,     "- - T - - - - - T R T - T R", "ZEBRA-DEBTCAUSE"},
    {"[\"sections\",\"housing\",\"client_summary\"]", S_NONE,  "T - - - - T - - T M M - T M", "ZEBRA-HOUSSUM"},
    {"[\"sections\",\"housing\",\"client_summary\"]", S_SHARE, "T - - - - T - - T M M - T M", "ZEBRA-HOUSSUM"},
    {"[\"sections\",\"housing\",\"client_summary\"]", S_SUPV,  "T - - - - T - - T R T - T R", "ZEBRA-HOUSSUM"},
    {"[\"sections\",\"housing\",\"client_summary\"]", S_ALL,   "T - T - - T - - T R T - T R", "ZEBRA-HOUSSUM"},
    {"[\"sections\",\"family\",\"child_welfare\",0,\"concern\"]", S_NONE,  "- - - - - - T - T M M - T M", "ZEBRA-CW"},
    {"[\"sections\",\"family\",\"child_welfare\",0,\"concern\"]", S_SHARE, "- - - - - - T - T M M - T M", "ZEBRA-CW"},
    {"[\"sections\",\"family\",\"child_welfare\",0,\"concern\"]", S_SUPV,  "- - - - - - T - T R T - T R", "ZEBRA-CW"},
    {"[\"sections\",\"family\",\"child_welfare\",0,\"concern\"]", S_ALL,   "- - - - - - T - T R T - T R", "ZEBRA-CW"},
    {"[\"sections\",\"family\",\"child_welfare\",0,\"author\"]", S_ANY,    "- - - - - - T - T R T - T R", NULL},
    {"[\"internal\",\"notes\",0,\"text\"]", S_NONE,  "- T T T T T T T T M M - T M", "ZEBRA-NOTE"},
    {"[\"internal\",\"notes\",0,\"text\"]", S_SHARE, "- T T T T T T T T M M - T M", "ZEBRA-NOTE"},
    {"[\"internal\",\"notes\",0,\"text\"]", S_SUPV,  "- T T T T T T T T R T - T R", "ZEBRA-NOTE"},
    {"[\"internal\",\"notes\",0,\"text\"]", S_ALL,   "- T T T T T T T T R T - T R", "ZEBRA-NOTE"},
    {"[\"internal\",\"notes\",0,\"author\"]", S_ANY, "- T T T T T T T T R T - T R", NULL},
    {"[\"chat\",0,\"text\"]", S_NONE,                "T T T T T T T T T M M - T M", "ZEBRA-CHAT"},
    {"[\"chat\",0,\"text\"]", S_SHARE,               "T T T T T T T T T M M - T M", "ZEBRA-CHAT"},
    {"[\"chat\",0,\"text\"]", S_SUPV,                "T T T T T T T T T R T - T R", "ZEBRA-CHAT"},
    {"[\"chat\",0,\"text\"]", S_ALL,                 "T T T T T T T T T R T - T R", "ZEBRA-CHAT"},
    {"[\"chat\",0,\"from\"]", S_ANY,                 "T T T T T T T T T R T - T R", NULL},
    {"[\"chat\",0,\"from_role\"]", S_ANY,            "T T T T T T T T T T T - T T", NULL},
    {"[\"consents\",0,\"kind\"]", S_ANY,             "T T T T T T T T T T T - T T", NULL},
    {"[\"consents\",0,\"recorded_by\"]", S_ANY,      "T T T T T T T T T R T - T R", NULL},
    {"[\"consents\",0,\"note\"]", S_NONE,            "T T T T T T T T T M M - T M", "ZEBRA-CONSENTNOTE"},
    {"[\"consents\",0,\"note\"]", S_SHARE,           "T T T T T T T T T M M - T M", "ZEBRA-CONSENTNOTE"},
    {"[\"consents\",0,\"note\"]", S_SUPV,            "T T T T T T T T T R T - T R", "ZEBRA-CONSENTNOTE"},
    {"[\"consents\",0,\"note\"]", S_ALL,             "T T T T T T T T T R T - T R", "ZEBRA-CONSENTNOTE"},
};

/* Names, the second table: how a client and a counsellor are named to each reader. */
static const struct name_row {
    int reader;
    const char *client_name;    /* what the client (display name "Mimi Sommer") reads as */
    const char *client_flag;    /* "name_self_chosen" or "pseudonym" */
    bool lobby, people;         /* may read the lobby, the people list */
} names_table[] = {
    {C_CLIENT, "Mimi Sommer", "name_self_chosen", false, true},
    {C_GENERAL, "Mimi Sommer", "name_self_chosen", true, true},
    {C_DEBT, "Mimi Sommer", "name_self_chosen", true, true},
    {C_LEAD, "Mimi Sommer", "name_self_chosen", true, true},
    {C_SUP, "Klient:in A", "pseudonym", true, true},
    {C_SUP_ID, "Mimi Sommer", "name_self_chosen", true, true},
    {C_ADMIN, "Klient:in A", "pseudonym", false, false},
    {C_EXPORT, "Mimi Sommer", "name_self_chosen", false, true},
    {C_EXPORT_PS, "Klient:in A", "pseudonym", false, true},
};

static template_spec *tpl;
static auth_principal client, general, debt, social, migration, housing, family, addiction,
    lead, supervisor, admin;
static access_view views[N_READERS];
static const char *const client_names[] = {"Mimi Sommer", NULL};

static void build_case(fix_case *fc, int state)
{
    fix_case_init(fc, tpl);
    fix_submit(fc, &client, "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"Mira braucht Hilfe ZEBRA-OWN\"}]");
    fix_submit(fc, &client, "[{\"p\":[\"consents\",0],\"li\":{\"kind\":\"processing\",\"status\":\"given\",\"note\":\"ZEBRA-CONSENTNOTE\"}}]");
    fix_submit(fc, &client, "[{\"p\":[\"person\",\"legal_name\",0],\"si\":\"Mira Sommerfeld\"}]");
    fix_submit(fc, &client, "[{\"p\":[\"person\",\"phone\",0],\"si\":\"0171 5550123\"}]");
    fix_submit(fc, &client, "[{\"p\":[\"person\",\"postcode\",0],\"si\":\"12345\"}]");
    fix_submit(fc, &lead, "[{\"p\":[\"meta\",\"title\",0],\"si\":\"Fall ZEBRA-TITLE\"}]");
    fix_submit(fc, &lead, "[{\"p\":[\"meta\",\"status\"],\"od\":\"erstkontakt\",\"oi\":\"aktiv\"}]");
    if (state == S_NONE || state == S_SHARE || state == S_ALL)
        fix_submit(fc, &client, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\"}}]");
    if (state == S_ALL)
        fix_submit(fc, &lead, "[{\"p\":[\"consents\",2],\"li\":{\"kind\":\"share\",\"with\":\"debt\",\"status\":\"given\",\"how\":\"paper\"}}]");
    if (state == S_NONE)
        fix_submit(fc, &client, "[{\"p\":[\"consents\",2],\"li\":{\"kind\":\"supervision\",\"status\":\"given\"}}]");
    if (state == S_SUPV)
        fix_submit(fc, &client, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"supervision\",\"status\":\"given\"}}]");
    fix_submit(fc, &debt, "[{\"p\":[\"situation\",\"assessment\",0],\"si\":\"Einschätzung ZEBRA-ASSESS\"}]");
    fix_submit(fc, &client, "[{\"p\":[\"help_plan\",\"tasks\",0],\"li\":{\"what\":\"Briefe ZEBRA-TASK\",\"due\":\"2025-05-01\",\"done\":false}}]");
    fix_submit(fc, &debt, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"Schulden ZEBRA-DEBTSUM\"}]");
    fix_submit(fc, &debt, "[{\"p\":[\"sections\",\"debt\",\"cause\",0],\"si\":\"Ursache ZEBRA-DEBTCAUSE\"}]");
    fix_submit(fc, &housing, "[{\"p\":[\"sections\",\"housing\",\"client_summary\",0],\"si\":\"Wohnung ZEBRA-HOUSSUM\"}]");
    fix_submit(fc, &family, "[{\"p\":[\"sections\",\"family\",\"child_welfare\",0],\"li\":{\"concern\":\"Kind ZEBRA-CW\"}}]");
    fix_submit(fc, &general, "[{\"p\":[\"internal\",\"notes\",0],\"li\":{\"text\":\"Notiz ZEBRA-NOTE\",\"author\":null}}]");
    fix_submit(fc, &client, "[{\"p\":[\"chat\",0],\"li\":{\"text\":\"Hallo, ich bin Mimi ZEBRA-CHAT\"}}]");
    fix_submit(fc, &debt, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",22],\"si\":\" (Mira)\"},"
                          "{\"p\":[\"sections\",\"debt\",\"notes\",0],\"li\":{\"text\":\"für Mira\"}}]");
    if (state == S_NONE) {
        fix_submit(fc, &lead, "[{\"p\":[\"consents\",3],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"revoked\",\"how\":\"phone\",\"note\":\"am Telefon\"}}]");
        fix_submit(fc, &client, "[{\"p\":[\"consents\",4],\"li\":{\"kind\":\"supervision\",\"status\":\"revoked\"}}]");
    }
    if (state == S_SUPV) {
        fix_submit(fc, &client, "[{\"p\":[\"consents\",2],\"li\":{\"kind\":\"supervision\",\"status\":\"revoked\"}}]");
        fix_submit(fc, &lead, "[{\"p\":[\"consents\",3],\"li\":{\"kind\":\"supervision\",\"status\":\"given\",\"how\":\"in_person\"}}]");
    }
    if (state == S_ALL)
        fix_submit(fc, &client, "[{\"p\":[\"consents\",3],\"li\":{\"kind\":\"supervision\",\"status\":\"given\"}}]");
}

/* ---- replaying a channel ------------------------------------------------------------ */

static void append_seen(cJSON *seen, const cJSON *v)
{
    cJSON_AddItemToArray(seen, cJSON_Duplicate(v, 1));
}

/* Replays the case through view v from version 0. live: frame of /ws (consents follow
 * the document, names grow op by op); else the frame of a read at the latest version.
 * Checks the invariant at every version; everything received goes to seen, every
 * expected snapshot to expected_all. Returns the final view. */
static cJSON *replay(const fix_case *fc, const access_view *v, bool live, cJSON *seen,
                     cJSON *expected_all, const char *who)
{
    access_names *names = live ? fix_names(fc, 0, client_names) : access_names_new();
    access_frame f = {.consents = access_view_consents(tpl, live ? fc->docs[0] : fix_head(fc)),
                      .consents_fixed = !live, .names = names};
    auth_error err = {{0}};
    cJSON *view;

    if (!live) {
        access_names_add(names, client_names[0]);
        access_names_learn(names, template_identity(tpl), fix_head(fc));
    }
    view = access_view_snapshot(tpl, v, &f, fc->docs[0], &err);
    CHECK(view != NULL);
    append_seen(seen, view);
    for (int i = 0; view && i < fc->n; i++) {
        access_names *after = live ? fix_names(fc, i + 1, client_names) : NULL;
        bool needs = access_view_op_needs_doc(tpl, v, &f, after, fc->ops[i]);
        cJSON *p = access_view_op(tpl, v, &f, after, needs ? fc->docs[i] : NULL, fc->ops[i], &err);
        cJSON *expected;
        ot_error oerr = {{0}};

        if (!p) {
            fprintf(stderr, "  %s: op %d not projected: %s\n", who, i, err.message);
            CHECK(p != NULL);
            access_names_free(after);
            break;
        }
        if (access_view_op_whole(tpl, v, &f, fc->ops[i]))
            CHECK(json_equal(p, fc->ops[i]));
        append_seen(seen, p);
        if (ot_apply(&view, p, &oerr) != 0)
            fprintf(stderr, "  %s (%s): op %d does not apply to the view: %s\n", who,
                    live ? "live" : "history", i, oerr.message);
        if (live) {
            f.consents = access_view_consents(tpl, fc->docs[i + 1]);
            access_names_free(names);
            f.names = names = after;
        }
        expected = access_view_snapshot(tpl, v, &f, fc->docs[i + 1], &err);
        if (!expected || !json_equal(view, expected)) {
            char *a = cJSON_PrintUnformatted(view), *b = cJSON_PrintUnformatted(expected);
            char *o = cJSON_PrintUnformatted(fc->ops[i]), *q = cJSON_PrintUnformatted(p);
            fprintf(stderr, "  %s (%s): drift after op %d %s\n    projected %s\n    got      %s\n"
                            "    expected %s\n", who, live ? "live" : "history", i, o, q, a, b);
            cJSON_free(a);
            cJSON_free(b);
            cJSON_free(o);
            cJSON_free(q);
            CHECK(false);
            cJSON_Delete(expected);
            cJSON_Delete(p);
            break;
        }
        append_seen(expected_all, expected);
        cJSON_Delete(expected);
        cJSON_Delete(p);
    }
    access_names_free(names);
    return view;
}

/* ---- cells ---------------------------------------------------------------------------- */

static access_view_reading reading_of(char code)
{
    switch (code) {
    case 'T': return ACCESS_READS_TEXT;
    case 'R': return ACCESS_READS_REDACTED;
    case 'M': return ACCESS_READS_STRUCTURE;
    case 'P': return ACCESS_READS_PSEUDONYM;
    default: return ACCESS_READS_NOTHING;
    }
}

static char cell(const struct row *r, int reader)
{
    int k = 0;
    for (const char *c = r->cells; *c; c++) {
        if (*c == ' ')
            continue;
        if (k++ == reader)
            return *c;
    }
    return '?';
}

/* What the reader should find at the row's place: NULL for nothing. */
static char *expected_value(char code, const cJSON *head, const cJSON *path,
                            const access_names *names)
{
    const cJSON *v = fix_at(head, path);
    char *out = NULL;
    size_t units;

    if (code == '-' || !cJSON_IsString(v))
        return NULL;
    switch (code) {
    case 'P':
        return strdup(ACCESS_PSEUDONYM);
    case 'M':
        units = 0;
        for (const unsigned char *s = (const unsigned char *)v->valuestring; *s; s++)
            if ((*s & 0xC0) != 0x80)
                units += *s >= 0xF0 ? 2 : 1;
        out = calloc(units * 3 + 1, 1);
        for (size_t i = 0; i < units; i++)
            memcpy(out + 3 * i, ACCESS_VIEW_MASK, 3);
        return out;
    case 'R':
        if (access_names_redact(names, v->valuestring, &out) == 1)
            return out;
        return strdup(v->valuestring);
    default:
        return strdup(v->valuestring);
    }
}

static bool check_place(const cJSON *view, const cJSON *path, const char *expected,
                        const char *what)
{
    const cJSON *got = fix_at(view, path);
    bool ok = expected ? cJSON_IsString(got) && strcmp(got->valuestring, expected) == 0 : !got;
    if (!ok) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL;
        fprintf(stderr, "    %s: expected %s, got %s\n", what, expected ? expected : "nothing",
                g ? g : "nothing");
        cJSON_free(g);
    }
    return ok;
}

static bool check_presence(const access_view *v, access_consents consents, const cJSON *path,
                           bool visible)
{
    cJSON *value = cJSON_CreateObject(), *relayed;
    const cJSON *p;
    bool ok;

    cJSON_AddItemToObject(value, "path", cJSON_Duplicate(path, 1));
    cJSON_AddNumberToObject(value, "index", 2);
    cJSON_AddStringToObject(value, "label", "typed by the sender");
    relayed = access_view_presence(tpl, v, consents, value);
    p = cJSON_GetObjectItemCaseSensitive(relayed, "path");
    ok = visible ? json_equal(p, path) : cJSON_IsNull(p);
    if (ok && visible)
        ok = (cJSON_GetObjectItemCaseSensitive(relayed, "label") != NULL) ==
             !(v->flags & (ACCESS_VIEW_PSEUDONYMISED | ACCESS_VIEW_SUPERVISION));
    cJSON_Delete(relayed);
    cJSON_Delete(value);
    return ok;
}

static void the_table(void)
{
    int cells = 0, bad = 0;

    for (int state = 0; state < N_STATES; state++) {
        fix_case fc;
        build_case(&fc, state);
        CHECK(fc.failed == 0);
        access_consents consents = access_view_consents(tpl, fix_head(&fc));
        access_names *names = access_names_new();
        access_names_add(names, client_names[0]);
        access_names_learn(names, template_identity(tpl), fix_head(&fc));
        for (int reader = 0; reader < N_READERS; reader++) {
            const access_view *v = &views[reader];
            cJSON *live_seen = cJSON_CreateArray(), *live_views = cJSON_CreateArray();
            cJSON *read_seen = cJSON_CreateArray(), *read_views = cJSON_CreateArray();
            cJSON *live = replay(&fc, v, true, live_seen, live_views, reader_names[reader]);
            cJSON *read = replay(&fc, v, false, read_seen, read_views, reader_names[reader]);
            char *live_text = cJSON_PrintUnformatted(live_seen);
            char *live_all = cJSON_PrintUnformatted(live_views);
            char *read_text = cJSON_PrintUnformatted(read_seen);
            char *final_text = cJSON_PrintUnformatted(live);

            for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
                const struct row *r = &table[i];
                char code;
                cJSON *path;
                char *want;
                bool ok = true, hidden;
                if (r->state != S_ANY && r->state != state)
                    continue;
                code = cell(r, reader);
                path = J(r->path);
                want = expected_value(code, fix_head(&fc), path, names);
                cells++;
                ok &= access_view_reading_at(tpl, v, consents, path) == reading_of(code);
                if (!ok)
                    fprintf(stderr, "    reading_at is %d\n",
                            access_view_reading_at(tpl, v, consents, path));
                ok &= check_place(live, path, want, "/ws");
                ok &= check_place(read, path, want, "history");
                if (!(v->flags & ACCESS_VIEW_EVERYTHING))
                    ok &= check_presence(v, consents, path, code != '-');
                hidden = code == '-' || code == 'M' || code == 'P';
                if (hidden && r->secret) {
                    bool in_read = strstr(read_text, r->secret) != NULL;
                    bool in_final = strstr(final_text, r->secret) != NULL;
                    bool in_live = strstr(live_text, r->secret) != NULL &&
                                   strstr(live_all, r->secret) == NULL;
                    if (in_read || in_final || in_live)
                        fprintf(stderr, "    \"%s\" leaks (history %d, final view %d, /ws %d)\n",
                                r->secret, in_read, in_final, in_live);
                    ok &= !in_read && !in_final && !in_live;
                }
                if (!ok) {
                    fprintf(stderr, "  cell %s, %s, %s: expected %c\n", r->path,
                            state_names[state], reader_names[reader], code);
                    bad++;
                }
                free(want);
                cJSON_Delete(path);
            }
            /* A pseudonymised reader finds no name of the client anywhere. */
            if (v->flags & ACCESS_VIEW_PSEUDONYMISED) {
                static const char *const client_words[] = {"Mira", "Sommerfeld", "Mimi",
                                                           "0171", NULL};
                for (size_t w = 0; client_words[w]; w++)
                    if (strstr(read_text, client_words[w]) || strstr(live_text, client_words[w])) {
                        fprintf(stderr, "  %s, %s: \"%s\" reaches a pseudonymised reader\n",
                                reader_names[reader], state_names[state], client_words[w]);
                        bad++;
                    }
            }
            cJSON_free(live_text);
            cJSON_free(live_all);
            cJSON_free(read_text);
            cJSON_free(final_text);
            cJSON_Delete(live);
            cJSON_Delete(read);
            cJSON_Delete(live_seen);
            cJSON_Delete(live_views);
            cJSON_Delete(read_seen);
            cJSON_Delete(read_views);
        }
        access_names_free(names);
        fix_case_free(&fc);
    }
    fprintf(stderr, "  %d cells checked on every channel, %d wrong\n", cells, bad);
    CHECK(bad == 0);
    CHECK(cells > 700);
}

/* ---- names ------------------------------------------------------------------------------- */

static void the_names_table(void)
{
    auth_principal counsellor;
    fix_principal(&counsellor, "c-9", "Frau Berater", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_DEBT, false);
    for (size_t i = 0; i < sizeof names_table / sizeof names_table[0]; i++) {
        const struct name_row *r = &names_table[i];
        const access_view *v = &views[r->reader];
        cJSON *u = access_view_identity(v, &client), *k = access_view_identity(v, &counsellor);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "name");
        bool ok = cJSON_IsString(name) && strcmp(name->valuestring, r->client_name) == 0 &&
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, r->client_flag)) &&
                  cJSON_GetArraySize(u) == 4 &&
                  strcmp(cJSON_GetObjectItemCaseSensitive(u, "id")->valuestring, client.id) == 0 &&
                  strcmp(cJSON_GetObjectItemCaseSensitive(k, "name")->valuestring, "Frau Berater") == 0 &&
                  strcmp(cJSON_GetObjectItemCaseSensitive(k, "specialty")->valuestring, "debt") == 0 &&
                  !cJSON_GetObjectItemCaseSensitive(k, "pseudonym") &&
                  access_view_may_list(v, ACCESS_LIST_LOBBY) == r->lobby &&
                  access_view_may_list(v, ACCESS_LIST_PEOPLE) == r->people;
        if (!ok) {
            char *a = cJSON_PrintUnformatted(u), *b = cJSON_PrintUnformatted(k);
            fprintf(stderr, "  names for %s: %s %s\n", reader_names[r->reader], a, b);
            cJSON_free(a);
            cJSON_free(b);
        }
        CHECK(ok);
        cJSON_Delete(u);
        cJSON_Delete(k);
    }
}

/* ---- transitions on an open view ---------------------------------------------------------- */

/* Projects ops [from, to) of fc for v onto *view under the live frame *f. */
static void follow(const fix_case *fc, const access_view *v, access_frame *f, cJSON **view,
                   int from, int to)
{
    for (int i = from; i < to; i++) {
        auth_error err = {{0}};
        ot_error oerr = {{0}};
        cJSON *p = access_view_op(tpl, v, f, NULL, fc->docs[i], fc->ops[i], &err);
        CHECK(p != NULL);
        CHECK(p && ot_apply(view, p, &oerr) == 0);
        cJSON_Delete(p);
        f->consents = access_view_consents(tpl, fc->docs[i + 1]);
    }
}

static const cJSON *debt_section(const cJSON *view)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(view, "sections"),
                                            "debt");
}

/* The housing counsellor's open view gains the debt summary with the client's consent and
 * loses it again with the revocation, without a reload; its history reads afterwards do
 * not show it even at the versions when it was shared. */
static void revocation_reaches_open_views(void)
{
    const access_view *v = &views[C_HOUSING];
    access_frame f = {.consents = 0, .consents_fixed = false, .names = NULL};
    access_frame later = {.consents_fixed = true, .names = NULL};
    cJSON *empty = J("{}"), *shared = J("{\"client_summary\":\"SHARED\"}"), *view, *old;
    auth_error err = {{0}};
    fix_case fc;
    int given;

    fix_case_init(&fc, tpl);
    fix_submit(&fc, &debt, "[{\"p\":[\"sections\",\"debt\",\"client_summary\",0],\"si\":\"SHARED\"}]");
    view = access_view_snapshot(tpl, v, &f, fix_head(&fc), &err);
    CHECK(json_equal(debt_section(view), empty));
    given = fc.n;
    fix_submit(&fc, &client, "[{\"p\":[\"consents\",0],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"given\"}}]");
    follow(&fc, v, &f, &view, given, fc.n);
    CHECK(json_equal(debt_section(view), shared));
    given = fc.n;
    fix_submit(&fc, &lead, "[{\"p\":[\"consents\",1],\"li\":{\"kind\":\"share\",\"with\":\"housing\",\"status\":\"revoked\",\"how\":\"phone\"}}]");
    follow(&fc, v, &f, &view, given, fc.n);
    CHECK(json_equal(debt_section(view), empty));
    later.consents = access_view_consents(tpl, fix_head(&fc));
    old = access_view_snapshot(tpl, v, &later, fc.docs[given], &err);
    CHECK(old && json_equal(debt_section(old), empty));
    CHECK(fc.failed == 0);
    cJSON_Delete(old);
    cJSON_Delete(view);
    cJSON_Delete(empty);
    cJSON_Delete(shared);
    fix_case_free(&fc);
}

/* ---- the names dictionary -------------------------------------------------------------- */

static bool redacts(const access_names *n, const char *in, const char *want)
{
    char *out = NULL;
    int rc = access_names_redact(n, in, &out);
    bool ok = want ? rc == 1 && strcmp(out, want) == 0 : rc == 0 && !out;
    if (!ok)
        fprintf(stderr, "  redact(\"%s\") = %d \"%s\", expected \"%s\"\n", in, rc,
                out ? out : "", want ? want : "(unchanged)");
    free(out);
    return ok;
}

static void names_dictionary(void)
{
    access_names *n = access_names_new(), *copy;
    cJSON *doc = J("{\"person\":{\"legal_name\":\"Mira Sommerfeld\",\"phone\":\"110\","
                   "\"address\":\"Lindenweg 4, Berlin\",\"email\":\"\"}}");

    CHECK(redacts(n, "Mira", NULL));
    CHECK(access_names_add(n, "Kim") == 0 && access_names_add(n, "Klient:in") == 0);
    CHECK(access_names_count(n) == 1);   /* "Klient:in" is part of the pseudonym */
    CHECK(redacts(n, "kim und KIM", ACCESS_PSEUDONYM " und " ACCESS_PSEUDONYM));
    copy = access_names_copy(n);
    CHECK(access_names_same(n, copy));
    CHECK(access_names_learn(n, template_identity(tpl), doc) == 0);
    CHECK(!access_names_same(n, copy));
    /* Whole values and their words of 4 bytes or more; "110" and "4" are too short. */
    CHECK(redacts(n, "Frau Mira Sommerfeld, Tel. 110", "Frau " ACCESS_PSEUDONYM ", Tel. 110"));
    CHECK(redacts(n, "mira wohnt in berlin, lindenweg 4",
                  ACCESS_PSEUDONYM " wohnt in " ACCESS_PSEUDONYM ", " ACCESS_PSEUDONYM " 4"));
    CHECK(redacts(n, "Sommerferien", NULL));
    CHECK(redacts(n, "Mimi", NULL));
    access_names_free(copy);
    access_names_free(n);
    cJSON_Delete(doc);
}

/* Sheets written before stamping hold names where stamps go now (the web filled `from`
 * and `given_by` with display names): a pseudonymised reader finds none of them. */
static void older_sheets_keep_names_out(void)
{
    cJSON *doc = cJSON_Duplicate(template_document(tpl), 1);
    access_names *n = access_names_new();
    access_frame f = {.consents = 0, .names = n};
    auth_error err = {{0}};
    cJSON *s;

    access_names_add(n, "Mimi Sommer");
    cJSON_ReplaceItemInObject(doc, "chat", J("[{\"from\":\"Mimi Sommer\",\"from_role\":\"client\","
                                             "\"text\":\"hallo\",\"at\":\"2024-05-01T10:00\"}]"));
    cJSON_ReplaceItemInObject(doc, "consents", J("[{\"type\":\"processing\",\"scope\":\"Mimi\","
                                                 "\"given_by\":\"Mimi Sommer\"}]"));
    s = access_view_snapshot(tpl, &views[C_SUP], &f, doc, &err);
    CHECK(s && !fix_contains(s, "Mimi") && fix_contains(s, "\"from_role\":\"client\""));
    CHECK(access_view_consents(tpl, doc) == 0);   /* an older record grants nothing */
    cJSON_Delete(s);
    access_names_free(n);
    cJSON_Delete(doc);
}

/* A free-text string outside the document reads as a free-text field would. */
static void text_outside_the_document(void)
{
    static const char *const want[N_READERS] = {
        "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira",
        "Fall Mira", "Fall Mira", "Fall Mira", "•••••••••", "•••••••••", "•••••••••",
        "Fall Mira", "•••••••••"};
    static const char *const want_consent[N_READERS] = {
        "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira", "Fall Mira",
        "Fall Mira", "Fall Mira", "Fall Mira", "Fall " ACCESS_PSEUDONYM, "Fall Mira",
        "•••••••••", "Fall Mira", "Fall " ACCESS_PSEUDONYM};
    access_names *n = access_names_new();

    access_names_add(n, "Mira");
    for (int r = 0; r < N_READERS; r++)
        for (int with = 0; with < 2; with++) {
            char *out = NULL;
            int rc = access_view_text(&views[r], with ? ACCESS_CONSENT_SUPERVISION_BIT : 0, n,
                                      "Fall Mira", &out);
            const char *got = rc == 1 ? out : "Fall Mira";
            const char *expected = with ? want_consent[r] : want[r];
            if (rc < 0 || strcmp(got, expected) != 0)
                fprintf(stderr, "  %s%s reads \"%s\", expected \"%s\"\n", reader_names[r],
                        with ? " (supervision consent)" : "", got, expected);
            CHECK(rc >= 0 && strcmp(got, expected) == 0);
            free(out);
        }
    access_names_free(n);
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
    fix_principal(&social, "social-1", "S", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_SOCIAL_LAW, false);
    fix_principal(&migration, "migration-1", "Mi", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_MIGRATION, false);
    fix_principal(&housing, "housing-1", "H", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_HOUSING, false);
    fix_principal(&family, "family-1", "F", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_FAMILY, false);
    fix_principal(&addiction, "addiction-1", "A", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_ADDICTION, false);
    fix_principal(&lead, "lead-1", "L", AUTH_ROLE_COUNSELLOR, AUTH_SPECIALTY_SOCIAL_LAW, true);
    fix_principal(&supervisor, "supervisor-1", "Sup", AUTH_ROLE_SUPERVISOR, AUTH_SPECIALTY_NONE, false);
    fix_principal(&admin, "admin-1", "Adm", AUTH_ROLE_ADMIN, AUTH_SPECIALTY_NONE, false);
    views[C_CLIENT] = access_view_of(&client, false);
    views[C_GENERAL] = access_view_of(&general, false);
    views[C_DEBT] = access_view_of(&debt, false);
    views[C_SOCIAL] = access_view_of(&social, false);
    views[C_MIGRATION] = access_view_of(&migration, false);
    views[C_HOUSING] = access_view_of(&housing, false);
    views[C_FAMILY] = access_view_of(&family, false);
    views[C_ADDICTION] = access_view_of(&addiction, false);
    views[C_LEAD] = access_view_of(&lead, false);
    views[C_SUP] = access_view_of(&supervisor, false);
    views[C_SUP_ID] = access_view_of(&supervisor, true);
    views[C_ADMIN] = access_view_of(&admin, false);
    views[C_EXPORT] = access_view_export(false);
    views[C_EXPORT_PS] = access_view_export(true);

    RUN(names_dictionary);
    RUN(the_table);
    RUN(the_names_table);
    RUN(text_outside_the_document);
    RUN(older_sheets_keep_names_out);
    RUN(revocation_reaches_open_views);

    template_free(tpl);
    return unit_finish("test_access_view");
}
