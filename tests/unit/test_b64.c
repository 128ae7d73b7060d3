/* test_b64.c — unit tests for src/core/b64.c: the RFC 4648 vectors both ways, round trips of
 * every length and of all byte values, the two decoding modes (strict for HdrHistogram text,
 * unpadded accepted for whsec_ secrets), every malformed input either caller must reject, and
 * the buffer sizes the header promises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/b64.h"
#include "unit.h"

static const int modes[] = {B64_STRICT, B64_UNPADDED};
#define NMODES (sizeof modes / sizeof modes[0])

/* Decodes the text in with flags and expects the bytes of want, or a rejection if want is NULL. */
static void expect_decode(const char *in, int flags, const char *want) {
    uint8_t out[64];
    long n = b64_decode(in, strlen(in), out, flags);
    if (want == NULL) {
        if (n != -1) fail_msg("accepted \"%s\" with flags %d", in, flags);
        return;
    }
    if (n != (long)strlen(want)) fail_msg("\"%s\" with flags %d: %ld bytes", in, flags, n);
    assert_memory_equal(out, want, (size_t)n);
}

/* RFC 4648 section 10 vectors. */
static void test_vectors(void **state) {
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        size_t n = b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        assert_int_equal(n, strlen(enc[i]));
        assert_int_equal(n, b64_encoded_len(strlen(plain[i])));
        assert_string_equal(out, enc[i]);
        for (size_t m = 0; m < NMODES; m++) expect_decode(enc[i], modes[m], plain[i]);
    }
}

/* whsec_ secrets may come without padding; the HdrHistogram form never does. */
static void test_unpadded(void **state) {
    expect_decode("Zg", B64_UNPADDED, "f");
    expect_decode("Zm8", B64_UNPADDED, "fo");
    expect_decode("Zm9vYmE", B64_UNPADDED, "fooba");
    expect_decode("Zg", B64_STRICT, NULL);
    expect_decode("Zm8", B64_STRICT, NULL);
    expect_decode("Zm9vYmE", B64_STRICT, NULL);
}

/* Strict decoding is canonical: the spare low bits of the last character must be zero, so a
 * signature has one accepted text ("Zg==" is "f"; "Zh==" to "Zv==" differ only in them). */
static void test_canonical(void **state) {
    expect_decode("Zg==", B64_STRICT, "f");
    expect_decode("Zm8=", B64_STRICT, "fo");
    for (const char *c = "hijklmnopqrstuv"; *c; c++) {
        char t[5] = {'Z', *c, '=', '=', 0};
        expect_decode(t, B64_STRICT, NULL);
        expect_decode(t, B64_UNPADDED, "f"); /* secrets from other tools */
    }
    expect_decode("Zm9=", B64_STRICT, NULL); /* '8' ends in bits 00, '9' in 01 */
    expect_decode("Zm9=", B64_UNPADDED, "fo");
    expect_decode("Zm9vYmF=", B64_STRICT, NULL);
    expect_decode("Zm9vYmE=", B64_STRICT, "fooba");
}

static void test_round_trip(void **state) {
    uint8_t in[300], dec[3 * (400 / 4)];
    char enc[4 * ((sizeof in + 2) / 3) + 1];
    for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t e = b64_encode(in, n, enc);
        assert_int_equal(e, 4 * ((n + 2) / 3));
        assert_int_equal(e, b64_encoded_len(n));
        assert_int_equal(enc[e], '\0');
        assert_true(b64_decoded_max(e) <= sizeof dec);
        for (size_t m = 0; m < NMODES; m++) {
            long d = b64_decode(enc, e, dec, modes[m]);
            assert_int_equal(d, (long)n);
            assert_memory_equal(dec, in, n);
        }
        /* the same without its padding */
        size_t bare = e;
        while (bare > 0 && enc[bare - 1] == '=') bare--;
        assert_int_equal(b64_decode(enc, bare, dec, B64_UNPADDED), (long)n);
        assert_memory_equal(dec, in, n);
        if (bare != e) assert_int_equal(b64_decode(enc, bare, dec, B64_STRICT), -1);
    }
    /* All 256 byte values. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    char enc2[4 * ((256 + 2) / 3) + 1];
    uint8_t dec2[3 * (sizeof enc2 / 4) + 3];
    size_t e = b64_encode(all, 256, enc2);
    assert_int_equal(b64_decode(enc2, e, dec2, B64_STRICT), 256);
    assert_memory_equal(dec2, all, 256);
}

/* Rejected in both modes. */
static void test_invalid(void **state) {
    const char *bad[] =
        {
            "Zm9v!",     "Zm9v YmFy", "Zm=v",      "Z",        "Zm9vY",
            "Zm9vY===",  "====",      "=",         "Zg=",      "Zm9v\n",
            "Zm9v-_==",  "Zg==Zg==",  "Zm9vYmFy=", "\xff\xfe", "HIST=AAA", /* padding inside */
            "Zm9vYmFyZ", "==Zg",      "Z===",      "Zm9v====",
        };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (size_t m = 0; m < NMODES; m++) expect_decode(bad[i], modes[m], NULL);
    /* an embedded NUL is just another character outside the alphabet */
    uint8_t out[8];
    assert_int_equal(b64_decode("Zg\0=", 4, out, B64_STRICT), -1);
    assert_int_equal(b64_decode("", 0, out, B64_STRICT), 0);
    assert_int_equal(b64_decode("", 0, out, B64_UNPADDED), 0);
}

static void test_alphabet_and_sizes(void **state) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int members = 0;
    for (int c = -128; c < 128; c++) {
        bool in = c > 0 && strchr(a, c) != NULL;
        assert_int_equal(b64_is_alphabet((char)c), in);
        members += in;
    }
    assert_int_equal(members, 64);
    assert_false(b64_is_alphabet('='));
    assert_false(b64_is_alphabet('\x1c')); /* the first byte of a binary HdrHistogram encoding */

    assert_int_equal(b64_encoded_len(0), 0);
    assert_int_equal(b64_encoded_len(1), 4);
    assert_int_equal(b64_encoded_len(3), 4);
    assert_int_equal(b64_encoded_len(4), 8);
    assert_int_equal(b64_encoded_len(32), 44); /* an HMAC-SHA256 */
    assert_int_equal(b64_decoded_max(0), 0);
    assert_int_equal(b64_decoded_max(2), 3);
    assert_int_equal(b64_decoded_max(4), 3);
    assert_int_equal(b64_decoded_max(7), 6);
    assert_int_equal(b64_decoded_max(8), 6);
}

UNIT_MAIN(test_vectors, test_unpadded, test_round_trip, test_invalid, test_canonical,
          test_alphabet_and_sizes)
