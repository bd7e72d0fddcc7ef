/*
 * AES-256-GCM records (see sealed.h). One EVP context per call: sealing a record costs a
 * key schedule, which is small beside the SQLite insert it goes with.
 */
#include "auth/sealed.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define AD_PREFIX "konsil-record v1"

int sealed_seal(const unsigned char key[SEALED_KEY_LEN], const void *ad, size_t adlen,
                const void *pt, size_t ptlen, unsigned char **out, size_t *outlen)
{
    unsigned char *rec = malloc(ptlen + SEALED_OVERHEAD);
    unsigned char *nonce = rec + 1, *ct = rec + 1 + SEALED_NONCE_LEN;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, rc = -1;

    if (!rec || !ctx || ptlen > (size_t)1 << 30 || adlen > (size_t)1 << 30)
        goto out;
    rec[0] = SEALED_FORMAT;
    if (RAND_bytes(nonce, SEALED_NONCE_LEN) != 1 ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
        (adlen && EVP_EncryptUpdate(ctx, NULL, &len, ad, (int)adlen) != 1) ||
        EVP_EncryptUpdate(ctx, ct, &len, pt, (int)ptlen) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1 || (size_t)(len + fin) != ptlen ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEALED_TAG_LEN, ct + ptlen) != 1)
        goto out;
    *out = rec;
    *outlen = ptlen + SEALED_OVERHEAD;
    rec = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(rec);
    return rc;
}

int sealed_open(const unsigned char key[SEALED_KEY_LEN], const void *ad, size_t adlen,
                const unsigned char *rec, size_t reclen, char **out, size_t *outlen)
{
    EVP_CIPHER_CTX *ctx = NULL;
    size_t ptlen;
    char *pt = NULL;
    int len = 0, fin = 0, rc = -1;

    if (!rec || reclen < SEALED_OVERHEAD || rec[0] != SEALED_FORMAT ||
        reclen > (size_t)1 << 30 || adlen > (size_t)1 << 30)
        return -1;
    ptlen = reclen - SEALED_OVERHEAD;
    pt = malloc(ptlen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (!pt || !ctx ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, rec + 1) != 1 ||
        (adlen && EVP_DecryptUpdate(ctx, NULL, &len, ad, (int)adlen) != 1) ||
        EVP_DecryptUpdate(ctx, (unsigned char *)pt, &len,
                          rec + 1 + SEALED_NONCE_LEN, (int)ptlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEALED_TAG_LEN,
                            (void *)(rec + reclen - SEALED_TAG_LEN)) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + len, &fin) != 1 ||
        (size_t)(len + fin) != ptlen)
        goto out;
    pt[ptlen] = '\0';
    *out = pt;
    *outlen = ptlen;
    pt = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
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
