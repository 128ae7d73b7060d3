/* stopsig.h — SIGINT and SIGTERM as a request to stop: while a command sends traffic (load,
 * webhook, race, redis-failure, db-restart), either signal only sets a flag that the run polls,
 * so the run ends early with a partial result; afterwards the previous handlers are back. */
#ifndef BRINK_STOPSIG_H
#define BRINK_STOPSIG_H

#include <signal.h>

typedef struct stopsig {
    struct sigaction old_int, old_term;
} stopsig;

/* Clears the flag and catches SIGINT and SIGTERM (each sets it); returns the flag to poll. */
volatile sig_atomic_t *stopsig_catch(stopsig *s);
/* Puts back the handlers stopsig_catch replaced; the flag keeps its value. */
void stopsig_release(const stopsig *s);

#endif
