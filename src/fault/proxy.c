/* proxy.c — the data plane of brink's fault-injecting TCP proxy (see proxy.h for the contract).
 *
 * Where it sits: the stack and the scenarios run one proxy_server in-process and put a proxy
 * between the service under test and each of its PostgreSQL and Redis servers; faults are toxics
 * added to those proxies (by the scenarios directly, or by users through the Toxiproxy-compatible
 * HTTP API in api.c, which calls the functions below).
 *
 * Threads: one event-loop thread per proxy_server owns every proxy, listener and connection; no
 * lock is taken on the data path. Control functions called from other threads fill a command,
 * append it to a mutex-protected queue, wake the loop through an eventfd and wait on a condition
 * variable; the loop runs the queued commands at the end of its current batch of events and
 * marks them done.
 *
 * Connections ("links"): a client accepted on a proxy's listener gets a non-blocking connect to
 * the upstream (addresses resolved with getaddrinfo when the proxy is created or changed; the next
 * address is tried when one fails, the client is closed when all fail). A link has two flows,
 * upstream (client → server) and downstream (server → client). Each flow owns one ring buffer of
 * PIPE_CAP bytes; reading stops (EPOLLIN removed) while it is full, which is the backpressure, and
 * EPOLLOUT is asked for only while a write is pending. epoll is level-triggered; a socket with
 * nothing to wait for is taken out of the epoll set so that a hang-up cannot spin the loop. When a
 * side sends EOF, the other side gets shutdown(SHUT_WR) once the flow's buffered data has been
 * written; the link closes when both flows are shut. A socket error closes the link and resets
 * (RST) the other side, so each peer learns of the failure as it would without the proxy.
 *
 * Toxics (toxic.c): a flow without toxics is a plain read → write through its ring, with no
 * allocation, no timer and no call into toxic.c per chunk. With toxics, each chunk read goes
 * through toxic_flow_take, which appends to the flow's schedule (segments: length, release time)
 * while the bytes stay in the ring; a flush writes the ungated bytes and the segments that are due.
 * The flow's flags (toxic_flow: hold, dropping, split, limit_hit) tell the relay what the toxics
 * ask for. Removing or updating a delaying toxic releases the data it held, as Toxiproxy's toxics
 * flush on interruption. Every link with a pending release or deadline sits in one min-heap keyed
 * by its earliest deadline, and a single timerfd is armed to the heap's top: nothing busy-waits.
 *
 * Memory: links freed while a batch of epoll events is being handled are kept on a zombie list
 * until the batch is over, so that later events of the same batch never touch freed memory. */
#include "fault/proxy.h"
#include "fault/toxic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"

#define PIPE_CAP       (256 * 1024) /* bytes buffered per direction of a link */
#define TOXIC_READ_MAX (32 * 1024)  /* largest chunk read into a toxic chain, as Toxiproxy */
#define SCRATCH_SIZE   (64 * 1024)  /* where swallowed and drained bytes go */
#define MAX_EVENTS     256
#define ACCEPT_BATCH   64
#define MAX_UPSTREAMS  8
#define WRITE_SCAN_MAX 64 /* segments coalesced into one write */
#define NEVER          TOXIC_NEVER

enum { UP = STREAM_UPSTREAM, DOWN = STREAM_DOWNSTREAM }; /* flow index = toxic stream */
enum { CLIENT = 0, SERVER = 1 }; /* flow d reads side d and writes side 1 - d */
enum { EP_SOCKET, EP_LISTENER, EP_WAKE, EP_TIMER };

typedef struct plink plink;
typedef struct pxy pxy;

typedef struct endpoint {
    int kind;
    int fd;
    uint32_t events; /* the mask registered with epoll; 0 = not in the epoll set */
    int side;
    plink *link; /* EP_SOCKET */
    pxy *proxy;  /* EP_LISTENER */
} endpoint;

typedef struct flow {
    char *buf;
    size_t head, used; /* ring: bytes [head, head + used) modulo PIPE_CAP */
    size_t ungated;    /* bytes at the head not governed by tx's segments (writable now) */
    int64_t fin_at;    /* when the EOF may be propagated */
    bool eof;          /* the source sent EOF */
    bool shut;         /* shutdown(SHUT_WR) done on the destination */
    bool blocked;      /* the destination returned EAGAIN: wait for EPOLLOUT */
    toxic_flow tx;     /* the toxics' flags, states and release schedule (toxic.h) */
} flow;

struct plink {
    pxy *px;
    plink *prev, *next; /* in px->links */
    endpoint ep[2];     /* CLIENT, SERVER */
    flow fl[2];         /* UP, DOWN */
    bool connecting, dead;
    int addr_idx; /* upstream address being tried */
    int64_t deadline;
    size_t heap_idx;
    plink *zombie_next;
};

struct pxy {
    char name[PROXY_NAME_MAX];
    char listen_cfg[PROXY_ADDR_MAX];    /* as given */
    char listen_actual[PROXY_ADDR_MAX]; /* as bound ("" until bound once) */
    char upstream[PROXY_ADDR_MAX];
    bool enabled;
    bool have_bound; /* bound_addr is valid: re-enabling binds it again */
    struct sockaddr_storage bound_addr;
    socklen_t bound_len;
    endpoint lep; /* listener; fd -1 when not listening */
    struct sockaddr_storage up_addr[MAX_UPSTREAMS];
    socklen_t up_len[MAX_UPSTREAMS];
    int n_up;
    toxic_list tox;
    plink *links;
    int64_t nlinks, conns_total, bytes[2];
    pxy *next;
};

typedef enum cmd_op {
    CMD_CREATE,
    CMD_UPDATE,
    CMD_DELETE,
    CMD_GET,
    CMD_LIST,
    CMD_RESET,
    CMD_TOX_ADD,
    CMD_TOX_UPDATE,
    CMD_TOX_REMOVE,
    CMD_STOP,
} cmd_op;

typedef struct cmd {
    cmd_op op;
    const char *name, *listen, *upstream, *toxic;
    int enabled;
    const toxic_spec *spec;
    proxy_info *info;
    proxy_info **list;
    int *count;
    char *err;
    size_t errlen;
    proxy_status status;
    bool done;
    struct cmd *next;
} cmd;

struct proxy_server {
    pthread_t thread;
    int epfd, wakefd, timerfd;
    endpoint wake_ep, timer_ep;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cmd *q_head, *q_tail; /* under mu */
    bool stopping;        /* loop thread only */
    pxy *proxies;
    plink **heap;
    size_t heap_n, heap_cap;
    int64_t armed; /* the timerfd's expiry (NEVER = disarmed) */
    plink *zombies;
    uint64_t rng; /* the toxics' generator (toxic_rng_seed) */
    char scratch[SCRATCH_SIZE];
};

/* ---------------------------------------------------------------- small helpers */

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t outlen) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        snprintf(out, outlen, "[%s]:%u", host, port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        snprintf(out, outlen, "%s:%u", host, port);
    }
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" → host (maybe empty) and port; 0 or -1. */
static int split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen) {
    const char *p;
    size_t hl;
    if (!s) return -1;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') return -1;
        hl = (size_t)(end - s - 1);
        if (hl == 0) return -1;
        if (hl >= hostlen) return -1;
        memcpy(host, s + 1, hl);
        p = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) return -1;
        hl = (size_t)(colon - s);
        if (hl >= hostlen || memchr(s, ':', hl)) return -1; /* unbracketed IPv6 */
        memcpy(host, s, hl);
        p = colon + 1;
    }
    host[hl] = '\0';
    size_t pl = strlen(p);
    if (pl == 0 || pl > 5 || pl >= portlen) return -1;
    unsigned v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535) return -1;
    snprintf(port, portlen, "%u", v);
    return 0;
}

/* ---------------------------------------------------------------- epoll and the timer heap */

static void ep_set(proxy_server *srv, endpoint *e, uint32_t want) {
    if (want == e->events || e->fd < 0) return;
    struct epoll_event ev = {.events = want, .data.ptr = e};
    int op = want == 0 ? EPOLL_CTL_DEL : e->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(srv->epfd, op, e->fd, &ev) == 0 || op == EPOLL_CTL_DEL) e->events = want;
}

static void heap_swap(proxy_server *srv, size_t i, size_t j) {
    plink *a = srv->heap[i], *b = srv->heap[j];
    srv->heap[i] = b;
    srv->heap[j] = a;
    b->heap_idx = i;
    a->heap_idx = j;
}

static void heap_up(proxy_server *srv, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (srv->heap[p]->deadline <= srv->heap[i]->deadline) break;
        heap_swap(srv, i, p);
        i = p;
    }
}

static void heap_down(proxy_server *srv, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < srv->heap_n && srv->heap[l]->deadline < srv->heap[m]->deadline) m = l;
        if (r < srv->heap_n && srv->heap[r]->deadline < srv->heap[m]->deadline) m = r;
        if (m == i) return;
        heap_swap(srv, i, m);
        i = m;
    }
}

/* Sets the link's wake-up time (NEVER = none); 0 or -1 (out of memory). */
static int heap_set(proxy_server *srv, plink *l, int64_t when) {
    if (when == l->deadline) return 0;
    if (l->deadline == NEVER) { /* insert */
        if (srv->heap_n == srv->heap_cap) {
            size_t cap = srv->heap_cap ? srv->heap_cap * 2 : 64;
            plink **h = realloc(srv->heap, cap * sizeof *h);
            if (!h) return -1;
            srv->heap = h;
            srv->heap_cap = cap;
        }
        l->deadline = when;
        l->heap_idx = srv->heap_n;
        srv->heap[srv->heap_n++] = l;
        heap_up(srv, l->heap_idx);
        return 0;
    }
    size_t i = l->heap_idx;
    if (when == NEVER) { /* remove */
        l->deadline = NEVER;
        srv->heap_n--;
        if (i != srv->heap_n) {
            srv->heap[i] = srv->heap[srv->heap_n];
            srv->heap[i]->heap_idx = i;
            heap_up(srv, i);
            heap_down(srv, srv->heap[i]->heap_idx);
        }
        return 0;
    }
    int64_t old = l->deadline;
    l->deadline = when;
    if (when < old)
        heap_up(srv, i);
    else
        heap_down(srv, i);
    return 0;
}

static void timer_arm(proxy_server *srv) {
    int64_t when = srv->heap_n ? srv->heap[0]->deadline : NEVER;
    if (when == srv->armed) return;
    struct itimerspec its = {0};
    if (when != NEVER) {
        if (when <= 0) when = 1;
        its.it_value.tv_sec = when / 1000000000LL;
        its.it_value.tv_nsec = when % 1000000000LL;
    }
    timerfd_settime(srv->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
    srv->armed = when;
}

/* ---------------------------------------------------------------- flows: ring and segments */

static void flow_release_all(flow *f, int64_t now) {
    f->ungated = f->used;
    toxic_flow_release(&f->tx, now);
}

/* Bytes at the head of the flow that may be written at time now. */
static size_t flow_writable(const flow *f, int64_t now) {
    const toxic_flow *tx = &f->tx;
    if (tx->hold) return 0;
    size_t n = f->ungated;
    if (n > 0 && tx->split) return n;
    for (size_t i = 0; i < tx->seg_n && i < WRITE_SCAN_MAX; i++) {
        const toxic_segment *s = &tx->seg[(tx->seg_head + i) & (tx->seg_cap - 1)];
        if (s->release > now) break;
        n += s->len;
        if (tx->split) break;
    }
    return n;
}

static void flow_consume(flow *f, size_t w) {
    f->head = (f->head + w) % PIPE_CAP;
    f->used -= w;
    size_t u = w < f->ungated ? w : f->ungated;
    f->ungated -= u;
    w -= u;
    toxic_flow *tx = &f->tx;
    while (w > 0 && tx->seg_n > 0) {
        toxic_segment *s = &tx->seg[tx->seg_head];
        if (s->len <= w) {
            w -= s->len;
            tx->seg_head = (tx->seg_head + 1) & (tx->seg_cap - 1);
            tx->seg_n--;
        } else {
            s->len -= (uint32_t)w;
            w = 0;
        }
    }
    if (f->used == 0) f->head = 0;
}

/* iov for n bytes of the ring starting off bytes after the head; the number of spans. */
static int ring_iov(const flow *f, size_t off, size_t n, struct iovec iov[2]) {
    size_t start = (f->head + off) % PIPE_CAP;
    size_t first = PIPE_CAP - start;
    iov[0].iov_base = f->buf + start;
    if (n <= first) {
        iov[0].iov_len = n;
        return 1;
    }
    iov[0].iov_len = first;
    iov[1].iov_base = f->buf;
    iov[1].iov_len = n - first;
    return 2;
}

/* ---------------------------------------------------------------- toxics on a link */

static flow *link_flow(plink *l, int d) {
    return &l->fl[d];
}

static void flow_derive(plink *l, int d, int64_t now) {
    flow *f = link_flow(l, d);
    bool was = f->tx.on;
    toxic_flow_derive(&f->tx, &l->px->tox, d);
    if (was && !f->tx.on) flow_release_all(f, now);
}

/* n bytes were read at the ring's tail: plain, or through the toxics. */
static int flow_commit(proxy_server *srv, plink *l, int d, size_t n, int64_t now) {
    flow *f = link_flow(l, d);
    if (!f->tx.on) {
        f->used += n;
        f->ungated += n;
        return 0;
    }
    int rc = toxic_flow_take(&f->tx, &l->px->tox, d, &n, now, &srv->rng);
    f->used += n;
    return rc;
}

/* ---------------------------------------------------------------- links */

static void link_free(plink *l) {
    for (int d = 0; d < 2; d++) {
        free(l->fl[d].buf);
        toxic_flow_free(&l->fl[d].tx);
    }
    free(l);
}

/* Graceful close: unread input is drained first so that close() sends FIN, not RST. */
static void close_fd(proxy_server *srv, endpoint *e, bool reset) {
    if (e->fd < 0) return;
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    } else {
        for (int i = 0; i < 4; i++)
            if (recv(e->fd, srv->scratch, sizeof srv->scratch, MSG_DONTWAIT) <= 0) break;
    }
    /* leave the epoll set explicitly: close() alone does not when a forked child still holds a
     * copy of the descriptor (between fork and exec), and a stale event would then name a freed
     * link */
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, e->fd, NULL);
    close(e->fd);
    e->fd = -1;
    e->events = 0;
}

static void link_close(proxy_server *srv, plink *l, bool reset_client, bool reset_server) {
    if (l->dead) return;
    l->dead = true;
    close_fd(srv, &l->ep[CLIENT], reset_client);
    close_fd(srv, &l->ep[SERVER], reset_server);
    heap_set(srv, l, NEVER);
    pxy *px = l->px;
    if (l->prev)
        l->prev->next = l->next;
    else
        px->links = l->next;
    if (l->next) l->next->prev = l->prev;
    px->nlinks--;
    l->px = NULL;
    l->zombie_next = srv->zombies;
    srv->zombies = l;
}

/* A socket of side `side` failed: close it, reset the other so that its peer sees the failure. */
static void link_abort(proxy_server *srv, plink *l, int side) {
    link_close(srv, l, side != CLIENT, side != SERVER);
}

static int upstream_resolve(pxy *px) {
    char host[PROXY_ADDR_MAX], port[8];
    if (split_hostport(px->upstream, host, sizeof host, port, sizeof port) < 0) return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV},
                    *res = NULL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0) return -1;
    px->n_up = 0;
    for (struct addrinfo *a = res; a && px->n_up < MAX_UPSTREAMS; a = a->ai_next) {
        if (a->ai_addrlen > sizeof px->up_addr[0]) continue;
        memcpy(&px->up_addr[px->n_up], a->ai_addr, a->ai_addrlen);
        px->up_len[px->n_up++] = a->ai_addrlen;
    }
    freeaddrinfo(res);
    return px->n_up > 0 ? 0 : -1;
}

/* Starts a connect to upstream address idx or the next that works; 0 or -1 (none left). */
static int link_connect(plink *l, int idx) {
    pxy *px = l->px;
    if (px->n_up == 0) upstream_resolve(px); /* it did not resolve when the proxy was set */
    for (; idx < px->n_up; idx++) {
        const struct sockaddr *sa = (const struct sockaddr *)&px->up_addr[idx];
        int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        int rc = connect(fd, sa, px->up_len[idx]);
        if (rc == 0 || errno == EINPROGRESS) {
            l->ep[SERVER].fd = fd;
            l->ep[SERVER].events = 0;
            l->addr_idx = idx;
            l->connecting = rc != 0;
            if (rc == 0) set_nodelay(fd);
            return 0;
        }
        close(fd);
    }
    return -1;
}

static void link_progress(proxy_server *srv, plink *l, int64_t now);

static bool flow_wants_read(const plink *l, int d) {
    const flow *f = &l->fl[d];
    if (f->eof || f->tx.limit_hit || l->ep[d].fd < 0) return false;
    if (d == DOWN && l->connecting) return false;
    return f->tx.dropping || f->used < PIPE_CAP;
}

static void link_arm(proxy_server *srv, plink *l) {
    for (int side = 0; side < 2; side++) {
        endpoint *e = &l->ep[side];
        uint32_t want = 0;
        if (side == SERVER && l->connecting)
            want = EPOLLOUT;
        else {
            if (flow_wants_read(l, side)) want |= EPOLLIN;
            if (l->fl[1 - side].blocked) want |= EPOLLOUT;
        }
        ep_set(srv, e, want);
    }
}

static int64_t link_next_deadline(const plink *l, int64_t now) {
    int64_t when = NEVER;
    for (int d = 0; d < 2; d++) {
        const flow *f = &l->fl[d];
        const toxic_flow *tx = &f->tx;
        bool can_write = !f->blocked && !(d == UP && l->connecting);
        if (can_write && !tx->hold && f->ungated == 0 && tx->seg_n > 0)
            when = tx->seg[tx->seg_head].release < when ? tx->seg[tx->seg_head].release : when;
        if (can_write && f->eof && !f->shut && f->used == 0 && f->fin_at < when) when = f->fin_at;
        if (!tx->on) continue;
        int64_t t = toxic_flow_deadline(tx, &l->px->tox, d);
        if (t < when) when = t;
    }
    if (when != NEVER && when <= now) when = now + 1;
    return when;
}

/* Writes what may be written in flow d; 0 or -1 (the destination failed). */
static int flow_flush(plink *l, int d, int64_t now) {
    flow *f = link_flow(l, d);
    endpoint *dst = &l->ep[1 - d];
    if (f->blocked || f->shut || dst->fd < 0 || (d == UP && l->connecting)) return 0;
    for (;;) {
        size_t n = flow_writable(f, now);
        if (n == 0) return 0;
        struct iovec iov[2];
        int cnt = ring_iov(f, 0, n, iov);
        ssize_t w;
        if (cnt == 1)
            w = send(dst->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        else {
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
            w = sendmsg(dst->fd, &mh, MSG_NOSIGNAL);
        }
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                f->blocked = true;
                return 0;
            }
            return -1;
        }
        flow_consume(f, (size_t)w);
        l->px->bytes[d] += w;
        if ((size_t)w < n) {
            f->blocked = true;
            return 0;
        }
    }
}

/* Reads once from side d into flow d; 0 or -1 (the source failed). */
static int flow_read(proxy_server *srv, plink *l, int d, int64_t now) {
    flow *f = link_flow(l, d);
    int fd = l->ep[d].fd;
    ssize_t n;
    if (f->tx.dropping) {
        n = recv(fd, srv->scratch, sizeof srv->scratch, 0);
    } else {
        size_t room = PIPE_CAP - f->used;
        if (f->tx.on && room > TOXIC_READ_MAX) room = TOXIC_READ_MAX;
        struct iovec iov[2];
        int cnt = ring_iov(f, f->used, room, iov);
        n = cnt == 1 ? recv(fd, iov[0].iov_base, iov[0].iov_len, 0) : readv(fd, iov, cnt);
    }
    if (n > 0) {
        if (f->tx.dropping) {
            toxic_flow_swallow(&f->tx, &l->px->tox, d, now);
            return 0;
        }
        return flow_commit(srv, l, d, (size_t)n, now);
    }
    if (n == 0) {
        f->eof = true;
        if (f->tx.dropping) toxic_flow_swallow(&f->tx, &l->px->tox, d, now);
        f->fin_at = toxic_flow_fin_at(&f->tx, &l->px->tox, d, now);
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -1;
}

/* Runs due toxic deadlines; true when the link was closed. */
static bool link_toxic_deadlines(proxy_server *srv, plink *l, int64_t now) {
    for (int d = 0; d < 2; d++) {
        const toxic_flow *tx = &l->fl[d].tx;
        if (!tx->on) continue;
        toxic_action a = toxic_flow_due(tx, &l->px->tox, d, now);
        if (a == TOXIC_PASS) continue;
        bool reset = a == TOXIC_RESET; /* reset_peer; else timeout */
        link_close(srv, l, reset, reset);
        return true;
    }
    return false;
}

/* Moves the link forward after any event: due toxics, writes, EOF propagation, closing, the
 * epoll mask and the timer. */
static void link_progress(proxy_server *srv, plink *l, int64_t now) {
    if (l->dead) return;
    bool toxic = l->fl[UP].tx.on || l->fl[DOWN].tx.on;
    if (toxic && link_toxic_deadlines(srv, l, now)) return;
    for (int d = 0; d < 2; d++) {
        flow *f = link_flow(l, d);
        if (flow_flush(l, d, now) < 0) {
            link_abort(srv, l, 1 - d);
            return;
        }
        if (f->eof && !f->shut && f->tx.hold) flow_consume(f, f->used); /* timeout: EOF passes */
        if (f->eof && !f->shut && f->used == 0 && now >= f->fin_at && !(d == UP && l->connecting)) {
            shutdown(l->ep[1 - d].fd, SHUT_WR);
            f->shut = true;
        }
        if (f->tx.limit_hit && f->used == 0) {
            link_close(srv, l, false, false);
            return;
        }
    }
    if (l->fl[UP].shut && l->fl[DOWN].shut) {
        link_close(srv, l, false, false);
        return;
    }
    link_arm(srv, l);
    int64_t when = NEVER;
    if (toxic || l->fl[UP].tx.seg_n || l->fl[DOWN].tx.seg_n || l->fl[UP].eof || l->fl[DOWN].eof)
        when = link_next_deadline(l, now);
    if (heap_set(srv, l, when) < 0) link_close(srv, l, true, true);
}

static void link_new(proxy_server *srv, pxy *px, int cfd, int64_t now) {
    plink *l = calloc(1, sizeof *l);
    if (l) {
        l->fl[UP].buf = malloc(PIPE_CAP);
        l->fl[DOWN].buf = malloc(PIPE_CAP);
    }
    if (!l || !l->fl[UP].buf || !l->fl[DOWN].buf) {
        if (l) link_free(l);
        close(cfd);
        return;
    }
    set_nodelay(cfd);
    l->px = px;
    l->deadline = NEVER;
    for (int side = 0; side < 2; side++) {
        l->ep[side] = (endpoint){.kind = EP_SOCKET, .fd = -1, .side = side, .link = l};
        l->fl[side].fin_at = NEVER;
    }
    l->ep[CLIENT].fd = cfd;
    l->next = px->links;
    if (px->links) px->links->prev = l;
    px->links = l;
    px->nlinks++;
    px->conns_total++;
    for (int k = 0; k < px->tox.n; k++)
        toxic_state_init(&l->fl[px->tox.t[k].stream].tx.st[k], &px->tox.t[k], now, &srv->rng);
    flow_derive(l, UP, now);
    flow_derive(l, DOWN, now);
    if (link_connect(l, 0) < 0) {
        link_close(srv, l, false, false);
        return;
    }
    link_progress(srv, l, now);
}

static void on_connected(proxy_server *srv, plink *l) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(l->ep[SERVER].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == 0) {
        l->connecting = false;
        set_nodelay(l->ep[SERVER].fd);
        return;
    }
    close_fd(srv, &l->ep[SERVER], false);
    if (link_connect(l, l->addr_idx + 1) < 0) link_close(srv, l, false, false);
}

static void on_socket(proxy_server *srv, endpoint *e, uint32_t ev) {
    plink *l = e->link;
    if (l->dead) return;
    int64_t now = clock_now_ns();
    int side = e->side;
    if (side == SERVER && l->connecting) {
        on_connected(srv, l);
    } else {
        if (ev & EPOLLERR) {
            link_abort(srv, l, side);
            return;
        }
        if (ev & EPOLLOUT) l->fl[1 - side].blocked = false;
        if ((ev & (EPOLLIN | EPOLLHUP)) && flow_wants_read(l, side) &&
            flow_read(srv, l, side, now) < 0) {
            link_abort(srv, l, side);
            return;
        }
    }
    link_progress(srv, l, now);
}

/* ---------------------------------------------------------------- proxies */

static pxy *proxy_find(proxy_server *srv, const char *name) {
    for (pxy *p = srv->proxies; p; p = p->next)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

static void proxy_fill_info(const pxy *px, proxy_info *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", px->name);
    snprintf(out->listen, sizeof out->listen, "%s",
             px->listen_actual[0] ? px->listen_actual : px->listen_cfg);
    snprintf(out->upstream, sizeof out->upstream, "%s", px->upstream);
    out->enabled = px->enabled;
    out->ntoxics = px->tox.n;
    memcpy(out->toxics, px->tox.t, (size_t)px->tox.n * sizeof px->tox.t[0]);
    out->connections_total = px->conns_total;
    out->connections_active = px->nlinks;
    out->bytes_upstream = px->bytes[UP];
    out->bytes_downstream = px->bytes[DOWN];
}

static int bind_listen(const struct sockaddr *sa, socklen_t salen, const char *display, char *err,
                       size_t errlen) {
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set(err, errlen, "cannot listen on %s: %s", display, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6) { /* "[::]" takes IPv4 too, as Go's listeners do */
        int zero = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, sa, salen) < 0 || listen(fd, SOMAXCONN) < 0) {
        err_set(err, errlen, "cannot listen on %s: %s", display, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens a listener for the address text (port 0 = any) or, when addr is NULL, for what px last
 * bound. Fills the bound address; returns the fd or -1 with *st and err set. */
static int listen_open(const char *text, const pxy *again, struct sockaddr_storage *bound,
                       socklen_t *bound_len, proxy_status *st, char *err, size_t errlen) {
    int fd;
    if (!text) {
        char disp[PROXY_ADDR_MAX];
        format_addr((const struct sockaddr *)&again->bound_addr, disp, sizeof disp);
        fd = bind_listen((const struct sockaddr *)&again->bound_addr, again->bound_len, disp, err,
                         errlen);
    } else {
        char host[PROXY_ADDR_MAX], port[8];
        if (split_hostport(text, host, sizeof host, port, sizeof port) < 0) {
            err_set(err, errlen, "invalid listen address \"%s\": want HOST:PORT", text);
            *st = PROXY_EINVAL;
            return -1;
        }
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                        *res = NULL, *pick = NULL;
        int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (rc != 0) {
            err_set(err, errlen, "invalid listen address \"%s\": %s", text, gai_strerror(rc));
            *st = PROXY_EINVAL;
            return -1;
        }
        for (struct addrinfo *a = res; a && !pick; a = a->ai_next) /* IPv4 first, as Go */
            if (a->ai_family == AF_INET) pick = a;
        if (!pick) pick = res;
        fd = bind_listen(pick->ai_addr, pick->ai_addrlen, text, err, errlen);
        freeaddrinfo(res);
    }
    if (fd < 0) {
        *st = PROXY_EADDR;
        return -1;
    }
    *bound_len = sizeof *bound;
    if (getsockname(fd, (struct sockaddr *)bound, bound_len) < 0) {
        err_set(err, errlen, "cannot listen on %s: getsockname: %s", text ? text : "?",
                strerror(errno));
        close(fd);
        *st = PROXY_EINTERNAL;
        return -1;
    }
    return fd;
}

static void proxy_set_listener(proxy_server *srv, pxy *px, int fd,
                               const struct sockaddr_storage *ss, socklen_t len) {
    px->lep = (endpoint){.kind = EP_LISTENER, .fd = fd, .proxy = px};
    memcpy(&px->bound_addr, ss, len);
    px->bound_len = len;
    px->have_bound = true;
    format_addr((const struct sockaddr *)ss, px->listen_actual, sizeof px->listen_actual);
    ep_set(srv, &px->lep, EPOLLIN);
}

static void proxy_close_links(proxy_server *srv, pxy *px) {
    while (px->links) link_close(srv, px->links, false, false);
}

static void proxy_close_listener(proxy_server *srv, pxy *px) {
    if (px->lep.fd >= 0) {
        epoll_ctl(srv->epfd, EPOLL_CTL_DEL, px->lep.fd, NULL);
        close(px->lep.fd);
        px->lep.fd = -1;
        px->lep.events = 0;
    }
}

/* Listens again (enable) on the last bound address, or on the configured one. */
static proxy_status proxy_listen(proxy_server *srv, pxy *px, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t len;
    proxy_status st = PROXY_OK;
    int fd = listen_open(px->have_bound ? NULL : px->listen_cfg, px, &ss, &len, &st, err, errlen);
    if (fd < 0) return st;
    proxy_set_listener(srv, px, fd, &ss, len);
    return PROXY_OK;
}

static void on_listener(proxy_server *srv, pxy *px) {
    int64_t now = clock_now_ns();
    for (int i = 0; i < ACCEPT_BATCH && px->lep.fd >= 0; i++) {
        int fd = accept4(px->lep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;
        }
        link_new(srv, px, fd, now);
    }
}

bool proxy_name_ok(const char *name) {
    return toxic_name_ok(name);
}

static proxy_status check_upstream(const char *up, char *err, size_t errlen) {
    char host[PROXY_ADDR_MAX], port[8];
    if (!up || strlen(up) >= PROXY_ADDR_MAX ||
        split_hostport(up, host, sizeof host, port, sizeof port) < 0 || strcmp(port, "0") == 0) {
        err_set(err, errlen, "invalid upstream address \"%s\": want HOST:PORT", up ? up : "");
        return PROXY_EINVAL;
    }
    return PROXY_OK;
}

static proxy_status do_create(proxy_server *srv, cmd *c) {
    if (!proxy_name_ok(c->name)) {
        err_set(c->err, c->errlen, "invalid proxy name '%.80s': " PROXY_NAME_RULE,
                c->name ? c->name : "");
        return PROXY_EINVAL;
    }
    if (proxy_find(srv, c->name)) {
        err_set(c->err, c->errlen, "proxy %s already exists", c->name);
        return PROXY_EEXIST;
    }
    if (!c->listen || strlen(c->listen) >= PROXY_ADDR_MAX) {
        err_set(c->err, c->errlen, "invalid listen address: want HOST:PORT");
        return PROXY_EINVAL;
    }
    proxy_status st = check_upstream(c->upstream, c->err, c->errlen);
    if (st != PROXY_OK) return st;
    char host[PROXY_ADDR_MAX], port[8];
    if (split_hostport(c->listen, host, sizeof host, port, sizeof port) < 0) {
        err_set(c->err, c->errlen, "invalid listen address \"%s\": want HOST:PORT", c->listen);
        return PROXY_EINVAL;
    }
    pxy *px = calloc(1, sizeof *px);
    if (!px) {
        err_set(c->err, c->errlen, "out of memory");
        return PROXY_EINTERNAL;
    }
    snprintf(px->name, sizeof px->name, "%s", c->name);
    snprintf(px->listen_cfg, sizeof px->listen_cfg, "%s", c->listen);
    snprintf(px->upstream, sizeof px->upstream, "%s", c->upstream);
    px->lep = (endpoint){.kind = EP_LISTENER, .fd = -1, .proxy = px};
    px->enabled = c->enabled != 0;
    upstream_resolve(px); /* a name that does not resolve yet is tried again per connection */
    if (px->enabled) {
        st = proxy_listen(srv, px, c->err, c->errlen);
        if (st != PROXY_OK) {
            free(px);
            return st;
        }
    }
    px->next = srv->proxies;
    srv->proxies = px;
    proxy_fill_info(px, c->info);
    return PROXY_OK;
}

static proxy_status do_update(proxy_server *srv, cmd *c) {
    pxy *px = proxy_find(srv, c->name ? c->name : "");
    if (!px) {
        err_set(c->err, c->errlen, "proxy %s not found", c->name ? c->name : "");
        return PROXY_ENOENT;
    }
    bool new_listen = c->listen && strcmp(c->listen, px->listen_cfg) != 0 &&
                      strcmp(c->listen, px->listen_actual) != 0;
    bool new_up = c->upstream && strcmp(c->upstream, px->upstream) != 0;
    bool enable = c->enabled < 0 ? px->enabled : c->enabled != 0;
    if (c->listen && strlen(c->listen) >= PROXY_ADDR_MAX) {
        err_set(c->err, c->errlen, "invalid listen address: want HOST:PORT");
        return PROXY_EINVAL;
    }
    if (new_listen) {
        char host[PROXY_ADDR_MAX], port[8];
        if (split_hostport(c->listen, host, sizeof host, port, sizeof port) < 0) {
            err_set(c->err, c->errlen, "invalid listen address \"%s\": want HOST:PORT", c->listen);
            return PROXY_EINVAL;
        }
    }
    if (new_up) {
        proxy_status st = check_upstream(c->upstream, c->err, c->errlen);
        if (st != PROXY_OK) return st;
    }
    /* Bind first, so that a failure leaves the proxy as it was. */
    int fd = -1;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (enable && (new_listen || px->lep.fd < 0)) {
        proxy_status st = PROXY_OK;
        if (new_listen) proxy_close_listener(srv, px); /* the same port may be asked for again */
        fd = listen_open(new_listen ? c->listen : (px->have_bound ? NULL : px->listen_cfg), px, &ss,
                         &sslen, &st, c->err, c->errlen);
        if (fd < 0) {
            if (new_listen && px->enabled) proxy_listen(srv, px, NULL, 0); /* restore */
            return st;
        }
    }
    if (new_listen || new_up || !enable) proxy_close_links(srv, px);
    if (!enable || new_listen) proxy_close_listener(srv, px);
    if (new_listen) {
        snprintf(px->listen_cfg, sizeof px->listen_cfg, "%s", c->listen);
        px->listen_actual[0] = '\0';
        px->have_bound = false;
    }
    if (new_up) {
        snprintf(px->upstream, sizeof px->upstream, "%s", c->upstream);
        px->n_up = 0;
        upstream_resolve(px);
    }
    if (fd >= 0) proxy_set_listener(srv, px, fd, &ss, sslen);
    px->enabled = enable;
    proxy_fill_info(px, c->info);
    return PROXY_OK;
}

static void proxy_destroy(proxy_server *srv, pxy *px) {
    proxy_close_links(srv, px);
    proxy_close_listener(srv, px);
    for (pxy **pp = &srv->proxies; *pp; pp = &(*pp)->next)
        if (*pp == px) {
            *pp = px->next;
            break;
        }
    free(px);
}

static int info_cmp(const void *a, const void *b) {
    return strcmp(((const proxy_info *)a)->name, ((const proxy_info *)b)->name);
}

static proxy_status do_list(proxy_server *srv, cmd *c) {
    int n = 0;
    for (pxy *p = srv->proxies; p; p = p->next) n++;
    proxy_info *arr = calloc(n ? (size_t)n : 1, sizeof *arr);
    if (!arr) return PROXY_EINTERNAL;
    int i = 0;
    for (pxy *p = srv->proxies; p; p = p->next) proxy_fill_info(p, &arr[i++]);
    qsort(arr, (size_t)n, sizeof *arr, info_cmp);
    *c->list = arr;
    *c->count = n;
    return PROXY_OK;
}

/* ---------------------------------------------------------------- toxic commands */

static proxy_status do_tox_add(proxy_server *srv, cmd *c) {
    const toxic_spec *t = c->spec;
    pxy *px = proxy_find(srv, c->name ? c->name : "");
    if (!px) {
        err_set(c->err, c->errlen, "proxy %s not found", c->name ? c->name : "");
        return PROXY_ENOENT;
    }
    if (toxic_spec_check_new(t, c->err, c->errlen) < 0) return PROXY_EINVAL;
    if (toxic_list_find(&px->tox, t->name) >= 0) {
        err_set(c->err, c->errlen, "toxic %s already exists on proxy %s", t->name, px->name);
        return PROXY_EEXIST;
    }
    if (px->tox.n >= PROXY_MAX_TOXICS) {
        err_set(c->err, c->errlen, "proxy %s has %d toxics, the most it can have", px->name,
                PROXY_MAX_TOXICS);
        return PROXY_EFULL;
    }
    int k = px->tox.n++;
    px->tox.t[k] = *t;
    int64_t now = clock_now_ns();
    for (plink *l = px->links, *next; l; l = next) {
        next = l->next;
        memset(&l->fl[1 - t->stream].tx.st[k], 0, sizeof(toxic_state));
        toxic_state_init(&l->fl[t->stream].tx.st[k], t, now, &srv->rng);
        flow_derive(l, t->stream, now);
        link_progress(srv, l, now);
    }
    return PROXY_OK;
}

/* After a toxic of direction d changed: every link derives that flow again and moves on (a
 * link may be closed and freed by link_progress, hence next read first). */
static void rederive_links(proxy_server *srv, pxy *px, int d, int64_t now) {
    for (plink *l = px->links, *next; l; l = next) {
        next = l->next;
        flow_derive(l, d, now);
        link_progress(srv, l, now);
    }
}

static proxy_status do_tox_update(proxy_server *srv, cmd *c) {
    pxy *px = proxy_find(srv, c->name ? c->name : "");
    int k = px ? toxic_list_find(&px->tox, c->toxic ? c->toxic : "") : -1;
    if (k < 0) {
        err_set(c->err, c->errlen, px ? "toxic %s not found" : "proxy %s not found",
                px ? (c->toxic ? c->toxic : "") : (c->name ? c->name : ""));
        return PROXY_ENOENT;
    }
    toxic_spec *x = &px->tox.t[k];
    if (toxic_spec_check(x->type, c->spec, c->err, c->errlen) < 0) return PROXY_EINVAL;
    toxic_spec n = *c->spec;
    memcpy(n.name, x->name, sizeof n.name);
    n.type = x->type;
    n.stream = x->stream;
    int d = x->stream;
    int64_t now = clock_now_ns();
    for (plink *l = px->links, *next; l; l = next) {
        next = l->next;
        toxic_state *s = &l->fl[d].tx.st[k];
        if (s->applies && toxic_delays(x->type)) flow_release_all(&l->fl[d], now);
        int64_t count = s->count;
        toxic_state_init(s, &n, now, &srv->rng);
        s->count = count; /* limit_data keeps counting */
    }
    *x = n;
    rederive_links(srv, px, d, now);
    return PROXY_OK;
}

static proxy_status do_tox_remove(proxy_server *srv, cmd *c) {
    pxy *px = proxy_find(srv, c->name ? c->name : "");
    int k = px ? toxic_list_find(&px->tox, c->toxic ? c->toxic : "") : -1;
    if (k < 0) return PROXY_ENOENT;
    const toxic_spec *x = &px->tox.t[k];
    int d = x->stream;
    int64_t now = clock_now_ns();
    for (plink *l = px->links; l; l = l->next) {
        if (l->fl[d].tx.st[k].applies && toxic_delays(x->type)) flow_release_all(&l->fl[d], now);
        for (int e = 0; e < 2; e++) toxic_flow_remove(&l->fl[e].tx, k, px->tox.n);
    }
    toxic_list_remove(&px->tox, k);
    rederive_links(srv, px, d, now);
    return PROXY_OK;
}

static void remove_all_toxics(proxy_server *srv, pxy *px) {
    int64_t now = clock_now_ns();
    px->tox.n = 0;
    for (plink *l = px->links, *next; l; l = next) {
        next = l->next;
        flow_derive(l, UP, now);
        flow_derive(l, DOWN, now);
        link_progress(srv, l, now);
    }
}

/* ---------------------------------------------------------------- the loop */

static void run_cmd(proxy_server *srv, cmd *c) {
    pxy *px;
    switch (c->op) {
    case CMD_CREATE: c->status = do_create(srv, c); break;
    case CMD_UPDATE: c->status = do_update(srv, c); break;
    case CMD_DELETE:
        px = proxy_find(srv, c->name ? c->name : "");
        if (px) proxy_destroy(srv, px);
        c->status = px ? PROXY_OK : PROXY_ENOENT;
        break;
    case CMD_GET:
        px = proxy_find(srv, c->name ? c->name : "");
        if (px) proxy_fill_info(px, c->info);
        c->status = px ? PROXY_OK : PROXY_ENOENT;
        break;
    case CMD_LIST: c->status = do_list(srv, c); break;
    case CMD_RESET:
        c->status = PROXY_OK;
        for (px = srv->proxies; px; px = px->next) {
            remove_all_toxics(srv, px);
            if (!px->enabled) {
                proxy_status st = proxy_listen(srv, px, NULL, 0);
                if (st == PROXY_OK)
                    px->enabled = true;
                else
                    c->status = st;
            }
        }
        break;
    case CMD_TOX_ADD: c->status = do_tox_add(srv, c); break;
    case CMD_TOX_UPDATE: c->status = do_tox_update(srv, c); break;
    case CMD_TOX_REMOVE: c->status = do_tox_remove(srv, c); break;
    case CMD_STOP:
        while (srv->proxies) proxy_destroy(srv, srv->proxies);
        srv->stopping = true;
        c->status = PROXY_OK;
        break;
    }
}

static void run_cmds(proxy_server *srv) {
    uint64_t v;
    if (read(srv->wakefd, &v, sizeof v) < 0) { /* EAGAIN: already drained */
    }
    pthread_mutex_lock(&srv->mu);
    cmd *q = srv->q_head;
    srv->q_head = srv->q_tail = NULL;
    pthread_mutex_unlock(&srv->mu);
    for (cmd *c = q; c; c = c->next) run_cmd(srv, c);
    pthread_mutex_lock(&srv->mu);
    while (q) {
        cmd *next = q->next;
        q->done = true; /* the waiter may return (and free q) as soon as mu is released */
        q = next;
    }
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

static void run_timers(proxy_server *srv) {
    uint64_t v;
    if (read(srv->timerfd, &v, sizeof v) < 0) { /* EAGAIN: spurious */
    }
    srv->armed = NEVER; /* it fired (or was re-armed and will be again below) */
    int64_t now = clock_now_ns();
    size_t budget = srv->heap_n + 16;
    while (srv->heap_n && srv->heap[0]->deadline <= now && budget-- > 0) {
        plink *l = srv->heap[0];
        heap_set(srv, l, NEVER);
        link_progress(srv, l, now);
    }
}

static void reap(proxy_server *srv) {
    while (srv->zombies) {
        plink *l = srv->zombies;
        srv->zombies = l->zombie_next;
        link_free(l);
    }
}

static void *loop_main(void *arg) {
    proxy_server *srv = arg;
    struct epoll_event evs[MAX_EVENTS];
    while (!srv->stopping) {
        int n = epoll_wait(srv->epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        bool cmds = false, timers = false;
        for (int i = 0; i < n; i++) {
            endpoint *e = evs[i].data.ptr;
            switch (e->kind) {
            case EP_SOCKET: on_socket(srv, e, evs[i].events); break;
            case EP_LISTENER: on_listener(srv, e->proxy); break;
            case EP_WAKE: cmds = true; break;
            case EP_TIMER: timers = true; break;
            }
        }
        if (timers) run_timers(srv);
        if (cmds) run_cmds(srv);
        reap(srv);
        timer_arm(srv);
    }
    return NULL;
}

/* ---------------------------------------------------------------- public API */

proxy_server *proxy_server_start(char *err, size_t errlen) {
    proxy_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        err_set(err, errlen, "proxy: out of memory");
        return NULL;
    }
    srv->epfd = srv->wakefd = srv->timerfd = -1;
    srv->armed = NEVER;
    toxic_rng_seed(&srv->rng);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    srv->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv->epfd < 0 || srv->wakefd < 0 || srv->timerfd < 0) {
        err_set(err, errlen, "proxy: cannot create the event loop: %s", strerror(errno));
        goto fail;
    }
    srv->wake_ep = (endpoint){.kind = EP_WAKE, .fd = srv->wakefd};
    srv->timer_ep = (endpoint){.kind = EP_TIMER, .fd = srv->timerfd};
    ep_set(srv, &srv->wake_ep, EPOLLIN);
    ep_set(srv, &srv->timer_ep, EPOLLIN);
    if (!srv->wake_ep.events || !srv->timer_ep.events) {
        err_set(err, errlen, "proxy: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    int rc = pthread_create(&srv->thread, NULL, loop_main, srv);
    if (rc != 0) {
        err_set(err, errlen, "proxy: cannot start the loop thread: %s", strerror(rc));
        pthread_mutex_destroy(&srv->mu);
        pthread_cond_destroy(&srv->cv);
        goto fail;
    }
    return srv;
fail:
    if (srv->epfd >= 0) close(srv->epfd);
    if (srv->wakefd >= 0) close(srv->wakefd);
    if (srv->timerfd >= 0) close(srv->timerfd);
    free(srv);
    return NULL;
}

static proxy_status post(proxy_server *srv, cmd *c) {
    if (!srv) return PROXY_EINVAL;
    c->done = false;
    c->next = NULL;
    pthread_mutex_lock(&srv->mu);
    if (srv->q_tail)
        srv->q_tail->next = c;
    else
        srv->q_head = c;
    srv->q_tail = c;
    pthread_mutex_unlock(&srv->mu);
    uint64_t one = 1;
    while (write(srv->wakefd, &one, sizeof one) < 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&srv->mu);
    while (!c->done) pthread_cond_wait(&srv->cv, &srv->mu);
    pthread_mutex_unlock(&srv->mu);
    return c->status;
}

void proxy_server_stop(proxy_server *srv) {
    if (!srv) return;
    cmd c = {.op = CMD_STOP};
    post(srv, &c);
    pthread_join(srv->thread, NULL);
    reap(srv);
    free(srv->heap);
    close(srv->epfd);
    close(srv->wakefd);
    close(srv->timerfd);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}

/* create and update: the same command but for its op (update: enabled -1 leaves it as is) */
static proxy_status post_proxy(proxy_server *srv, cmd_op op, const char *name, const char *listen,
                               const char *upstream, int enabled, proxy_info *out, char *err,
                               size_t errlen) {
    cmd c = {.op = op,
             .name = name,
             .listen = listen,
             .upstream = upstream,
             .enabled = enabled,
             .info = out,
             .err = err,
             .errlen = errlen};
    return post(srv, &c);
}

proxy_status proxy_create(proxy_server *srv, const char *name, const char *listen,
                          const char *upstream, bool enabled, proxy_info *out, char *err,
                          size_t errlen) {
    return post_proxy(srv, CMD_CREATE, name, listen, upstream, enabled, out, err, errlen);
}

proxy_status proxy_update(proxy_server *srv, const char *name, const char *listen,
                          const char *upstream, int enabled, proxy_info *out, char *err,
                          size_t errlen) {
    return post_proxy(srv, CMD_UPDATE, name, listen, upstream, enabled, out, err, errlen);
}

proxy_status proxy_delete(proxy_server *srv, const char *name) {
    cmd c = {.op = CMD_DELETE, .name = name};
    return post(srv, &c);
}

proxy_status proxy_get(proxy_server *srv, const char *name, proxy_info *out) {
    cmd c = {.op = CMD_GET, .name = name, .info = out};
    return post(srv, &c);
}

proxy_status proxy_list(proxy_server *srv, proxy_info **out, int *count) {
    if (!out || !count) return PROXY_EINVAL;
    *out = NULL;
    *count = 0;
    cmd c = {.op = CMD_LIST, .list = out, .count = count};
    return post(srv, &c);
}

proxy_status proxy_reset(proxy_server *srv) {
    cmd c = {.op = CMD_RESET};
    return post(srv, &c);
}

/* add and update: a toxic spec for the proxy (update: the toxic named name) */
static proxy_status post_toxic(proxy_server *srv, cmd_op op, const char *proxy, const char *name,
                               const toxic_spec *t, char *err, size_t errlen) {
    if (!t) return PROXY_EINVAL;
    cmd c = {.op = op, .name = proxy, .toxic = name, .spec = t, .err = err, .errlen = errlen};
    return post(srv, &c);
}

proxy_status proxy_toxic_add(proxy_server *srv, const char *proxy, const toxic_spec *t, char *err,
                             size_t errlen) {
    return post_toxic(srv, CMD_TOX_ADD, proxy, NULL, t, err, errlen);
}

proxy_status proxy_toxic_update(proxy_server *srv, const char *proxy, const char *name,
                                const toxic_spec *t, char *err, size_t errlen) {
    return post_toxic(srv, CMD_TOX_UPDATE, proxy, name, t, err, errlen);
}

proxy_status proxy_toxic_remove(proxy_server *srv, const char *proxy, const char *name) {
    cmd c = {.op = CMD_TOX_REMOVE, .name = proxy, .toxic = name};
    return post(srv, &c);
}
