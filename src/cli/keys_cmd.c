/*
 * `konsil keys rotate --master-key-file OLD --new-master-key-file NEW [--db FILE |
 * --keys FILE]`: rotates the master key of encryption at rest (protocol/keystore.md):
 * every data key in the key store is unwrapped with the old master key and wrapped anew
 * with the new one, in one atomic, durable write (the data keys, and so the database and
 * its backups, stay as they are). Run it with the server stopped, then start the server
 * with the new master key; destroy the old one once no key-store backup wrapped under it
 * is kept.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "store/store_keys.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: konsil keys rotate --master-key-file OLD --new-master-key-file NEW\n"
            "                          [--db FILE | --keys FILE]\n\n"
            "Wraps every case's data key in the key store anew under the new master key\n"
            "(64 hex digits, mode 600, e.g. `openssl rand -hex 32`), in one atomic write.\n"
            "Stop the server first; start it again with --master-key-file NEW.\n\n"
            "  --db FILE    the database whose key store it is (default konsil.db; the key\n"
            "               store is FILE.keys)\n"
            "  --keys FILE  the key store itself\n\n"
            "Exit status: 0 rotated, 1 failed (nothing changed), 2 usage error.\n");
}

int cli_keys(int argc, char **argv)
{
    const char *db = "konsil.db", *keys = NULL, *old_file = NULL, *new_file = NULL;
    unsigned char old_key[SEALED_KEY_LEN], new_key[SEALED_KEY_LEN];
    char path[4200], err[512] = "";
    store_keys *k = NULL;
    int rc = 1;

    if (argc < 2 || strcmp(argv[1], "rotate") != 0) {
        int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        if (!help && argc > 1)
            fprintf(stderr, "konsil keys: unknown command '%s'\n\n", argv[1]);
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--db") == 0 && v) {
            db = argv[++i];
        } else if (strcmp(a, "--keys") == 0 && v) {
            keys = argv[++i];
        } else if (strcmp(a, "--master-key-file") == 0 && v) {
            old_file = argv[++i];
        } else if (strcmp(a, "--new-master-key-file") == 0 && v) {
            new_file = argv[++i];
        } else {
            fprintf(stderr, "konsil keys rotate: unexpected '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!old_file || !new_file) {
        usage(stderr);
        return 2;
    }
    snprintf(path, sizeof path, "%.4000s%s", keys ? keys : db, keys ? "" : ".keys");
    if (store_keys_read_master(old_file, old_key, err, sizeof err) == 0 &&
        store_keys_read_master(new_file, new_key, err, sizeof err) == 0 &&
        store_keys_open(path, old_key, 0, &k, err, sizeof err) == 0 &&
        store_keys_rotate(k, new_key, err, sizeof err) == 0) {
        printf("rotated the master key of %s (generation %lld)\n", path,
               (long long)store_keys_generation(k));
        rc = 0;
    } else {
        fprintf(stderr, "konsil keys rotate: %s\n", err);
    }
    store_keys_free(k);
    OPENSSL_cleanse(old_key, sizeof old_key);
    OPENSSL_cleanse(new_key, sizeof new_key);
    return rc;
}
