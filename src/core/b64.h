/* b64.h — base64 with the standard alphabet (RFC 4648 section 4), shared by the HDR histogram's
 * interchange encoding (strict: padded, as every HdrHistogram library writes it) and webhook
 * signing (standard-webhooks signatures, and whsec_ secrets, which may come without padding).
 * The caller owns every buffer; nothing here allocates. */
#ifndef BRINK_B64_H
#define BRINK_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flags for b64_decode. */
enum b64_flags {
    /* canonical only: length a multiple of 4, '=' only as the last one or two characters, and
     * the spare low bits of the last data character zero (RFC 4648 section 3.5), so one byte
     * string has exactly one accepted text (signatures compare as their texts would) */
    B64_STRICT = 0,
    /* also accept a last group of 2 or 3 characters without its '=', and spare bits that are
     * not zero (whsec_ secrets written by other tools) */
    B64_UNPADDED = 1 << 0,
};

/* Length of the padded encoding of n bytes, without the NUL: 4 * ceil(n / 3). */
size_t b64_encoded_len(size_t n);
/* Writes the padded encoding of in[0..n) and a NUL to out (b64_encoded_len(n) + 1 bytes);
 * returns b64_encoded_len(n). */
size_t b64_encode(const uint8_t *in, size_t n, char *out);

/* Bytes that b64_decode may write for n characters of input: 3 * ceil(n / 4). */
size_t b64_decoded_max(size_t n);
/* Decodes in[0..n) into out (b64_decoded_max(n) bytes); returns the decoded length, or -1 for
 * a character outside the alphabet, '=' other than as padding, or a length that no encoding
 * has. Unused low bits of the last character are ignored. Empty input decodes to 0 bytes. */
long b64_decode(const char *in, size_t n, uint8_t *out, int flags);

/* Whether c is one of the 64 alphabet characters ('=' is not). */
bool b64_is_alphabet(char c);

#endif
