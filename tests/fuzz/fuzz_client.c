/* fuzz_client.c — the response parsing of brink's set-up and audit client (src/http/client.c
 * through reach_client.c), as the vendor race reads its claims' answers with the split API:
 * status lines, headers, Content-Length, chunked bodies, bodies until close, interim 1xx, HEAD,
 * keep-alive. Checked besides crashes: client.h's promises (a NUL-terminated body of at most
 * CLIENT_BODY_MAX bytes, a failure with its class and a one-line reason, closed when not kept).
 *
 * Input: byte 0 — bit 0: the requests are HEADs; byte 1 (mod 16) is how many bytes follow that
 * cut the server's bytes into reads; the rest is what the server sends. */
#include <stdint.h>

#include "reach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t ncuts = data[1] % 16;
    if (size < 2 + ncuts) return 0;
    fuzz_client_feed(data + 2 + ncuts, size - 2 - ncuts, data + 2, ncuts, data[0] & 1);
    return 0;
}
