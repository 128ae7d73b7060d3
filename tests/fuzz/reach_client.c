/* reach_client.c — the set-up and audit HTTP client (src/http/client.c, compiled whole) and a way
 * into its response parsing for fuzz_client.c (see reach.h): a client whose connection is "open"
 * on a transport that hands over the input as the server's bytes, read with
 * client_response_step as the vendor race reads its claims' answers. */
#include "../../src/http/client.c"

#include "common.h"
#include "reach.h"

int fuzz_client_feed(const uint8_t *data, size_t len, const uint8_t *cuts, size_t ncuts,
                     bool head) {
    static client *c;
    char err[512];
    if (!c && client_new("http://127.0.0.1:1", false, &c, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz: client_new: %s\n", err);
        abort();
    }
    fuzz_feed_set(data, len, cuts, ncuts);
    c->tp = &fuzz_feed_transport;
    c->tc.fd = -1;
    c->open = true;
    c->used = false;
    int complete = 0;
    while (c->open) {
        c->head = head;
        client_response_begin(c);
        client_response resp;
        client_err why = CLIENT_OK;
        int r;
        while ((r = client_response_step(c, &resp, &why, err, sizeof err)) == 0) {
        }
        if (r < 0) {
            if (why == CLIENT_OK || c->open) abort(); /* a failure has a class and closes */
            if (!err[0] || strchr(err, '\n')) abort();
            break;
        }
        complete++;
        /* client.h: the body is NUL-terminated and at most CLIENT_BODY_MAX bytes */
        if (resp.body_len > CLIENT_BODY_MAX || resp.body[resp.body_len] != '\0') abort();
        if (!resp.keep_alive && c->open) abort();
    }
    return complete;
}
