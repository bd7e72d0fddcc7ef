/*
 * The audit table (see store_audit.h). The chain's head is read from the table inside
 * the same transaction that appends, so the server and the command line (which may
 * write while the server runs) never fork the chain: SQLite serialises the writers.
 */
#include "store/store_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "auth/encoding.h"

int store_audit_append(sqlite3 *db, int64_t ts, const char *actor, const char *action,
                       const char *session, const cJSON *details, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    audit_entry e;
    auth_error aerr = {{0}};
    char prev[AUDIT_HASH_LEN + 1] = AUDIT_GENESIS_HASH;
    char *details_text = NULL, nonce[AUDIT_NONCE_LEN + 1];
    unsigned char random[AUDIT_NONCE_LEN / 2];
    int64_t last = 0;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1,
                           &st, NULL) != SQLITE_OK)
        goto sqlfail;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        last = sqlite3_column_int64(st, 0);
        snprintf(prev, sizeof prev, "%s", h ? (const char *)h : "");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (details && !(details_text = cJSON_PrintUnformatted(details))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (RAND_bytes(random, sizeof random) != 1) {
        snprintf(err, errlen, "audit: no random bytes for the entry's nonce");
        free(details_text);
        return -1;
    }
    auth_hex_encode(random, sizeof random, nonce);
    memset(&e, 0, sizeof e);
    e.format = AUDIT_FORMAT_V2;
    e.nonce = nonce;
    e.seq = last + 1;
    e.ts_ms = ts;
    e.actor_id = actor ? actor : "";
    e.action = action;
    e.session_id = session;
    e.details = details_text;
    if (audit_seal(&e, prev, &aerr) != 0) {
        snprintf(err, errlen, "audit: %s", aerr.message);
        goto out;
    }
    if (sqlite3_prepare_v2(db, "INSERT INTO audit (seq, ts, actor, action, session, details,"
                           " prev_hash, hash, format, content_hash, nonce) VALUES"
                           " (?,?,?,?,?,?,?,?,2,?,?)", -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    sqlite3_bind_int64(st, 1, e.seq);
    sqlite3_bind_int64(st, 2, e.ts_ms);
    sqlite3_bind_text(st, 3, e.actor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    if (session)
        sqlite3_bind_text(st, 5, session, -1, SQLITE_STATIC);
    if (details_text)
        sqlite3_bind_text(st, 6, details_text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e.prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, e.hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, e.content_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, nonce, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto sqlfail;
    rc = 0;
    goto out;
sqlfail:
    snprintf(err, errlen, "audit: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    free(details_text);
    return rc;
}

/* Runs st (finalizing it); 0 or -1 with err. */
static int run(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
    int rc = st && sqlite3_step(st) == SQLITE_DONE ? 0 : -1;

    if (rc != 0)
        snprintf(err, errlen, "audit: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int store_audit_empty(sqlite3 *db, const char *case_id, const cJSON *actors,
                      int64_t *erasure_seq, int64_t *count,
                      char digest[AUDIT_HASH_LEN + 1], char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int64_t *seqs = NULL, n = 0, cap = 0;
    char (*hashes)[AUDIT_HASH_LEN + 1] = NULL;
    const cJSON *a;
    int rc = -1, step;

    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit", -1, &st,
                           NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto sqlfail;
    *erasure_seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    /* The content goes; seq, ts, the hashes and the format stay (store_audit.h). */
    if (sqlite3_prepare_v2(db, "UPDATE audit SET actor = '', action = '', session = NULL,"
                           " details = NULL, nonce = NULL, emptied_by = ?2 WHERE"
                           " emptied_by IS NULL AND session = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto sqlfail;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, *erasure_seq);
    if (run(db, st, err, errlen) != 0)
        return -1;
    cJSON_ArrayForEach(a, actors) {
        if (!cJSON_IsString(a) || !a->valuestring[0])
            continue;
        if (sqlite3_prepare_v2(db, "UPDATE audit SET actor = '', action = '', session = NULL,"
                               " details = NULL, nonce = NULL, emptied_by = ?2 WHERE"
                               " emptied_by IS NULL AND actor = ?1", -1, &st,
                               NULL) != SQLITE_OK)
            goto sqlfail;
        sqlite3_bind_text(st, 1, a->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, *erasure_seq);
        if (run(db, st, err, errlen) != 0)
            return -1;
    }
    if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit WHERE emptied_by = ?1 ORDER BY"
                           " seq", -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    sqlite3_bind_int64(st, 1, *erasure_seq);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        if (n == cap) {
            int64_t grown_cap = cap ? cap * 2 : 64;
            int64_t *s2 = realloc(seqs, (size_t)grown_cap * sizeof *s2);
            char (*h2)[AUDIT_HASH_LEN + 1] = s2 ? realloc(hashes, (size_t)grown_cap *
                                                           sizeof *h2) : NULL;
            if (s2)
                seqs = s2;
            if (!h2) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            hashes = h2;
            cap = grown_cap;
        }
        seqs[n] = sqlite3_column_int64(st, 0);
        snprintf(hashes[n++], AUDIT_HASH_LEN + 1, "%s", h ? (const char *)h : "");
    }
    if (step != SQLITE_DONE)
        goto sqlfail;
    if (audit_emptied_digest(seqs, (const char (*)[AUDIT_HASH_LEN + 1])hashes, (size_t)n,
                             digest) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    *count = n;
    rc = 0;
    goto out;
sqlfail:
    snprintf(err, errlen, "audit: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    free(seqs);
    free(hashes);
    return rc;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

int store_audit_verify(sqlite3 *db, const audit_anchor *checkpoint, audit_report *report,
                       audit_anchor *head, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    audit_entry *es = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;

    head->seq = 0;
    snprintf(head->hash, sizeof head->hash, "%s", AUDIT_GENESIS_HASH);
    if (sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, session, details, prev_hash,"
                           " hash, format, content_hash, nonce, emptied_by FROM audit"
                           " ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        audit_entry *e;
        const unsigned char *ph = sqlite3_column_text(st, 6), *h = sqlite3_column_text(st, 7);
        if (n == cap) {
            audit_entry *grown = realloc(es, (cap ? cap * 2 : 64) * sizeof *grown);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            es = grown;
            cap = cap ? cap * 2 : 64;
        }
        e = &es[n++];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int64(st, 0);
        e->ts_ms = sqlite3_column_int64(st, 1);
        e->actor_id = dup_col(st, 2);
        e->action = dup_col(st, 3);
        e->session_id = dup_col(st, 4);
        e->details = dup_col(st, 5);
        e->format = sqlite3_column_int(st, 8);
        e->nonce = dup_col(st, 10);
        e->emptied_by = sqlite3_column_int64(st, 11);
        snprintf(e->content_hash, sizeof e->content_hash, "%s",
                 sqlite3_column_text(st, 9) ? (const char *)sqlite3_column_text(st, 9) : "");
        snprintf(e->prev_hash, sizeof e->prev_hash, "%s", ph ? (const char *)ph : "");
        snprintf(e->hash, sizeof e->hash, "%s", h ? (const char *)h : "");
        if (!e->actor_id)
            e->actor_id = strdup("");
        if (!e->action)
            e->action = strdup("");
        if (!e->actor_id || !e->action) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        goto out;
    }
    head->seq = (int64_t)n;
    if (n)
        snprintf(head->hash, sizeof head->hash, "%s", es[n - 1].hash);
    rc = audit_verify(es, n, checkpoint, report);
    if (rc < 0)
        snprintf(err, errlen, "%s", report->message);
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        free((char *)es[i].actor_id);
        free((char *)es[i].action);
        free((char *)es[i].session_id);
        free((char *)es[i].details);
        free((char *)es[i].nonce);
    }
    free(es);
    return rc;
}
