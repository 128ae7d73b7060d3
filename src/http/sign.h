/* sign.h — webhook signing schemes. A sign_ctx holds the key and a reusable HMAC context (one per
 * engine thread); sign_headers() writes the scheme's header lines for one request.
 *   standard-webhooks: webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256(
 *                      key, id "." ts "." body)>; a "whsec_" secret is base64-decoded to the key,
 *                      any other secret is used as raw bytes.
 *   stripe:            Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, ts "." body)>
 *   github:            X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
 * Secrets are never logged. */
#ifndef BRINK_SIGN_H
#define BRINK_SIGN_H

#include <stddef.h>
#include <stdint.h>

typedef enum sign_scheme {
    SIGN_NONE = 0,
    SIGN_STANDARD_WEBHOOKS,
    SIGN_STRIPE,
    SIGN_GITHUB,
} sign_scheme;

/* "standard-webhooks", "stripe", "github" → scheme; returns 0, or -1 for an unknown name. */
int sign_parse_scheme(const char *name, sign_scheme *out);
const char *sign_scheme_name(sign_scheme s);

typedef struct sign_ctx sign_ctx;

/* secret: the secret as read from the file/environment (trailing whitespace/newlines already
 * trimmed by the caller or here — sign_new trims them). On error returns NULL with a one-line
 * message in err (e.g. "secret: whsec_ value is not valid base64"); the message never contains
 * the secret. */
sign_ctx *sign_new(sign_scheme scheme, const char *secret, size_t secret_len, char *err,
                   size_t errlen);
void sign_free(sign_ctx *s);
/* Upper bound of the bytes sign_headers writes for a message id of id_len bytes. */
size_t sign_headers_max(const sign_ctx *s, size_t id_len);
/* Writes the header lines ("Name: value\r\n" each) into out (cap bytes). msg_id is used by
 * standard-webhooks only (webhook-id); ts is Unix seconds. Returns bytes written, or -1 if cap is
 * too small or HMAC failed. No allocation on the caller's side. */
int sign_headers(sign_ctx *s, const char *msg_id, size_t id_len, int64_t ts, const char *body,
                 size_t body_len, char *out, size_t cap);

/* Lower-level helpers, exposed for tests and for dispatchd's verifier. */
/* HMAC-SHA256 of the concatenation of parts; returns 0 or -1. */
int sign_hmac_sha256(const uint8_t *key, size_t key_len, const void *const *parts,
                     const size_t *part_lens, int nparts, uint8_t mac[32]);
void sign_hex(const uint8_t *in, size_t n, char *out); /* 2n chars + NUL */

#endif
