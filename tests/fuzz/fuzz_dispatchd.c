/* fuzz_dispatchd.c — the parts of dispatchd's request path that run before Redis or PostgreSQL
 * (service/), on untrusted requests: the router and the order id it takes from the URL
 * (http.c classify, through reach_dispatchd.c), the Content-Type check, the webhook headers
 * (webhook-id, webhook-timestamp, webhook-signature: wh_id_ok, wh_verify), the order.created
 * schema (wh_validate), the stream entry built from a valid body (wh_entry), the whole decision
 * of the webhook handler (wh_begin, with --ingest sync so that nothing is sent anywhere) and the
 * accept route's body (accept.c parse_vendor, through reach_accept.c). The key is the Standard
 * Webhooks specification's example secret.
 *
 * Checked besides crashes: every answer a handler sets is JSON (valid UTF-8 included: found here,
 * fixed in reply_json_escape); the stream entry of a valid webhook is a JSON object holding its id,
 * order id and body as the workers expect.
 *
 * Input: parts separated by a line "%%" — URL, Content-Type, webhook-id, webhook-timestamp,
 * webhook-signature, body (a missing part is a missing header). In the timestamp, "{now}" becomes
 * the current time; in the signature, "{sig}" becomes the valid "v1,..." entry, so that mutations
 * get past the signature to the schema. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../service/config.h"
#include "../../service/webhook.h"
#include "common.h"
#include "core/b64.h"
#include "reach.h"

static dcfg cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const char secret[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; /* whsec_ of the spec */
    long k = b64_decode(secret, strlen(secret), cfg.key, B64_UNPADDED);
    if (k <= 0) abort();
    cfg.key_len = (size_t)k;
    cfg.tolerance_s = 300;
    cfg.ingest = DCFG_INGEST_SYNC;
    wh_init(&cfg);
    atexit(wh_cleanup);
    return 0;
}

/* s with every `token` replaced by `with` (malloc'd). */
static char *replace(const char *s, const char *token, const char *with) {
    size_t tl = strlen(token), wl = strlen(with), n = 0;
    for (const char *p = s; (p = strstr(p, token)); p += tl) n++;
    char *out = malloc(strlen(s) + n * wl + 1), *o = out;
    if (!out) abort();
    for (const char *p = s, *hit; *p;) {
        if ((hit = strstr(p, token))) {
            memcpy(o, p, (size_t)(hit - p));
            o += hit - p;
            memcpy(o, with, wl);
            o += wl;
            p = hit + tl;
        } else {
            size_t rest = strlen(p);
            memcpy(o, p, rest);
            o += rest;
            break;
        }
    }
    *o = '\0';
    return out;
}

static void valid_signature(const char *id, const char *ts, const char *body, size_t len,
                            char *out) {
    size_t il = strlen(id), tl = strlen(ts);
    char *msg = malloc(il + tl + len + 3);
    if (!msg) abort();
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, ts, tl);
    msg[il + 1 + tl] = '.';
    memcpy(msg + il + tl + 2, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), cfg.key, (int)cfg.key_len, (unsigned char *)msg, il + tl + len + 2, mac,
         &mlen);
    free(msg);
    memcpy(out, "v1,", 3);
    b64_encode(mac, mlen, out + 3);
}

static void must_be_json(const char *s, size_t len) {
    json_error_t je;
    json_t *v = json_loadb(s, len, 0, &je);
    if (!v) {
        fprintf(stderr, "fuzz_dispatchd: an answer is not JSON (%s): %.*s\n", je.text, (int)len, s);
        abort();
    }
    json_decref(v);
}

/* The stream entry of a valid webhook parses back to what it was made of. */
static void check_entry(const char *id, const char *body, size_t len, const wh_order *o) {
    char *ent = malloc(wh_entry_max(len));
    if (!ent) abort();
    size_t n = wh_entry(ent, id, body, len, o, 1700000000000LL);
    if (n > wh_entry_max(len)) abort();
    json_error_t je;
    json_t *v = json_loadb(ent, n, 0, &je);
    if (!v || !json_is_object(v) || strcmp(json_string_value(json_object_get(v, "w")), id) ||
        strcmp(json_string_value(json_object_get(v, "o")), o->order_id) ||
        !json_is_object(json_object_get(v, "p"))) {
        fprintf(stderr, "fuzz_dispatchd: a bad stream entry (%s): %.*s\n", v ? "fields" : je.text,
                (int)n, ent);
        abort();
    }
    json_decref(v);
    free(ent);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *part[6] = {0};
    size_t plen[6] = {0};
    int n = fuzz_split(data, size, part, plen, 6);
    const char *url = part[0];
    char id[256];
    int rt = fuzz_dd_classify(url, id, sizeof id);
    if (rt && strlen(id) > 200) abort();
    (void)fuzz_dd_json_content_type(n > 1 ? part[1] : NULL);

    const char *wid = n > 2 ? part[2] : NULL;
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    char *ts = n > 3 ? replace(part[3], "{now}", now) : NULL;
    const char *body = n > 5 ? part[5] : "";
    size_t blen = n > 5 ? plen[5] : 0;
    char *sig = NULL;
    if (n > 4) {
        char good[64] = "";
        if (wid && ts) valid_signature(wid, ts, body, blen, good);
        sig = replace(part[4], "{sig}", good);
    }

    (void)wh_verify(cfg.key, cfg.key_len, wid, ts, sig, body, blen, 1700000000, cfg.tolerance_s);
    if (wid) (void)wh_id_ok(wid);

    wh_invalid inv;
    wh_order order;
    if (wh_validate(body, blen, &inv, &order) == 0) {
        if (wid && wh_id_ok(wid)) check_entry(wid, body, blen, &order);
    } else if (inv.kind != 1 && inv.kind != 2) {
        abort();
    }

    reply rep;
    memset(&rep, 0, sizeof rep);
    bool probe = false;
    wh_order o2;
    wh_step st = wh_begin(wid, ts, sig, body, blen, &o2, &probe, &rep);
    if (st == WH_REPLIED) must_be_json(rep.body, rep.len);

    char vendor[1024], out[4096];
    int status = 0;
    if (fuzz_dd_parse_vendor(body, blen, vendor, sizeof vendor, &status, out, sizeof out) < 0) {
        if (status != 400) abort();
        must_be_json(out, strlen(out));
    }

    free(ts);
    free(sig);
    fuzz_free_parts(part, n);
    return 0;
}
