/*
 * Sealed records and the key store's file format: a record opens only under its key and
 * its associated data, and any change to it is refused; a key store round-trips through
 * its text, its keys unwrap only under its master key and only for their case, a removal
 * needs no master key, rotation rewraps every key, and malformed files are refused with a
 * message naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/keyfile.h"
#include "auth/sealed.h"
#include "unit.h"

static const unsigned char key_a[SEALED_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char key_b[SEALED_KEY_LEN] = "fedcba9876543210fedcba987654321";

static void records_with(sealed_box *box)
{
    char ad[SEALED_AD_MAX], ad2[SEALED_AD_MAX], *pt = NULL;
    size_t adlen = sealed_ad(ad, "ops", "case-1", "17"), len = 0, rlen = 0, ad2len;
    unsigned char *rec = NULL, *rec2 = NULL;
    const char *text = "[{\"p\":[\"concern\",\"own_words\",0],\"si\":\"Miete\"}]";

    CHECK(adlen == sizeof "konsil-record v1" + sizeof "ops" + sizeof "case-1" + 2);
    CHECK(sealed_seal(box, key_a, ad, adlen, text, strlen(text), &rec, &rlen) == 0);
    CHECK(rlen == strlen(text) + SEALED_OVERHEAD && rec[0] == SEALED_FORMAT);
    CHECK(memmem(rec, rlen, "Miete", 5) == NULL);
    CHECK(sealed_open(box, key_a, ad, adlen, rec, rlen, &pt, &len) == 0);
    CHECK(pt && len == strlen(text) && strcmp(pt, text) == 0);
    free(pt);
    pt = NULL;
    /* A fresh nonce every time: the same text never seals to the same record. */
    CHECK(sealed_seal(box, key_a, ad, adlen, text, strlen(text), &rec2, &rlen) == 0);
    CHECK(memcmp(rec, rec2, rlen) != 0);
    free(rec2);
    /* Another key, version, table or case: no. */
    CHECK(sealed_open(box, key_b, ad, adlen, rec, rlen, &pt, &len) == -1);
    const char *other[][3] = {{"ops", "case-1", "18"}, {"milestones", "case-1", "17"},
                              {"ops", "case-2", "17"}};
    for (size_t i = 0; i < 3; i++) {
        ad2len = sealed_ad(ad2, other[i][0], other[i][1], other[i][2]);
        CHECK(sealed_open(box, key_a, ad2, ad2len, rec, rlen, &pt, &len) == -1);
    }
    /* Any byte changed, or the record cut short. */
    for (size_t i = 0; i < rlen; i += 7) {
        rec[i] ^= 0x01;
        CHECK(sealed_open(box, key_a, ad, adlen, rec, rlen, &pt, &len) == -1);
        rec[i] ^= 0x01;
    }
    CHECK(sealed_open(box, key_a, ad, adlen, rec, rlen - 1, &pt, &len) == -1);
    CHECK(sealed_open(box, key_a, ad, adlen, rec, SEALED_OVERHEAD - 1, &pt, &len) == -1);
    CHECK(pt == NULL);
    /* The empty text seals too. */
    free(rec);
    CHECK(sealed_seal(box, key_a, ad, adlen, "", 0, &rec, &rlen) == 0);
    CHECK(sealed_open(box, key_a, ad, adlen, rec, rlen, &pt, &len) == 0 && len == 0 && pt[0] == 0);
    free(pt);
    free(rec);
}

/* One-off, and with a box reused across records and keys (the key schedule kept while
 * the key stays, the nonces from its pool). */
static void records_open_only_where_they_were_sealed(void)
{
    sealed_box *box = sealed_box_new();
    char ad[SEALED_AD_MAX], *pt = NULL;
    size_t adlen = sealed_ad(ad, "ops", "c", "1"), len, rlen;
    unsigned char *rec[3] = {NULL, NULL, NULL};
    const unsigned char *keys[3] = {key_a, key_b, key_a};

    CHECK(box != NULL);
    records_with(NULL);
    records_with(box);
    /* Keys taking turns; a record of one key opened in a box keyed with another. */
    for (int i = 0; i < 3; i++)
        CHECK(sealed_seal(box, keys[i], ad, adlen, "abc", 3, &rec[i], &rlen) == 0);
    for (int i = 2; i >= 0; i--) {
        CHECK(sealed_open(box, keys[i], ad, adlen, rec[i], rlen, &pt, &len) == 0 &&
              len == 3 && memcmp(pt, "abc", 3) == 0);
        free(pt);
        pt = NULL;
        CHECK(sealed_open(NULL, keys[i], ad, adlen, rec[i], rlen, &pt, &len) == 0);
        free(pt);
        pt = NULL;
    }
    /* A failed open leaves the box usable. */
    CHECK(sealed_open(box, key_b, ad, adlen, rec[0], rlen, &pt, &len) == -1);
    CHECK(sealed_open(box, key_a, ad, adlen, rec[0], rlen, &pt, &len) == 0);
    free(pt);
    /* Nonces never repeat across many records (the pool is refilled). */
    unsigned char *prev = NULL, *cur = NULL;
    for (int i = 0; i < 1000; i++) {
        CHECK(sealed_seal(box, key_a, ad, adlen, "x", 1, &cur, &rlen) == 0);
        if (prev)
            CHECK(memcmp(prev + 1, cur + 1, SEALED_NONCE_LEN) != 0);
        free(prev);
        prev = cur;
    }
    free(prev);
    for (int i = 0; i < 3; i++)
        free(rec[i]);
    sealed_box_free(box);
}

static void key_store_round_trips(void)
{
    keyfile kf, back;
    auth_error err = {{0}};
    unsigned char key1[SEALED_KEY_LEN];

    CHECK(keyfile_new(&kf, key_a, &err) == 0);
    CHECK(strlen(kf.id) == KEYFILE_ID_LEN && kf.generation == 0 && kf.n == 0);
    keyfile_entry *e1 = keyfile_add(&kf, key_a, "case-b", 1700000000000, &err);
    CHECK(e1 != NULL);
    memcpy(key1, e1->key, sizeof key1);
    CHECK(keyfile_add(&kf, key_a, "case-a", 1700000000001, &err) != NULL);
    CHECK(keyfile_add(&kf, key_a, "case-c", 1700000000002, &err) != NULL);
    CHECK(keyfile_add(&kf, key_a, "case-b", 5, &err) == keyfile_find(&kf, "case-b"));
    CHECK(kf.n == 3 && strcmp(kf.entries[0].case_id, "case-a") == 0);
    CHECK(keyfile_add(&kf, key_a, "bad id!", 1, &err) == NULL);
    kf.generation = 7;
    char *text = keyfile_format(&kf);
    CHECK(text && strncmp(text, "konsil-keys v1\nid ", 18) == 0 && strstr(text, "\ngeneration 7\n"));
    CHECK(strstr(text, "\nkey case-a 1700000000001 ") && strstr(text, "\nend\n"));
    CHECK(memmem(text, strlen(text), key1, sizeof key1) == NULL);

    /* Parsed back: wrapped until unlocked; the wrong master key is told at once. */
    CHECK(keyfile_parse(&back, text, strlen(text), &err) == 0);
    CHECK(back.n == 3 && back.generation == 7 && !back.entries[1].unlocked);
    memset(&err, 0, sizeof err);
    CHECK(keyfile_unlock(&back, key_b, NULL, &err) == -1);
    CHECK(strstr(err.message, "master key does not open") != NULL);
    CHECK(keyfile_unlock(&back, key_a, NULL, &err) == 0);
    CHECK(memcmp(keyfile_find(&back, "case-b")->key, key1, sizeof key1) == 0);
    keyfile_clear(&back);

    /* A wrapped key moved to another case does not unwrap. */
    char *moved = strdup(text), *a = strstr(moved, "key case-a "), *c = strstr(moved, "key case-c ");
    CHECK(a && c);
    if (a && c) {
        char wa[KEYFILE_WRAPPED_LEN + 1];
        memcpy(wa, strchr(a + 11, ' ') + 1, KEYFILE_WRAPPED_LEN);
        memcpy(strchr(a + 11, ' ') + 1, strchr(c + 11, ' ') + 1, KEYFILE_WRAPPED_LEN);
        memcpy(strchr(c + 11, ' ') + 1, wa, KEYFILE_WRAPPED_LEN);
        memset(&err, 0, sizeof err);
        CHECK(keyfile_parse(&back, moved, strlen(moved), &err) == 0);
        CHECK(keyfile_unlock(&back, key_a, NULL, &err) == -1);
        CHECK(strstr(err.message, "does not unwrap") != NULL);
        keyfile_clear(&back);
    }
    free(moved);

    /* Removal without the master key; the others stay as they were. */
    CHECK(keyfile_parse(&back, text, strlen(text), &err) == 0);
    CHECK(keyfile_remove(&back, "case-b") == 1 && keyfile_remove(&back, "case-b") == 0);
    char *text2 = keyfile_format(&back);
    keyfile_clear(&back);
    CHECK(text2 && !strstr(text2, "case-b") && strstr(text2, "case-a"));
    CHECK(keyfile_parse(&back, text2, strlen(text2), &err) == 0);
    CHECK(keyfile_unlock(&back, key_a, &kf, &err) == 0 && back.n == 2);
    keyfile_clear(&back);
    free(text2);

    /* Rotation: every key under the new master key, the same keys. */
    CHECK(keyfile_rewrap(&kf, key_b, &err) == 0);
    char *text3 = keyfile_format(&kf);
    CHECK(keyfile_parse(&back, text3, strlen(text3), &err) == 0);
    CHECK(keyfile_unlock(&back, key_a, NULL, &err) == -1);
    memset(&err, 0, sizeof err);
    CHECK(keyfile_unlock(&back, key_b, NULL, &err) == 0);
    CHECK(memcmp(keyfile_find(&back, "case-b")->key, key1, sizeof key1) == 0);
    keyfile_clear(&back);
    free(text3);
    free(text);
    keyfile_clear(&kf);
}

static void malformed_key_stores_are_refused(void)
{
    keyfile kf;
    auth_error err = {{0}};
    CHECK(keyfile_new(&kf, key_a, &err) == 0);
    CHECK(keyfile_add(&kf, key_a, "a", 1, &err) && keyfile_add(&kf, key_a, "b", 2, &err));
    char *good = keyfile_format(&kf);
    keyfile_clear(&kf);
    struct { const char *from, *to, *message; } cases[] = {
        {"konsil-keys v1", "konsil-keys v2", "not a key store"},
        {"\nend\n", "\n", "cut short"},
        {"\nkey a ", "\nkey a! ", "line 5 is malformed"},
        {"\nkey b 2 ", "\nkey b x ", "line 6 is malformed"},
        {"\ngeneration 0", "\ngeneration -1", "line 3 is malformed"},
        {"\nid ", "\nid x", "line 2 is malformed"},
        {"\nend\n", "\nend\nkey c 3 x\n", "text after \"end\""},
        {"\nkey b ", "\nkey a ", "out of order or named twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[4096];
        const char *at = strstr(good, cases[i].from);
        CHECK(at != NULL);
        if (!at)
            continue;
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, cases[i].to,
                 at + strlen(cases[i].from));
        memset(&err, 0, sizeof err);
        CHECK(keyfile_parse(&kf, text, strlen(text), &err) == -1);
        if (!strstr(err.message, cases[i].message))
            fprintf(stderr, "  case %zu: \"%s\"\n", i, err.message);
        CHECK(strstr(err.message, cases[i].message) != NULL);
        CHECK(kf.n == 0 && kf.entries == NULL);
    }
    free(good);

    unsigned char m[SEALED_KEY_LEN];
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F\n";
    CHECK(keyfile_master_parse(hex, strlen(hex), m, &err) == 0 && m[1] == 1 && m[31] == 0x1f);
    CHECK(keyfile_master_parse("abc", 3, m, &err) == -1);
    CHECK(keyfile_master_parse(hex, 63, m, &err) == -1);
    char bad[80];
    snprintf(bad, sizeof bad, "%s", hex);
    bad[10] = 'g';
    CHECK(keyfile_master_parse(bad, strlen(bad), m, &err) == -1);
}

int main(void)
{
    RUN(records_open_only_where_they_were_sealed);
    RUN(key_store_round_trips);
    RUN(malformed_key_stores_are_refused);
    return unit_finish("test_auth_keys");
}
