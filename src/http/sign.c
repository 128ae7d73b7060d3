/* sign.c — webhook signatures for the requests the load engine sends (and that dispatchd checks).
 *
 * Webhook receivers authenticate senders with an HMAC-SHA256 over the body (and, depending on the
 * scheme, a message id and a timestamp). brink must produce real signatures so that a service
 * under test does its real verification work under load. Three schemes are supported:
 * standard-webhooks (webhook-id / webhook-timestamp / webhook-signature: v1,<base64>), Stripe
 * (Stripe-Signature: t=..,v1=<hex>) and GitHub (X-Hub-Signature-256: sha256=<hex>).
 *
 * A sign_ctx is created once per engine thread from the secret. It holds an OpenSSL 3 EVP_MAC
 * context with the key already set; per request, sign_headers() re-initialises that context with
 * a NULL key (which keeps the key), feeds the parts of the signed message without concatenating
 * them, and formats the header lines by hand into the caller's buffer — no allocation and no
 * context creation per request. The raw key is wiped once OpenSSL holds it; no error message
 * ever contains the secret.
 *
 * whsec_ secrets and standard-webhooks signatures are base64 (core/b64.c, shared with the HDR
 * histogram encoding); Stripe and GitHub signatures are hex, written by sign_hex() here. */
#include "http/sign.h"

#include "core/b64.h"
#include "core/err.h"
#include "core/fmt.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define MAC_LEN   32
#define B64_MAC   44 /* base64 of 32 bytes, padded */
#define HEX_MAC   64
#define TS_MAX    FMT_INT_MAX /* INT64_MIN in decimal, with sign */
#define WHSEC     "whsec_"
#define WHSEC_LEN (sizeof WHSEC - 1)

/* Header line prefixes; lengths via sizeof - 1 so that sign_headers_max() stays exact. */
#define SW_ID     "webhook-id: "
#define SW_TS     "\r\nwebhook-timestamp: "
#define SW_SIG    "\r\nwebhook-signature: v1,"
#define STRIPE_T  "Stripe-Signature: t="
#define STRIPE_V1 ",v1="
#define GH_SIG    "X-Hub-Signature-256: sha256="
#define CRLF      "\r\n"
#define LIT(s)    (sizeof(s) - 1)

struct sign_ctx {
    sign_scheme scheme;
    EVP_MAC_CTX *mac;
};

/* ---- schemes ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    sign_scheme scheme;
} schemes[] = {
    {"none", SIGN_NONE},
    {"standard-webhooks", SIGN_STANDARD_WEBHOOKS},
    {"stripe", SIGN_STRIPE},
    {"github", SIGN_GITHUB},
};

int sign_parse_scheme(const char *name, sign_scheme *out) {
    if (name == NULL) return -1;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strcmp(name, schemes[i].name) == 0) {
            *out = schemes[i].scheme;
            return 0;
        }
    }
    return -1;
}

const char *sign_scheme_name(sign_scheme s) {
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].scheme == s) return schemes[i].name;
    return "unknown";
}

/* ---- HMAC --------------------------------------------------------------------------------- */

/* The HMAC implementation is fetched from the default provider once per process and shared:
 * fetching is a locked lookup in OpenSSL's method store, too slow to repeat per message. */
static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void) {
    hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* A new HMAC-SHA256 context with key set, or NULL. */
static EVP_MAC_CTX *hmac_new(const uint8_t *key, size_t key_len) {
    pthread_once(&hmac_once, hmac_fetch);
    if (hmac_alg == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);
    if (ctx == NULL) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* OpenSSL treats a NULL key as "keep the current one"; an empty key must be non-NULL. */
    static const uint8_t empty_key[1];
    if (!EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* One message through ctx, whose key is already set. */
static int hmac_run(EVP_MAC_CTX *ctx, bool reinit, const void *const *parts,
                    const size_t *part_lens, int nparts, uint8_t mac[MAC_LEN]) {
    size_t out_len = 0;
    if (reinit && !EVP_MAC_init(ctx, NULL, 0, NULL)) return -1;
    for (int i = 0; i < nparts; i++)
        if (part_lens[i] > 0 && !EVP_MAC_update(ctx, parts[i], part_lens[i])) return -1;
    if (!EVP_MAC_final(ctx, mac, &out_len, MAC_LEN) || out_len != MAC_LEN) return -1;
    return 0;
}

int sign_hmac_sha256(const uint8_t *key, size_t key_len, const void *const *parts,
                     const size_t *part_lens, int nparts, uint8_t mac[32]) {
    EVP_MAC_CTX *ctx = hmac_new(key, key_len);
    if (ctx == NULL) return -1;
    int rc = hmac_run(ctx, false, parts, part_lens, nparts, mac);
    EVP_MAC_CTX_free(ctx);
    return rc;
}

/* ---- encodings ---------------------------------------------------------------------------- */

void sign_hex(const uint8_t *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* ---- context ------------------------------------------------------------------------------ */

static bool is_trailing_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

sign_ctx *sign_new(sign_scheme scheme, const char *secret, size_t secret_len, char *err,
                   size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (scheme != SIGN_STANDARD_WEBHOOKS && scheme != SIGN_STRIPE && scheme != SIGN_GITHUB) {
        err_set(err, errlen,
                "signing scheme '%s' takes no secret; use standard-webhooks, stripe or github",
                sign_scheme_name(scheme));
        return NULL;
    }
    if (secret == NULL) secret_len = 0;
    while (secret_len > 0 && is_trailing_space(secret[secret_len - 1])) secret_len--;
    if (secret_len == 0) {
        err_set(err, errlen,
                "secret: empty; put the %s signing secret in its file or environment variable",
                sign_scheme_name(scheme));
        return NULL;
    }

    const uint8_t *key = (const uint8_t *)secret;
    size_t key_len = secret_len;
    uint8_t *decoded = NULL;
    size_t decoded_cap = 0;
    if (scheme == SIGN_STANDARD_WEBHOOKS && secret_len >= WHSEC_LEN &&
        memcmp(secret, WHSEC, WHSEC_LEN) == 0) {
        size_t b64_len = secret_len - WHSEC_LEN;
        if (b64_len == 0) {
            err_set(err, errlen, "secret: whsec_ value is empty");
            return NULL;
        }
        decoded_cap = b64_decoded_max(b64_len);
        decoded = malloc(decoded_cap);
        if (decoded == NULL) {
            err_set(err, errlen, "secret: out of memory");
            return NULL;
        }
        long n = b64_decode(secret + WHSEC_LEN, b64_len, decoded, B64_UNPADDED);
        if (n < 0) {
            OPENSSL_cleanse(decoded, decoded_cap);
            free(decoded);
            err_set(err, errlen, "secret: whsec_ value is not valid base64");
            return NULL;
        }
        key = decoded;
        key_len = (size_t)n;
    }

    sign_ctx *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->scheme = scheme;
        s->mac = hmac_new(key, key_len);
    }
    if (decoded != NULL) {
        OPENSSL_cleanse(decoded, decoded_cap);
        free(decoded);
    }
    if (s == NULL || s->mac == NULL) {
        free(s);
        err_set(err, errlen, "secret: cannot set up HMAC-SHA256 (OpenSSL)");
        return NULL;
    }
    return s;
}

void sign_free(sign_ctx *s) {
    if (s == NULL) return;
    EVP_MAC_CTX_free(s->mac);
    free(s);
}

size_t sign_headers_max(const sign_ctx *s, size_t id_len) {
    switch (s->scheme) {
    case SIGN_STANDARD_WEBHOOKS:
        return LIT(SW_ID) + id_len + LIT(SW_TS) + TS_MAX + LIT(SW_SIG) + B64_MAC + LIT(CRLF);
    case SIGN_STRIPE: return LIT(STRIPE_T) + TS_MAX + LIT(STRIPE_V1) + HEX_MAC + LIT(CRLF);
    case SIGN_GITHUB: return LIT(GH_SIG) + HEX_MAC + LIT(CRLF);
    case SIGN_NONE: break;
    }
    return 0;
}

/* ---- per request (hot path) --------------------------------------------------------------- */

/* Pieces laid end to end: the MAC's input, or the header lines written. */
typedef struct pieces {
    const void *p[7];
    size_t n[7];
    int count;
} pieces;

int sign_headers(sign_ctx *s, const char *msg_id, size_t id_len, int64_t ts, const char *body,
                 size_t body_len, char *out, size_t cap) {
    if (cap > INT_MAX) cap = INT_MAX; /* the length is returned as an int */
    char ts_buf[TS_MAX];
    size_t ts_len = fmt_i64(ts_buf, ts);
    uint8_t mac[MAC_LEN];
    char enc[HEX_MAC + 1];
    pieces in, hdr;
    switch (s->scheme) {
    case SIGN_STANDARD_WEBHOOKS:
        in = (pieces){{msg_id, ".", ts_buf, ".", body}, {id_len, 1, ts_len, 1, body_len}, 5};
        hdr = (pieces){{SW_ID, msg_id, SW_TS, ts_buf, SW_SIG, enc, CRLF},
                       {LIT(SW_ID), id_len, LIT(SW_TS), ts_len, LIT(SW_SIG), B64_MAC, LIT(CRLF)},
                       7};
        break;
    case SIGN_STRIPE:
        in = (pieces){{ts_buf, ".", body}, {ts_len, 1, body_len}, 3};
        hdr = (pieces){{STRIPE_T, ts_buf, STRIPE_V1, enc, CRLF},
                       {LIT(STRIPE_T), ts_len, LIT(STRIPE_V1), HEX_MAC, LIT(CRLF)},
                       5};
        break;
    case SIGN_GITHUB:
        in = (pieces){{body}, {body_len}, 1};
        hdr = (pieces){{GH_SIG, enc, CRLF}, {LIT(GH_SIG), HEX_MAC, LIT(CRLF)}, 3};
        break;
    case SIGN_NONE:
    default: return 0;
    }
    size_t need = 0;
    for (int i = 0; i < hdr.count; i++) need += hdr.n[i];
    if (need > cap) return -1;
    if (hmac_run(s->mac, true, in.p, in.n, in.count, mac) != 0) return -1;
    if (s->scheme == SIGN_STANDARD_WEBHOOKS)
        b64_encode(mac, MAC_LEN, enc);
    else
        sign_hex(mac, MAC_LEN, enc);
    char *o = out;
    for (int i = 0; i < hdr.count; i++) {
        memcpy(o, hdr.p[i], hdr.n[i]);
        o += hdr.n[i];
    }
    return (int)(o - out);
}
