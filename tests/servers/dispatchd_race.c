/*
 * dispatchd_race — fires V concurrent "accept" requests at each of N orders of dispatchd and
 * reports who won, for tests/integration/dispatchd.sh.
 *
 * Shell concurrency (curl in the background) spreads requests over milliseconds; a real race
 * needs them within microseconds. So: V threads, each with its own kept-alive connection opened
 * beforehand, meet at a barrier before every order and then send
 *   POST /orders/<prefix><i>/accept  {"vendor_id":"v<thread>"}
 * at the same moment. After a second barrier the main thread tallies the order: how many 200s,
 * how many 409s, whether every 409 names the same winner as the single 200. The HTTP client is
 * deliberately minimal (request line, headers, Content-Length body; the response's status line,
 * Content-Length and body), enough for dispatchd's replies and nothing else.
 *
 * Output: one line per order "order <id> wins <n> lost <n> other <n> winner <vendor|->
 * consistent <0|1>", then "summary orders <N> single <n> double <n> none <n> inconsistent <n>
 * other <n>". Exit status 0 when it ran (the test judges the numbers), 2 on bad usage, 1 when
 * it could not connect. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"

#define MAX_VENDORS 256
#define RESP_MAX    8192
#define ID_MAX      128

typedef struct result {
    int status;
    char winner[ID_MAX]; /* 200: our own vendor; 409: the named winner */
} result;

static int port, norders, nvendors;
static const char *prefix = "race-";
static pthread_barrier_t start_bar, done_bar;
static result *results; /* [order][vendor] */

static int connect_once(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one response; returns the status (0 on failure), the body in body, and whether the
 * server will close the connection. */
static int read_response(int fd, char *body, size_t cap, bool *closing) {
    static __thread char buf[RESP_MAX];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        if (len == sizeof buf - 1) return 0;
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return 0;
    size_t head = (size_t)(end + 4 - buf);
    long clen = 0;
    char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl && cl < end) clen = strtol(cl + 17, NULL, 10);
    char *conn = strcasestr(buf, "\r\nconnection: close");
    *closing = conn && conn < end;
    if (clen < 0 || head + (size_t)clen >= sizeof buf) return 0;
    while (len < head + (size_t)clen) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        len += (size_t)r;
    }
    size_t n = (size_t)clen < cap - 1 ? (size_t)clen : cap - 1;
    memcpy(body, buf + head, n);
    body[n] = '\0';
    return status;
}

/* The value of "key":"..." in a flat JSON body (no escapes in our ids). */
static void json_str(const char *body, const char *key, char *out, size_t cap) {
    out[0] = '\0';
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(body, pat);
    if (p == NULL) return;
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void *vendor_main(void *arg) {
    int v = (int)(long)arg;
    int fd = connect_once();
    char req[1024], body[RESP_MAX], vendor[32];
    snprintf(vendor, sizeof vendor, "v%d", v);
    for (int i = 0; i < norders; i++) {
        char payload[64];
        int pl = snprintf(payload, sizeof payload, "{\"vendor_id\":\"%s\"}", vendor);
        int n = snprintf(req, sizeof req,
                         "POST /orders/%s%d/accept HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                         prefix, i, pl, payload);
        result *res = &results[(size_t)i * (size_t)nvendors + (size_t)v];
        pthread_barrier_wait(&start_bar);
        bool closing = false;
        int status = 0;
        if (fd >= 0 && srv_send_all(fd, req, (size_t)n))
            status = read_response(fd, body, sizeof body, &closing);
        res->status = status;
        if (status == 200) snprintf(res->winner, sizeof res->winner, "%s", vendor);
        if (status == 409) json_str(body, "winner", res->winner, sizeof res->winner);
        if (status == 0 || closing) { /* reconnect for the next order, outside the race */
            if (fd >= 0) close(fd);
            fd = connect_once();
        }
        pthread_barrier_wait(&done_bar);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--orders") == 0)
            norders = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--vendors") == 0)
            nvendors = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--prefix") == 0)
            prefix = argv[i + 1];
        else {
            fprintf(stderr, "usage: dispatchd_race --port P --orders N --vendors V [--prefix S]\n");
            return 2;
        }
    }
    if (port <= 0 || norders <= 0 || nvendors <= 1 || nvendors > MAX_VENDORS) {
        fprintf(stderr, "usage: dispatchd_race --port P --orders N --vendors V [--prefix S]\n");
        return 2;
    }
    int probe = connect_once();
    if (probe < 0) {
        fprintf(stderr, "dispatchd_race: cannot connect to 127.0.0.1:%d\n", port);
        return 1;
    }
    close(probe);
    results = calloc((size_t)norders * (size_t)nvendors, sizeof *results);
    if (results == NULL) return 1;
    pthread_barrier_init(&start_bar, NULL, (unsigned)nvendors);
    pthread_barrier_init(&done_bar, NULL, (unsigned)nvendors);
    pthread_t th[MAX_VENDORS];
    for (int v = 0; v < nvendors; v++)
        if (pthread_create(&th[v], NULL, vendor_main, (void *)(long)v)) return 1;
    for (int v = 0; v < nvendors; v++) pthread_join(th[v], NULL);
    int single = 0, dbl = 0, none = 0, inconsistent = 0, other = 0;
    for (int i = 0; i < norders; i++) {
        int wins = 0, lost = 0, oth = 0;
        const char *winner = "-";
        result *row = &results[(size_t)i * (size_t)nvendors];
        for (int v = 0; v < nvendors; v++) {
            if (row[v].status == 200) {
                wins++;
                winner = row[v].winner;
            } else if (row[v].status == 409) {
                lost++;
            } else {
                oth++;
            }
        }
        bool consistent = wins == 1;
        for (int v = 0; v < nvendors && consistent; v++)
            if (row[v].status == 409 && strcmp(row[v].winner, winner) != 0) consistent = false;
        printf("order %s%d wins %d lost %d other %d winner %s consistent %d\n", prefix, i, wins,
               lost, oth, winner, consistent ? 1 : 0);
        if (wins == 1) single++;
        if (wins > 1) dbl++;
        if (wins == 0) none++;
        if (!consistent) inconsistent++;
        other += oth;
    }
    printf("summary orders %d single %d double %d none %d inconsistent %d other %d\n", norders,
           single, dbl, none, inconsistent, other);
    free(results);
    return 0;
}
