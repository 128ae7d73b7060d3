/* worker.h — worker threads: Redis stream (consumer group) → PostgreSQL orders, in batches, and
 * the PostgreSQL inbox → orders. */
#ifndef DISPATCHD_WORKER_H
#define DISPATCHD_WORKER_H

#include "config.h"

#include <stddef.h>

int worker_start(const dcfg *c, char *err, size_t errlen);
/* Asks the workers to stop, waits for them: each finishes (stores and acknowledges) the batch it
 * holds. */
void worker_stop(void);

#endif
