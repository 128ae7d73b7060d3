/* exitcode.h — brink's exit statuses, one table for every command (k6's convention for
 * thresholds). Documented once, in docs/exit-codes.md; main.c is the only place that exits. */
#ifndef BRINK_EXITCODE_H
#define BRINK_EXITCODE_H

enum {
    EXIT_OK = 0,            /* the run completed; every threshold green or orange */
    EXIT_FAILURE_ = 1,      /* compare: a regression; otherwise brink itself failed (a result or
                             * report file that could not be written, out of memory) */
    EXIT_USAGE = 2,         /* bad command line or configuration file: nothing was run */
    EXIT_UNREACHABLE = 3,   /* the target never answered (connection refused, DNS, TLS), the
                             * embedded stack would not start, or a fault could not be applied */
    EXIT_THRESHOLDS = 99,   /* the run completed and at least one threshold is red */
    EXIT_INTERRUPTED = 130, /* SIGINT or SIGTERM: a partial result was still written */
};

#endif
