/*
 * racebroken — a tiny order-dispatch server that is wrong on purpose, so that every detector of
 * `brink race` is seen to fire (tests/integration/race.sh). It speaks the part of dispatchd's
 * API that the race uses:
 *   POST /webhooks/orders        202; remembers the body's "order_id" (signature not checked)
 *   POST /orders                 201 {"id":"auto-N"}: an order whose id the server picks
 *   GET  /orders/ID              200 {"order_id","status","vendor_id"} or 404
 *   POST /orders/ID/accept       {"vendor_id":"..."} → 200 {"order_id","vendor_id"} or
 *                                409 {"error":"already_accepted","winner":...}, per --mode:
 *     correct       exactly one winner, the 409s name it, it is stored (the control)
 *     double        the first two claimants of each order get 200
 *     none          everyone gets 409 naming no one; nothing is stored
 *     phantom       the first claimant gets 200, but the second one is stored
 *     inconsistent  one correct winner, but the 409s name "someone-else"
 *     error         the second claimant of each order gets 500
 * One detached thread per connection, blocking sockets, keep-alive, a hand-written parser for
 * the request line, the headers and a Content-Length body. Loopback only; exits after
 * --max-seconds (default 120). Starts with --port 0 and writes the bound port to --port-file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define HEAD_MAX  8192
#define BODY_MAX  65536
#define ID_MAX    128
#define ORDER_MAX 100000

typedef enum mode { M_CORRECT, M_DOUBLE, M_NONE, M_PHANTOM, M_INCONSISTENT, M_ERROR } mode;
static const char *const mode_names[] = {"correct", "double",       "none",
                                         "phantom", "inconsistent", "error"};

typedef struct order {
    char id[ID_MAX];
    int claims;          /* accept requests seen */
    char winner[ID_MAX]; /* announced (first 200) */
    char stored[ID_MAX]; /* what GET shows */
    bool accepted, stored_set;
} order;

static mode g_mode = M_CORRECT;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static order *g_orders;
static int g_norders;

/* ---- orders (linear probing on a hash of the id) ------------------------------------------ */

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The order with this id; created when create is true. NULL when absent or full. */
static order *find(const char *id, bool create) {
    unsigned i = hash(id) % ORDER_MAX;
    for (int n = 0; n < ORDER_MAX; n++, i = (i + 1) % ORDER_MAX) {
        order *o = &g_orders[i];
        if (!o->id[0]) {
            if (!create || g_norders >= ORDER_MAX / 2) return NULL;
            snprintf(o->id, sizeof o->id, "%s", id);
            g_norders++;
            return o;
        }
        if (!strcmp(o->id, id)) return o;
    }
    return NULL;
}

/* ---- tiny helpers -------------------------------------------------------------------------- */

/* The string value of "key":"..." in a JSON text (no escapes needed by the tests). */
static bool json_str(const char *body, const char *key, char *out, size_t outlen) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(body, pat);
    if (!p) return false;
    p += strlen(pat);
    while (*p == ' ' || *p == ':') p++;
    if (*p != '"') return false;
    p++;
    size_t n = strcspn(p, "\"");
    if (p[n] != '"' || n == 0 || n >= outlen) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool reply(int fd, int status, const char *body) {
    const char *reason = status == 200   ? "OK"
                         : status == 201 ? "Created"
                         : status == 202 ? "Accepted"
                         : status == 400 ? "Bad Request"
                         : status == 404 ? "Not Found"
                         : status == 409 ? "Conflict"
                                         : "Internal Server Error";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\n\r\n",
                     status, reason, strlen(body));
    return srv_send_all(fd, head, (size_t)n) && srv_send_all(fd, body, strlen(body));
}

/* ---- routes -------------------------------------------------------------------------------- */

static bool on_webhook(int fd, const char *body) {
    char id[ID_MAX];
    if (!json_str(body, "order_id", id, sizeof id)) return reply(fd, 400, "{\"error\":\"schema\"}");
    pthread_mutex_lock(&g_mu);
    order *o = find(id, true);
    pthread_mutex_unlock(&g_mu);
    return reply(fd, o ? 202 : 500, o ? "{\"status\":\"queued\"}" : "{\"error\":\"full\"}");
}

/* The server picks the id (for race.yaml's id_from). */
static bool on_create(int fd) {
    static int next;
    char id[64], out[128];
    pthread_mutex_lock(&g_mu);
    snprintf(id, sizeof id, "auto-%d", ++next);
    order *o = find(id, true);
    pthread_mutex_unlock(&g_mu);
    snprintf(out, sizeof out, "{\"id\":\"%s\"}", id);
    return o ? reply(fd, 201, out) : reply(fd, 500, "{\"error\":\"full\"}");
}

static bool on_get(int fd, const char *id) {
    char out[512];
    pthread_mutex_lock(&g_mu);
    order *o = find(id, false);
    if (o) {
        char v[ID_MAX + 2];
        if (o->stored_set)
            snprintf(v, sizeof v, "\"%s\"", o->stored);
        else
            snprintf(v, sizeof v, "null");
        snprintf(out, sizeof out, "{\"order_id\":\"%s\",\"status\":\"%s\",\"vendor_id\":%s}", o->id,
                 o->stored_set ? "accepted" : "open", v);
    }
    pthread_mutex_unlock(&g_mu);
    return o ? reply(fd, 200, out) : reply(fd, 404, "{\"error\":\"not_found\"}");
}

static bool on_accept(int fd, const char *id, const char *body) {
    char vendor[ID_MAX];
    if (!json_str(body, "vendor_id", vendor, sizeof vendor))
        return reply(fd, 400, "{\"error\":\"invalid_schema\"}");
    char out[512];
    int status;
    pthread_mutex_lock(&g_mu);
    order *o = find(id, false);
    if (!o) {
        pthread_mutex_unlock(&g_mu);
        return reply(fd, 404, "{\"error\":\"not_found\"}");
    }
    int arrival = o->claims++;
    bool win = false;
    switch (g_mode) {
    case M_CORRECT:
    case M_INCONSISTENT: win = !o->accepted; break;
    case M_DOUBLE: win = arrival < 2; break;
    case M_NONE: win = false; break;
    case M_PHANTOM:
        win = !o->accepted;
        if (arrival == 1) snprintf(o->stored, sizeof o->stored, "%s", vendor); /* the lie */
        break;
    case M_ERROR: win = !o->accepted && arrival != 1; break;
    }
    if (g_mode == M_ERROR && arrival == 1) {
        status = 500;
        snprintf(out, sizeof out, "{\"error\":\"internal\"}");
    } else if (win) {
        if (!o->accepted) {
            o->accepted = true;
            snprintf(o->winner, sizeof o->winner, "%s", vendor);
            if (!o->stored_set) snprintf(o->stored, sizeof o->stored, "%s", vendor);
            o->stored_set = true;
        }
        status = 200;
        snprintf(out, sizeof out, "{\"order_id\":\"%s\",\"vendor_id\":\"%s\"}", o->id, vendor);
    } else {
        status = 409;
        if (g_mode == M_NONE)
            snprintf(out, sizeof out, "{\"error\":\"already_accepted\",\"winner\":null}");
        else
            snprintf(out, sizeof out, "{\"error\":\"already_accepted\",\"winner\":\"%s\"}",
                     g_mode == M_INCONSISTENT ? "someone-else" : o->winner);
    }
    pthread_mutex_unlock(&g_mu);
    return reply(fd, status, out);
}

/* ---- connections --------------------------------------------------------------------------- */

/* One request: false when the connection must end. */
static bool serve_one(int fd, char *buf, size_t *have) {
    char *end;
    while (!(end = memmem(buf, *have, "\r\n\r\n", 4))) {
        if (*have >= HEAD_MAX) return false;
        ssize_t n = recv(fd, buf + *have, HEAD_MAX - *have, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        *have += (size_t)n;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    char method[16], path[512];
    if (sscanf(buf, "%15s %511s", method, path) != 2) return false;
    size_t clen = 0;
    bool close_after = false;
    for (char *line = strstr(buf, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (!strncasecmp(line, "Content-Length:", 15)) clen = strtoul(line + 15, NULL, 10);
        if (!strncasecmp(line, "Connection:", 11) && strstr(line, "close") &&
            strstr(line, "close") < strstr(line, "\r\n"))
            close_after = true;
    }
    if (clen > BODY_MAX) return false;
    char *body = malloc(clen + 1);
    if (!body) return false;
    size_t got = *have - head_len < clen ? *have - head_len : clen;
    memcpy(body, buf + head_len, got);
    size_t rest = *have - head_len - got;
    memmove(buf, buf + head_len + got, rest);
    *have = rest;
    while (got < clen) {
        ssize_t n = recv(fd, body + got, clen - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            free(body);
            return false;
        }
        got += (size_t)n;
    }
    body[clen] = '\0';
    bool ok;
    size_t pl = strlen(path);
    if (!strcmp(method, "POST") && !strcmp(path, "/webhooks/orders")) {
        ok = on_webhook(fd, body);
    } else if (!strcmp(method, "POST") && !strcmp(path, "/orders")) {
        ok = on_create(fd);
    } else if (!strncmp(path, "/orders/", 8) && pl > 8) {
        char id[ID_MAX];
        const char *p = path + 8;
        bool accept = pl > 15 && !strcmp(path + pl - 7, "/accept");
        size_t idl = accept ? pl - 15 : pl - 8;
        if (idl >= sizeof id || memchr(p, '/', idl)) {
            ok = reply(fd, 404, "{\"error\":\"not_found\"}");
        } else {
            memcpy(id, p, idl);
            id[idl] = '\0';
            if (accept && !strcmp(method, "POST"))
                ok = on_accept(fd, id, body);
            else if (!accept && !strcmp(method, "GET"))
                ok = on_get(fd, id);
            else
                ok = reply(fd, 404, "{\"error\":\"not_found\"}");
        }
    } else {
        ok = reply(fd, 404, "{\"error\":\"not_found\"}");
    }
    free(body);
    return ok && !close_after;
}

static void *conn_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(HEAD_MAX);
    size_t have = 0;
    while (buf && serve_one(fd, buf, &have)) {
    }
    free(buf);
    close(fd);
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "usage: racebroken [--port N] [--port-file F] [--max-seconds N]\n"
               "                  [--mode correct|double|none|phantom|inconsistent|error]\n");
}

int main(int argc, char **argv) {
    long port = 0, max_seconds = 120;
    const char *port_file = NULL;
    static const struct option lo[] = {{"port", required_argument, NULL, 'p'},
                                       {"port-file", required_argument, NULL, 'P'},
                                       {"max-seconds", required_argument, NULL, 'm'},
                                       {"mode", required_argument, NULL, 'M'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'P': port_file = optarg; break;
        case 'm': max_seconds = strtol(optarg, NULL, 10); break;
        case 'M': {
            int found = -1;
            for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++)
                if (!strcmp(optarg, mode_names[i])) found = i;
            if (found < 0) {
                fprintf(stderr, "racebroken: unknown mode '%s'\n", optarg);
                usage(stderr);
                return 2;
            }
            g_mode = (mode)found;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (port < 0 || port > 65535 || max_seconds < 0) {
        usage(stderr);
        return 2;
    }
    g_orders = calloc(ORDER_MAX, sizeof *g_orders);
    if (!g_orders) return 1;
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 512) < 0) {
        perror("racebroken: listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    printf("PORT %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    if (port_file) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) < 0) {
            perror("racebroken: port file");
            return 1;
        }
    }
    if (max_seconds > 0) alarm((unsigned)max_seconds); /* SIGALRM ends the process */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
            perror("racebroken: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, &attr, conn_main, (void *)(intptr_t)fd) != 0) close(fd);
    }
}
