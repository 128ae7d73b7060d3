/* test_race_client.c — the small HTTP/1.1 client that the race uses for set-up, audits and its
 * held-back claims (http/client.h), against a scripted loopback server in a thread: bodies by
 * Content-Length, chunked and until close; interim 100 responses; HEAD; keep-alive reuse and the
 * transparent retry when the server closed an idle connection; a server that never answers
 * (timeout), a refused connection, an oversized body; and the split API (prefix, SIOCOUTQNSD,
 * last byte, step-by-step parsing). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/client.h"
#include "unit.h"

static int lfd, port;
static pthread_t srv;
static atomic_int accepted, stop_srv;

static void send_str(int fd, const char *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Reads one request (head + Content-Length body); its path into path. false at EOF. */
static bool read_request(int fd, char *buf, size_t cap, size_t *have, char *path, size_t plen) {
    char *end;
    while (!(end = memmem(buf, *have, "\r\n\r\n", 4))) {
        if (*have >= cap) return false;
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return false;
        *have += (size_t)n;
    }
    size_t head = (size_t)(end - buf) + 4, clen = 0;
    char *cl = strcasestr(buf, "Content-Length:");
    if (cl && cl < end) clen = strtoul(cl + 15, NULL, 10);
    while (*have < head + clen) {
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return false;
        *have += (size_t)n;
    }
    char m[16];
    if (sscanf(buf, "%15s %255s", m, path) != 2) return false;
    (void)plen;
    memmove(buf, buf + head + clen, *have - head - clen);
    *have -= head + clen;
    return true;
}

static void serve(int fd) {
    char buf[8192], path[256];
    size_t have = 0;
    while (read_request(fd, buf, sizeof buf, &have, path, sizeof path)) {
        if (!strcmp(path, "/len")) {
            send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        } else if (!strcmp(path, "/chunked")) {
            send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n");
            usleep(2000);
            send_str(fd, "2\r\nlo\r\n0\r\n\r\n");
        } else if (!strcmp(path, "/eof")) {
            send_str(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye");
            return;
        } else if (!strcmp(path, "/continue")) {
            send_str(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: "
                         "2\r\n\r\nok");
        } else if (!strcmp(path, "/head")) {
            send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n");
        } else if (!strcmp(path, "/close-after")) {
            send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            return; /* closes while the client keeps the connection */
        } else if (!strcmp(path, "/hang")) {
            char c;
            while (recv(fd, &c, 1, 0) > 0) {
            }
            return;
        } else if (!strcmp(path, "/big")) {
            char head[100];
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
                     CLIENT_BODY_MAX + 10);
            send_str(fd, head);
            static char chunk[65536];
            memset(chunk, 'x', sizeof chunk);
            for (int i = 0; i < CLIENT_BODY_MAX / (int)sizeof chunk + 1; i++)
                if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) <= 0) return;
            return;
        } else {
            send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    }
}

static void *srv_main(void *arg) {
    while (!atomic_load(&stop_srv)) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        if (atomic_load(&stop_srv)) {
            close(fd);
            break;
        }
        atomic_fetch_add(&accepted, 1);
        serve(fd);
        close(fd);
    }
    return NULL;
}

static int setup(void **state) {
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) return -1;
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    return pthread_create(&srv, NULL, srv_main, NULL);
}

static int teardown(void **state) {
    atomic_store(&stop_srv, 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    pthread_join(srv, NULL);
    close(fd);
    close(lfd);
    return 0;
}

static client *new_client(void) {
    char base[64], err[200];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/ignored", port);
    client *c = NULL;
    assert_int_equal(client_new(base, false, &c, err, sizeof err), 0);
    return c;
}

static int get(client *c, const char *method, const char *path, client_response *r, client_err *why,
               int64_t timeout_ns) {
    char err[200];
    return client_request(c, method, path, NULL, NULL, 0, timeout_ns, r, why, err, sizeof err);
}

static void test_bodies_and_reuse(void **state) {
    client *c = new_client();
    client_response r;
    client_err why;
    int before = atomic_load(&accepted);
    assert_int_equal(get(c, "GET", "/len", &r, &why, NS_PER_S), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_true(r.keep_alive);
    assert_int_equal(get(c, "GET", "/chunked", &r, &why, NS_PER_S), 0);
    assert_string_equal(r.body, "hello");
    assert_int_equal(get(c, "POST", "/continue", &r, &why, NS_PER_S), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "ok");
    assert_int_equal(get(c, "HEAD", "/head", &r, &why, NS_PER_S), 0);
    assert_int_equal(r.body_len, 0);
    assert_int_equal(atomic_load(&accepted) - before, 1); /* one kept-alive connection */
    assert_int_equal(get(c, "GET", "/eof", &r, &why, NS_PER_S), 0);
    assert_string_equal(r.body, "bye");
    assert_false(r.keep_alive);
    assert_false(client_is_open(c));
    assert_int_equal(get(c, "GET", "/nothing", &r, &why, NS_PER_S), 0);
    assert_int_equal(r.status, 404);
    client_free(c);
}

static void test_idle_close_retry(void **state) {
    client *c = new_client();
    client_response r;
    client_err why;
    assert_int_equal(get(c, "GET", "/close-after", &r, &why, NS_PER_S), 0);
    usleep(20000); /* the server has closed its end by now */
    int before = atomic_load(&accepted);
    assert_int_equal(get(c, "GET", "/len", &r, &why, NS_PER_S), 0);
    assert_string_equal(r.body, "hello");
    assert_int_equal(atomic_load(&accepted) - before, 1);
    client_free(c);
}

static void test_failures(void **state) {
    client *c = new_client();
    client_response r;
    client_err why = CLIENT_OK;
    char err[200];
    int64_t t0 = clock_now_ns();
    assert_int_equal(client_request(c, "GET", "/hang", NULL, NULL, 0, 200 * NS_PER_MS, &r, &why,
                                    err, sizeof err),
                     -1);
    int64_t took = clock_now_ns() - t0;
    assert_int_equal(why, CLIENT_ERR_TIMEOUT);
    assert_true(took >= 190 * NS_PER_MS && took < 2 * NS_PER_S);
    assert_non_null(strstr(err, "within"));
    assert_int_equal(get(c, "GET", "/big", &r, &why, 5 * NS_PER_S), -1);
    assert_int_equal(why, CLIENT_ERR_PARSE);
    assert_int_equal(get(c, "GET", "no-slash", &r, &why, NS_PER_S), -1);
    client_free(c);

    /* a port nobody listens on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    assert_int_equal(client_new(base, false, &c, err, sizeof err), 0);
    assert_int_equal(
        client_request(c, "GET", "/", NULL, NULL, 0, NS_PER_S, &r, &why, err, sizeof err), -1);
    assert_int_equal(why, CLIENT_ERR_CONNECT);
    assert_non_null(strstr(err, "refused"));
    client_free(c);
    close(fd);
    assert_int_equal(client_new("ftp://x", false, &c, err, sizeof err), -1);
}

static void test_split_api(void **state) {
    client *c = new_client();
    char err[200];
    client_err why;
    int64_t deadline = clock_now_ns() + NS_PER_S;
    const char req[] = "POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    size_t n = sizeof req - 1;
    assert_int_equal(client_connect(c, deadline, &why, err, sizeof err), 0);
    client_response_begin(c);
    assert_int_equal(client_write_all(c, req, n - 1, deadline, &why, err, sizeof err), 0);
    while (client_unsent(c) > 0) usleep(100);
    assert_int_equal(client_unsent(c), 0);
    client_response resp;
    assert_int_equal(client_response_step(c, &resp, &why, err, sizeof err), 0); /* nothing yet */
    assert_int_equal(client_write_once(c, req + n - 1, 1), 1);
    struct pollfd p = {.fd = client_fd(c), .events = POLLIN};
    int st = 0;
    while (st == 0) {
        assert_true(poll(&p, 1, 1000) > 0);
        st = client_response_step(c, &resp, &why, err, sizeof err);
    }
    assert_int_equal(st, 1);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "hello");
    assert_string_equal(client_err_name(CLIENT_ERR_TIMEOUT), "timeout");
    client_free(c);
}

UNIT_MAIN_WITH(setup, teardown, test_bodies_and_reuse, test_idle_close_retry, test_failures,
               test_split_api)
