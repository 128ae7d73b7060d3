/* reach_client.c — the set-up and audit HTTP client (src/http/client.c, compiled whole) and a way
 * into its response parsing for fuzz_client.c (see reach.h): a client whose connection is "open"
 * on a transport that hands over the input as the server's bytes, read with
 * client_response_step as the vendor race reads its claims' answers. */
#include "../../src/http/client.c"

#include "reach.h"

static struct {
    const uint8_t *data, *cuts;
    size_t len, off, ncuts, cut;
} feed;

static int fz_handshake(transport_conn *tc, const char *sni, bool is_ip) {
    return 1;
}

static ssize_t fz_read(transport_conn *tc, char *buf, size_t len) {
    if (feed.off >= feed.len) return TRANSPORT_EOF;
    size_t n = feed.len - feed.off;
    if (feed.ncuts) {
        size_t want = (size_t)feed.cuts[feed.cut++ % feed.ncuts] + 1;
        if (want < n) n = want;
    }
    if (n > len) n = len;
    memcpy(buf, feed.data + feed.off, n);
    feed.off += n;
    return (ssize_t)n;
}

static ssize_t fz_write(transport_conn *tc, const char *buf, size_t len) {
    return (ssize_t)len;
}

static size_t fz_pending(transport_conn *tc) {
    return 0;
}

static void fz_close(transport_conn *tc) {
    tc->fd = -1;
}

static const transport fz_transport = {"fuzz",   fz_handshake, fz_read,
                                       fz_write, fz_pending,   fz_close};

int fuzz_client_feed(const uint8_t *data, size_t len, const uint8_t *cuts, size_t ncuts,
                     bool head) {
    static client *c;
    char err[512];
    if (!c && client_new("http://127.0.0.1:1", false, &c, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz: client_new: %s\n", err);
        abort();
    }
    feed.data = data;
    feed.len = len;
    feed.off = 0;
    feed.cuts = cuts;
    feed.ncuts = ncuts;
    feed.cut = 0;
    c->tp = &fz_transport;
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
