/* b64.c — base64 encoding and decoding (RFC 4648, standard alphabet) for the two places that
 * need it: the HdrHistogram interchange form ("HISTF...", see hdr.c), which is decoded strictly,
 * and webhook signing (sign.c), whose signatures are written padded and whose whsec_ secrets are
 * accepted with or without padding. Both directions work in caller-provided buffers, so that
 * signing can encode a MAC per request on the engine's hot path without allocating. */
#include "core/b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t n) {
    return (n + 2) / 3 * 4;
}

size_t b64_encode(const uint8_t *in, size_t n, char *out) {
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < n) { /* one or two bytes left: two or three characters, then padding */
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return (size_t)(o - out);
}

static int value_of(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool b64_is_alphabet(char c) {
    return value_of(c) >= 0;
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

    uint8_t *o = out;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < data; i++) {
        int v = value_of(in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)(o - out);
}
