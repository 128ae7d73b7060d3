/* race_release.c — the vendor race's synchronized release (see race_release.h).
 *
 * A race is four steps:
 *   1. prepare   every vendor's connection is open (reopened if the server closed it while it
 *                was idle) and carries its request minus the last byte;
 *   2. deliver   wait until every prefix has left — the socket holds no untransmitted byte
 *                (SIOCOUTQNSD = 0; on loopback the bytes are then in the server's socket) — then
 *                a short settle, so that the server has read and parsed the prefixes and waits
 *                for one byte per request (waiting for the ACKs instead would cost up to 40 ms
 *                per race: a server that waits for the rest of a request delays its ACK);
 *   3. release   the last bytes go out together, and each write's return is timestamped;
 *   4. collect   one thread polls every connection and parses the answers as they come.
 * The requests therefore become complete at the server within the release's spread, a few
 * microseconds per vendor on loopback — a race window that a shell's concurrent curls (spread
 * over milliseconds) never open.
 *
 * Release "loop": the calling thread writes one byte per connection in a tight loop; the spread
 * is V times the cost of a one-byte send. Release "barrier": V threads wait on a pthread
 * barrier with the caller and each writes its own byte; the spread is how long the kernel takes
 * to wake V threads, which on a machine with fewer cores than vendors is much longer — the
 * caller spins on an atomic counter until every thread has written. bench and docs/race.md
 * compare the two; the measured spread is in every result. */
#include "race/race_release.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"

#define DELIVER_MAX_NS (200 * NS_PER_MS) /* prefixes not acknowledged by then: release anyway */

typedef struct vendor_thread {
    struct race_release *r;
    int idx;
    pthread_t tid;
} vendor_thread;

struct race_release {
    int V;
    race_release_mode mode;
    int64_t settle_ns;
    client **conns;
    bool *active; /* this race: the connection carries its prefix */
    /* the current race, for the barrier threads */
    char *const *reqs;
    const size_t *lens;
    race_shot *shots;
    pthread_barrier_t bar;
    bool bar_init;
    vendor_thread *threads;
    int nthreads;
    atomic_int written;
    atomic_bool quit;
    pthread_mutex_t mu; /* the threads start using the barrier once every one of them exists */
    pthread_cond_t cv;
    bool go;
    struct pollfd *pfds;
    int *pidx;
    bool rt_denied; /* no permission for SCHED_FIFO */
    int old_policy;
    struct sched_param old_param;
};

const char *race_release_name(race_release_mode m) {
    return m == RACE_RELEASE_BARRIER ? "barrier" : "loop";
}

int race_release_parse(const char *s, race_release_mode *m) {
    if (!strcmp(s, "loop"))
        *m = RACE_RELEASE_LOOP;
    else if (!strcmp(s, "barrier"))
        *m = RACE_RELEASE_BARRIER;
    else
        return -1;
    return 0;
}

/* Writes vendor i's last byte and timestamps it. */
static void release_one(race_release *r, int i) {
    race_shot *s = &r->shots[i];
    const char *last = r->reqs[i] + r->lens[i] - 1;
    s->release_ns = clock_now_ns();
    ssize_t n = client_write_once(r->conns[i], last, 1);
    int64_t now = clock_now_ns();
    if (n == 1) {
        s->sent_ns = now;
        return;
    }
    /* the send buffer is full or the connection broke: finish the write the slow way */
    client_err why = CLIENT_OK;
    if (client_write_all(r->conns[i], last, 1, now + NS_PER_S, &why, s->detail, sizeof s->detail) ==
        0) {
        s->sent_ns = clock_now_ns();
        return;
    }
    s->err = why;
    s->done_ns = clock_now_ns();
    r->active[i] = false;
}

static void *vendor_main(void *arg) {
    vendor_thread *t = arg;
    race_release *r = t->r;
    struct sched_param sp = {.sched_priority = 1};
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp); /* when allowed; see realtime_enter */
    pthread_mutex_lock(&r->mu);
    while (!r->go && !atomic_load(&r->quit)) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    if (atomic_load(&r->quit)) return NULL;
    for (;;) {
        pthread_barrier_wait(&r->bar);
        if (atomic_load(&r->quit)) break;
        if (r->active[t->idx]) release_one(r, t->idx);
        atomic_fetch_add(&r->written, 1);
    }
    return NULL;
}

/* V connections and the set-up's need more descriptors than the usual soft limit of 1024 when
 * V approaches it: raise the soft limit towards the hard one. */
static void raise_fd_limit(int vendors) {
    struct rlimit rl;
    rlim_t want = (rlim_t)vendors + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int race_release_new(const char *base_url, int vendors, race_release_mode mode, bool insecure,
                     int64_t settle_ns, race_release **out, char *err, size_t errlen) {
    raise_fd_limit(vendors);
    race_release *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->V = vendors;
    r->mode = mode;
    r->settle_ns = settle_ns;
    r->conns = calloc((size_t)vendors, sizeof *r->conns);
    r->active = calloc((size_t)vendors, sizeof *r->active);
    r->pfds = calloc((size_t)vendors, sizeof *r->pfds);
    r->pidx = calloc((size_t)vendors, sizeof *r->pidx);
    if (!r->conns || !r->active || !r->pfds || !r->pidx) {
        race_release_free(r);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < vendors; i++) {
        if (client_new(base_url, insecure, &r->conns[i], err, errlen) < 0) {
            race_release_free(r);
            return -1;
        }
    }
    if (mode == RACE_RELEASE_BARRIER) {
        if (pthread_barrier_init(&r->bar, NULL, (unsigned)vendors + 1) != 0) {
            race_release_free(r);
            err_set(err, errlen, "cannot create a barrier for %d threads", vendors + 1);
            return -1;
        }
        r->bar_init = true;
        r->threads = calloc((size_t)vendors, sizeof *r->threads);
        if (!r->threads) {
            race_release_free(r);
            err_set(err, errlen, "out of memory");
            return -1;
        }
        for (int i = 0; i < vendors; i++) {
            r->threads[i] = (vendor_thread){.r = r, .idx = i};
            pthread_attr_t a;
            pthread_attr_init(&a);
            pthread_attr_setstacksize(&a, 256 * 1024);
            int rc = pthread_create(&r->threads[i].tid, &a, vendor_main, &r->threads[i]);
            pthread_attr_destroy(&a);
            if (rc != 0) {
                err_set(err, errlen, "cannot start vendor thread %d of %d: %s", i + 1, vendors,
                        strerror(rc));
                r->nthreads = i;
                race_release_free(r);
                return -1;
            }
        }
        r->nthreads = vendors;
        pthread_mutex_lock(&r->mu);
        r->go = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    *out = r;
    return 0;
}

void race_release_free(race_release *r) {
    if (!r) return;
    if (r->bar_init) {
        pthread_mutex_lock(&r->mu);
        bool started = r->go;
        atomic_store(&r->quit, true);
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (started) pthread_barrier_wait(&r->bar); /* the quit round: every thread is in it */
        for (int i = 0; i < r->nthreads; i++) pthread_join(r->threads[i].tid, NULL);
        pthread_barrier_destroy(&r->bar);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->threads);
    if (r->conns)
        for (int i = 0; i < r->V; i++) client_free(r->conns[i]);
    free(r->conns);
    free(r->active);
    free(r->pfds);
    free(r->pidx);
    free(r);
}

/* The release loop runs at a real-time priority when the process may (root, CAP_SYS_NICE): the
 * server's threads, woken by the first bytes, would otherwise preempt it on a small machine and
 * stretch the spread. Only for the loop itself — V one-byte sends — never while it waits. */
static bool realtime_enter(race_release *r) {
    if (r->rt_denied) return false;
    struct sched_param sp = {.sched_priority = 1};
    if (pthread_getschedparam(pthread_self(), &r->old_policy, &r->old_param) != 0 ||
        pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0) {
        r->rt_denied = true;
        return false;
    }
    return true;
}

static void realtime_leave(race_release *r) {
    pthread_setschedparam(pthread_self(), r->old_policy, &r->old_param);
}

/* Step 1: connection open, prefix written (one retry on a fresh connection). */
static void prepare(race_release *r, int i, int64_t deadline) {
    race_shot *s = &r->shots[i];
    client *c = r->conns[i];
    for (int attempt = 0; attempt < 2; attempt++) {
        client_err why = CLIENT_OK;
        if (client_connect(c, deadline, &why, s->detail, sizeof s->detail) < 0) {
            s->err = why;
            break;
        }
        bool reused = !attempt;
        client_response_begin(c);
        if (client_write_all(c, r->reqs[i], r->lens[i] - 1, deadline, &why, s->detail,
                             sizeof s->detail) == 0) {
            s->err = CLIENT_OK;
            s->detail[0] = '\0';
            r->active[i] = true;
            return;
        }
        s->err = why;
        if (!reused || (why != CLIENT_ERR_CLOSED && why != CLIENT_ERR_RESET)) break;
    }
    s->done_ns = clock_now_ns();
}

/* Step 2: every prefix reached the server (bounded), then the settle pause. */
static int64_t deliver(race_release *r) {
    int64_t t0 = clock_now_ns();
    for (;;) {
        bool all = true;
        for (int i = 0; i < r->V && all; i++)
            if (r->active[i] && client_unsent(r->conns[i]) > 0) all = false;
        if (all || clock_now_ns() - t0 > DELIVER_MAX_NS) break;
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    int64_t waited = clock_now_ns() - t0;
    if (r->settle_ns > 0) {
        struct timespec ts = {(time_t)(r->settle_ns / NS_PER_S), (long)(r->settle_ns % NS_PER_S)};
        nanosleep(&ts, NULL);
    }
    return waited;
}

/* Step 4: answers from every connection whose last byte went out. */
static void collect(race_release *r, int64_t deadline) {
    int pending = 0;
    for (int i = 0; i < r->V; i++)
        if (r->active[i]) pending++;
    while (pending > 0) {
        int n = 0;
        for (int i = 0; i < r->V; i++) {
            if (!r->active[i]) continue;
            r->pfds[n] = (struct pollfd){.fd = client_fd(r->conns[i]), .events = POLLIN};
            r->pidx[n++] = i;
        }
        int64_t left = deadline - clock_now_ns();
        int rc = left > 0 ? poll(r->pfds, (nfds_t)n, (int)((left + NS_PER_MS - 1) / NS_PER_MS)) : 0;
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0 && clock_now_ns() >= deadline) break;
        for (int k = 0; k < n; k++) {
            if (!r->pfds[k].revents) continue;
            int i = r->pidx[k];
            race_shot *s = &r->shots[i];
            client_response resp;
            client_err why = CLIENT_OK;
            int st = client_response_step(r->conns[i], &resp, &why, s->detail, sizeof s->detail);
            if (st == 0) continue;
            s->done_ns = clock_now_ns();
            if (st == 1) {
                s->status = resp.status;
                s->body = resp.body;
                s->body_len = resp.body_len;
            } else {
                s->err = why;
            }
            r->active[i] = false;
            pending--;
        }
    }
    int64_t now = clock_now_ns();
    for (int i = 0; i < r->V; i++) {
        if (!r->active[i]) continue;
        race_shot *s = &r->shots[i];
        s->err = CLIENT_ERR_TIMEOUT;
        snprintf(s->detail, sizeof s->detail, "no complete answer in time");
        s->done_ns = now;
        client_close(r->conns[i]);
        r->active[i] = false;
    }
}

void race_release_fire(race_release *r, char *const *reqs, const size_t *lens, int first,
                       int64_t timeout_ns, race_shot *shots, race_times *t) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    memset(t, 0, sizeof *t);
    r->reqs = reqs;
    r->lens = lens;
    r->shots = shots;
    for (int i = 0; i < r->V; i++) {
        shots[i] = (race_shot){0};
        r->active[i] = false;
        prepare(r, i, deadline);
    }
    t->prefix_wait_ns = deliver(r);

    if (r->mode == RACE_RELEASE_BARRIER) {
        atomic_store(&r->written, 0);
        pthread_barrier_wait(&r->bar);
        while (atomic_load(&r->written) < r->V) sched_yield();
    } else {
        bool rt = realtime_enter(r);
        for (int k = 0; k < r->V; k++) {
            int i = (first + k) % r->V;
            if (r->active[i]) release_one(r, i);
        }
        if (rt) realtime_leave(r);
    }
    for (int i = 0; i < r->V; i++) {
        if (!shots[i].sent_ns) continue;
        t->sent++;
        if (!t->release_ns || shots[i].release_ns < t->release_ns)
            t->release_ns = shots[i].release_ns;
        if (!t->first_sent_ns || shots[i].sent_ns < t->first_sent_ns)
            t->first_sent_ns = shots[i].sent_ns;
        if (shots[i].sent_ns > t->last_sent_ns) t->last_sent_ns = shots[i].sent_ns;
    }
    collect(r, deadline);
    for (int i = 0; i < r->V; i++)
        if (shots[i].done_ns > t->last_done_ns) t->last_done_ns = shots[i].done_ns;
}
