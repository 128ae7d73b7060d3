/* b64.c — base64 (RFC 4648, standard alphabet) for the two places that need it: the
 * HdrHistogram interchange form ("HISTF...", see hdr.c), which is decoded strictly, and webhook
 * signing (sign.c), whose signatures are written padded and whose whsec_ secrets are accepted
 * with or without padding. OpenSSL's EVP_EncodeBlock and EVP_DecodeBlock do the conversion; this
 * file adds what EVP_DecodeBlock does not check or accept — it reads '=' anywhere as zero bits,
 * skips surrounding whitespace and needs whole groups — so decoding first validates the input
 * (alphabet, '=' only as the padding of a last group) and completes a last group itself. Both
 * directions work in caller-provided buffers, so that signing can encode a MAC per request on
 * the engine's hot path without allocating. */
#include "core/b64.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* OpenSSL's lengths are ints: longer inputs go through in chunks of whole groups. */
#define ENC_CHUNK ((size_t)3 << 28) /* bytes, a multiple of 3 */
#define DEC_CHUNK ((size_t)1 << 30) /* characters, a multiple of 4 */

size_t b64_encoded_len(size_t n) {
    return (n + 2) / 3 * 4;
}

size_t b64_encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i += ENC_CHUNK) {
        size_t len = n - i < ENC_CHUNK ? n - i : ENC_CHUNK;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, in + i, (int)len);
    }
    return o;
}

bool b64_is_alphabet(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

size_t b64_decoded_max(size_t n) {
    return (n + 3) / 4 * 3;
}

long b64_decode(const char *in, size_t n, uint8_t *out, int flags) {
    size_t pad = 0;
    while (pad < 2 && n > pad && in[n - 1 - pad] == '=') pad++;
    if (n % 4 != 0 && (pad > 0 || !(flags & B64_UNPADDED)))
        return -1; /* padding only completes a last group; strict input always has whole ones */
    size_t data = n - pad;
    if (data % 4 == 1) return -1; /* one leftover character carries no whole byte */
    for (size_t i = 0; i < data; i++)
        if (!b64_is_alphabet(in[i])) return -1;
    if (data == 0) return 0;

    size_t head = (data - 1) / 4 * 4; /* the groups before the last one, decoded in place */
    size_t o = 0;
    for (size_t i = 0; i < head; i += DEC_CHUNK) {
        size_t len = head - i < DEC_CHUNK ? head - i : DEC_CHUNK;
        if (EVP_DecodeBlock(out + o, (const unsigned char *)in + i, (int)len) != (int)(len / 4 * 3))
            return -1;
        o += len / 4 * 3;
    }
    /* The last group, 2 to 4 characters, completed with 'A' (zero bits): its first 1 to 3 bytes
     * are whole; the low bits of its last character beyond them must be zero (strict). */
    unsigned char last[4] = {'A', 'A', 'A', 'A'}, bytes[3];
    size_t rest = data - head;
    memcpy(last, in + head, rest);
    int got = EVP_DecodeBlock(bytes, last, 4);
    /* the bits of the last character beyond the whole bytes: 4 of 2 characters, 2 of 3 */
    if (got == 3 && !(flags & B64_UNPADDED) && rest < 4 && (bytes[rest - 1] != 0)) got = -1;
    if (got == 3) memcpy(out + o, bytes, rest - 1);
    OPENSSL_cleanse(last, sizeof last); /* whsec_ secrets come through here */
    OPENSSL_cleanse(bytes, sizeof bytes);
    return got == 3 ? (long)(o + rest - 1) : -1;
}
