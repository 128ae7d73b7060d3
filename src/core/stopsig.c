/* stopsig.c — one flag for the stop request of SIGINT and SIGTERM (see stopsig.h). The handler
 * only stores to a volatile sig_atomic_t: async-signal-safe. */
#include "core/stopsig.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

volatile sig_atomic_t *stopsig_catch(stopsig *s) {
    stop_flag = 0;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
    return &stop_flag;
}

void stopsig_release(const stopsig *s) {
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
}
