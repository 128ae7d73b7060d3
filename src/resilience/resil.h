/* resil.h — the resilience tests: `brink redis-failure MODE` and `brink db-restart MODE`. Each
 * runs a constant-rate signed-webhook load against the embedded stack's service (or, with -f
 * brink.yaml, a user's own stack: resil_user.c), breaks Redis or PostgreSQL between a baseline
 * and a recovery phase, measures errors, latency, backlog, recovery
 * and resources, audits the database for lost and duplicated webhooks, and judges the numbers
 * against the thresholds. See docs/resilience.md. */
#ifndef BRINK_RESIL_H
#define BRINK_RESIL_H

#include <stddef.h>

/* argv[0] = "redis-failure" / "db-restart". Return the exit status: 0 nothing red, 99 something
 * red, 2 bad usage, 3 the stack or the service failed (a one-line reason in err), 130
 * interrupted. */
int resil_redis_main(int argc, char **argv, char *err, size_t errlen);
int resil_db_main(int argc, char **argv, char *err, size_t errlen);
/* The numbers a resilience document puts in .stats: the metrics a --threshold may name. */
const char *const *resil_report_stat_names(int *n);

#endif
