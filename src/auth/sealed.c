/*
 * AES-256-GCM records (see sealed.h). A box keeps what makes a record expensive when done
 * from scratch: fetching the cipher, the key schedule, and a call into the CSPRNG for
 * every nonce (a pool of 4 KiB of its bytes serves 341 nonces, each byte used once).
 */
#include "auth/sealed.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AD_PREFIX "konsil-record v1"
#define POOL_BYTES 4096

/* One direction's context, keyed with `key` when keyed. */
typedef struct keyed_ctx {
    EVP_CIPHER_CTX *ctx;
    unsigned char key[SEALED_KEY_LEN];
    int keyed;
} keyed_ctx;

struct sealed_box {
    EVP_CIPHER *cipher;
    keyed_ctx enc, dec;
    unsigned char pool[POOL_BYTES];
    size_t used;            /* pool bytes handed out */
};

sealed_box *sealed_box_new(void)
{
    sealed_box *b = calloc(1, sizeof *b);

    if (!b)
        return NULL;
    b->used = POOL_BYTES;
    b->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    b->enc.ctx = EVP_CIPHER_CTX_new();
    b->dec.ctx = EVP_CIPHER_CTX_new();
    if (!b->cipher || !b->enc.ctx || !b->dec.ctx) {
        sealed_box_free(b);
        return NULL;
    }
    return b;
}

void sealed_box_free(sealed_box *b)
{
    if (!b)
        return;
    EVP_CIPHER_free(b->cipher);
    EVP_CIPHER_CTX_free(b->enc.ctx);
    EVP_CIPHER_CTX_free(b->dec.ctx);
    OPENSSL_cleanse(b, sizeof *b);
    free(b);
}

/* A fresh nonce from the pool (refilled from the CSPRNG when it runs out). 0 or -1. */
static int nonce_of(sealed_box *b, unsigned char nonce[SEALED_NONCE_LEN])
{
    if (!b)
        return RAND_bytes(nonce, SEALED_NONCE_LEN) == 1 ? 0 : -1;
    if (b->used + SEALED_NONCE_LEN > POOL_BYTES) {
        if (RAND_bytes(b->pool, POOL_BYTES) != 1)
            return -1;
        b->used = 0;
    }
    memcpy(nonce, b->pool + b->used, SEALED_NONCE_LEN);
    OPENSSL_cleanse(b->pool + b->used, SEALED_NONCE_LEN);
    b->used += SEALED_NONCE_LEN;
    return 0;
}

/* ctx (the box's, or a one-off in *own) initialised for key and nonce, the key schedule
 * kept when the box's context holds that key already. NULL on failure. */
static EVP_CIPHER_CTX *ready(sealed_box *b, keyed_ctx *k, int encrypt,
                             const unsigned char key[SEALED_KEY_LEN], const unsigned char *nonce,
                             EVP_CIPHER_CTX **own)
{
    int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
                const unsigned char *) = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex;

    if (!b) {
        *own = EVP_CIPHER_CTX_new();
        if (!*own || init(*own, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
            return NULL;
        return *own;
    }
    if (k->keyed && memcmp(k->key, key, SEALED_KEY_LEN) == 0)
        return init(k->ctx, NULL, NULL, NULL, nonce) == 1 ? k->ctx : NULL;
    k->keyed = 0;
    if (init(k->ctx, b->cipher, NULL, key, nonce) != 1)
        return NULL;
    memcpy(k->key, key, SEALED_KEY_LEN);
    k->keyed = 1;
    return k->ctx;
}

int sealed_seal(sealed_box *box, const unsigned char key[SEALED_KEY_LEN], const void *ad,
                size_t adlen, const void *pt, size_t ptlen, unsigned char **out,
                size_t *outlen)
{
    unsigned char *rec = malloc(ptlen + SEALED_OVERHEAD);
    unsigned char *nonce = rec + 1, *ct = rec + 1 + SEALED_NONCE_LEN;
    EVP_CIPHER_CTX *own = NULL, *ctx;
    int len = 0, fin = 0, rc = -1;

    if (!rec || ptlen > (size_t)1 << 30 || adlen > (size_t)1 << 30)
        goto out;
    rec[0] = SEALED_FORMAT;
    if (nonce_of(box, nonce) != 0 ||
        !(ctx = ready(box, box ? &box->enc : NULL, 1, key, nonce, &own)) ||
        (adlen && EVP_EncryptUpdate(ctx, NULL, &len, ad, (int)adlen) != 1) ||
        EVP_EncryptUpdate(ctx, ct, &len, pt, (int)ptlen) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1 || (size_t)(len + fin) != ptlen ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEALED_TAG_LEN, ct + ptlen) != 1) {
        if (box)
            box->enc.keyed = 0;     /* whatever state it is in, it is keyed anew */
        goto out;
    }
    *out = rec;
    *outlen = ptlen + SEALED_OVERHEAD;
    rec = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(own);
    free(rec);
    return rc;
}

int sealed_open(sealed_box *box, const unsigned char key[SEALED_KEY_LEN], const void *ad,
                size_t adlen, const unsigned char *rec, size_t reclen, char **out,
                size_t *outlen)
{
    EVP_CIPHER_CTX *own = NULL, *ctx;
    size_t ptlen;
    char *pt = NULL;
    int len = 0, fin = 0, rc = -1;

    if (!rec || reclen < SEALED_OVERHEAD || rec[0] != SEALED_FORMAT ||
        reclen > (size_t)1 << 30 || adlen > (size_t)1 << 30)
        return -1;
    ptlen = reclen - SEALED_OVERHEAD;
    pt = malloc(ptlen + 1);
    if (!pt || !(ctx = ready(box, box ? &box->dec : NULL, 0, key, rec + 1, &own)) ||
        (adlen && EVP_DecryptUpdate(ctx, NULL, &len, ad, (int)adlen) != 1) ||
        EVP_DecryptUpdate(ctx, (unsigned char *)pt, &len,
                          rec + 1 + SEALED_NONCE_LEN, (int)ptlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEALED_TAG_LEN,
                            (void *)(rec + reclen - SEALED_TAG_LEN)) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + len, &fin) != 1 ||
        (size_t)(len + fin) != ptlen) {
        if (box)
            box->dec.keyed = 0;
        goto out;
    }
    pt[ptlen] = '\0';
    *out = pt;
    *outlen = ptlen;
    pt = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(own);
    free(pt);
    return rc;
}

size_t sealed_ad(char buf[SEALED_AD_MAX], const char *table, const char *case_id,
                 const char *record)
{
    const char *parts[] = {AD_PREFIX, table, case_id, record};
    size_t n = 0;

    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]);
        if (n + l + 1 > SEALED_AD_MAX)
            return 0;
        memcpy(buf + n, parts[i], l);
        n += l;
        if (i < 3)
            buf[n++] = '\0';
    }
    return n;
}
