/* selftest.c — `dispatchd --selftest` (hidden from --help): checks wh_verify and wh_validate, the
 * exact functions the POST /webhooks/orders handler calls, against fixed vectors.
 *
 * Why here: the Makefile links unit tests (tests/unit) against libbrink only, and the service's
 * objects live outside it; a hidden flag of the real binary tests the real code, with no copy.
 * The Standard Webhooks example (whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,
 * msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330, {"test": 2432232314}) has a timestamp years
 * in the past, so the verifier's clock is passed in: the vector is checked at its own time, and the
 * tolerance is checked around it. Signatures made by brink's own signer (src/http/sign.c, which the
 * load generator uses) are verified as well, so the two sides of brink agree. tests/integration/
 * dispatchd.sh runs this and reports each line. */
#include "selftest.h"
#include "webhook.h"

#include "core/b64.h"
#include "http/sign.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SPEC_SECRET "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS     "1614265330"
#define SPEC_NOW    1614265330
#define SPEC_BODY   "{\"test\": 2432232314}"
#define SPEC_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define OTHER_SIG   "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="

static int failures;

static void check(FILE *out, bool cond, const char *name) {
    fprintf(out, "%s - selftest: %s\n", cond ? "ok" : "not ok", name);
    if (!cond) failures++;
}

static wh_verdict verify(const uint8_t *key, size_t klen, const char *id, const char *ts,
                         const char *sig, const char *body, int64_t now) {
    return wh_verify(key, klen, id, ts, sig, body, body ? strlen(body) : 0, now, 300);
}

static void verifier(FILE *out) {
    uint8_t key[64];
    long klen = b64_decode(SPEC_SECRET, strlen(SPEC_SECRET), key, B64_UNPADDED);
    check(out, klen == 24, "the specification's whsec_ secret decodes to a 24-byte key");
    size_t k = (size_t)klen;
    check(out, verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_VALID,
          "the Standard Webhooks example signature verifies");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, OTHER_SIG " " SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_VALID,
          "several signatures, one valid: verifies");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, "v1a,abc " SPEC_SIG " v2,xyz", SPEC_BODY, SPEC_NOW) ==
              WH_VALID,
          "other versions in the header are ignored");
    check(out, verify(key, k, SPEC_ID, SPEC_TS, OTHER_SIG, SPEC_BODY, SPEC_NOW) == WH_NO_MATCH,
          "a wrong signature is refused");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, "{\"test\": 2432232315}", SPEC_NOW) ==
              WH_NO_MATCH,
          "a tampered body is refused");
    check(out,
          verify(key, k, "msg_p5jXN8AQM9LWM0D4loKWxJel", SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW) ==
              WH_NO_MATCH,
          "a different webhook-id is refused");
    check(out, verify(key, k, SPEC_ID, "1614265331", SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_NO_MATCH,
          "a different timestamp is refused");
    uint8_t wrong[24];
    memcpy(wrong, key, sizeof wrong);
    wrong[0] ^= 1;
    check(out, verify(wrong, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_NO_MATCH,
          "the wrong secret is refused");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                 SPEC_BODY, SPEC_NOW) == WH_NO_MATCH,
          "the right MAC under another version is refused");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
                 SPEC_BODY, SPEC_NOW) == WH_NO_MATCH,
          "a truncated signature is refused");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW + 300) == WH_VALID &&
              verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW - 300) == WH_VALID,
          "a timestamp 300 s away is within the tolerance");
    check(out, verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW + 301) == WH_STALE,
          "a timestamp 301 s old is stale");
    check(out, verify(key, k, SPEC_ID, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW - 301) == WH_STALE,
          "a timestamp 301 s in the future is refused");
    check(out, verify(key, k, NULL, SPEC_TS, SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_MISSING_ID,
          "a missing webhook-id is refused");
    check(out, verify(key, k, SPEC_ID, NULL, SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_MISSING_TIMESTAMP,
          "a missing webhook-timestamp is refused");
    check(out,
          verify(key, k, SPEC_ID, SPEC_TS, NULL, SPEC_BODY, SPEC_NOW) == WH_MISSING_SIGNATURE &&
              verify(key, k, SPEC_ID, SPEC_TS, "", SPEC_BODY, SPEC_NOW) == WH_MISSING_SIGNATURE,
          "a missing or empty webhook-signature is refused");
    check(out,
          verify(key, k, SPEC_ID, "1614265330.5", SPEC_SIG, SPEC_BODY, SPEC_NOW) ==
                  WH_BAD_TIMESTAMP &&
              verify(key, k, SPEC_ID, "-1", SPEC_SIG, SPEC_BODY, SPEC_NOW) == WH_BAD_TIMESTAMP,
          "a non-integer webhook-timestamp is refused");

    /* brink's signer (the load generator's) and this verifier agree */
    char err[128];
    sign_ctx *s = sign_new(SIGN_STANDARD_WEBHOOKS, "whsec_" SPEC_SECRET,
                           strlen("whsec_" SPEC_SECRET), err, sizeof err);
    char hdr[512];
    const char *body = "{\"type\":\"order.created\"}";
    int n =
        s ? sign_headers(s, "msg_selftest", 12, 1700000000, body, strlen(body), hdr, sizeof hdr - 1)
          : -1;
    bool agree = false;
    if (n > 0) {
        hdr[n] = '\0';
        char *sig = strstr(hdr, "webhook-signature: ");
        if (sig) {
            sig += strlen("webhook-signature: ");
            sig[strcspn(sig, "\r\n")] = '\0';
            agree = verify(key, k, "msg_selftest", "1700000000", sig, body, 1700000000) == WH_VALID;
        }
    }
    sign_free(s);
    check(out, agree, "a signature made by brink's signer (src/http/sign.c) verifies");
}

static void schema_case(FILE *out, const char *what, const char *body, int kind,
                        const char *field) {
    wh_invalid inv;
    wh_order fields;
    int rc = wh_validate(body, strlen(body), &inv, &fields);
    char name[256];
    bool ok = kind == 0 ? rc == 0 : rc != 0 && inv.kind == kind && strcmp(inv.field, field) == 0;
    if (kind == 0)
        snprintf(name, sizeof name, "schema: accepts %s", what);
    else
        snprintf(name, sizeof name, "schema: %s → %s %s", what,
                 kind == 1 ? "invalid JSON," : "invalid schema, names", field);
    check(out, ok, name);
    if (!ok)
        fprintf(out, "#   got rc=%d kind=%d field=%s detail=%s\n", rc, inv.kind, inv.field,
                inv.detail);
}

#define ITEM     "{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}"
#define DATA(x)  "{\"type\":\"order.created\",\"data\":{" x "}}"
#define GOOD     "\"order_id\":\"o1\",\"customer_id\":\"c1\",\"items\":[" ITEM "],\"total_cents\":100"
#define NOORDER  "\"customer_id\":\"c1\",\"items\":[" ITEM "],\"total_cents\":100"
#define NOCUST   "\"order_id\":\"o1\",\"items\":[" ITEM "],\"total_cents\":100"
#define NOITEMS  "\"order_id\":\"o1\",\"customer_id\":\"c1\",\"total_cents\":100"
#define NOTOTAL  "\"order_id\":\"o1\",\"customer_id\":\"c1\",\"items\":[" ITEM "]"
#define ITEMS(x) "\"order_id\":\"o1\",\"customer_id\":\"c1\",\"items\":[" x "],\"total_cents\":1"

static void schema(FILE *out) {
    schema_case(out, "a valid order.created", DATA(GOOD), 0, "");
    schema_case(out, "optional fields",
                "{\"type\":\"order.created\",\"extra\":[1,2],\"data\":{" GOOD ",\"note\":\"x\"}}",
                0, "");
    schema_case(out, "truncated JSON", "{\"type\":", 1, "body");
    schema_case(out, "an array", "[1,2]", 2, "body");
    schema_case(out, "a duplicate key", "{\"type\":\"order.created\",\"type\":\"x\",\"data\":{}}",
                1, "body");
    schema_case(out, "no type", "{\"data\":{" GOOD "}}", 2, "type");
    schema_case(out, "another type", "{\"type\":\"order.deleted\",\"data\":{" GOOD "}}", 2, "type");
    schema_case(out, "no data", "{\"type\":\"order.created\"}", 2, "data");
    schema_case(out, "data not an object", "{\"type\":\"order.created\",\"data\":[]}", 2, "data");
    schema_case(out, "no order_id", DATA(NOORDER), 2, "data.order_id");
    schema_case(out, "a numeric order_id", DATA("\"order_id\":7," NOORDER), 2, "data.order_id");
    schema_case(out, "an empty order_id", DATA("\"order_id\":\"\"," NOORDER), 2, "data.order_id");
    schema_case(out, "no customer_id", DATA(NOCUST), 2, "data.customer_id");
    schema_case(out, "no items", DATA(NOITEMS), 2, "data.items");
    schema_case(out, "no item", DATA(ITEMS("")), 2, "data.items");
    schema_case(out, "an item not an object", DATA(ITEMS(ITEM ",7")), 2, "data.items[1]");
    schema_case(out, "an item without sku", DATA(ITEMS("{\"qty\":1,\"price_cents\":1}")), 2,
                "data.items[0].sku");
    schema_case(out, "qty 0", DATA(ITEMS(ITEM ",{\"sku\":\"a\",\"qty\":0,\"price_cents\":1}")), 2,
                "data.items[1].qty");
    schema_case(out, "qty 1.5", DATA(ITEMS("{\"sku\":\"a\",\"qty\":1.5,\"price_cents\":1}")), 2,
                "data.items[0].qty");
    schema_case(out, "a negative price",
                DATA(ITEMS("{\"sku\":\"a\",\"qty\":1,\"price_cents\":-1}")), 2,
                "data.items[0].price_cents");
    schema_case(out, "no total_cents", DATA(NOTOTAL), 2, "data.total_cents");
    schema_case(out, "a string total_cents", DATA(NOTOTAL ",\"total_cents\":\"100\""), 2,
                "data.total_cents");
    schema_case(out, "a NUL in a string (PostgreSQL could not store it)",
                "{\"type\":\"order.created\",\"data\":{\"order_id\":\"a\\u0000b\"}}", 1, "body");
}

int selftest_run(FILE *out) {
    failures = 0;
    verifier(out);
    schema(out);
    check(out,
          wh_id_ok("msg_p5jXN8AQM9LWM0D4loKWxJek") && !wh_id_ok("") && !wh_id_ok("a b") &&
              !wh_id_ok("a\"b") && !wh_id_ok("a\\b"),
          "webhook-id: printable, no space, quote or backslash");
    wh_cleanup();
    return failures;
}
