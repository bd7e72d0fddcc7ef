/*
 * Text encodings of secrets and digests: base64url without padding (RFC 4648 §5) for
 * tokens, salts and password hashes, lowercase hex for SHA-256 digests. The decoder is
 * strict — only the url alphabet, no padding, no whitespace, unused trailing bits zero —
 * so every byte string has exactly one accepted text form and a stored value cannot be
 * altered without changing what it decodes to.
 */
#ifndef KONSIL_AUTH_ENCODING_H
#define KONSIL_AUTH_ENCODING_H

#include <stddef.h>

/* Text length (without the NUL) of n bytes in base64url without padding. */
#define AUTH_B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Writes the base64url form of in[0..len) and a NUL into out, which the caller provides
 * with room for AUTH_B64URL_LEN(len) + 1 bytes. */
void auth_b64url_encode(const unsigned char *in, size_t len, char *out);

/* Decodes text[0..text_len) into out (room for out_cap bytes). Returns the number of
 * bytes written, or -1 when the text is not canonical base64url or does not fit. */
long auth_b64url_decode(const char *text, size_t text_len, unsigned char *out, size_t out_cap);

/* Writes the lowercase hex form of in[0..len) and a NUL into out (room for 2*len + 1). */
void auth_hex_encode(const unsigned char *in, size_t len, char *out);

#endif
