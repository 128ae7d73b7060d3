/* seams.c — stand-ins for the two functions of the embedded stack (src/stack/stack.c) that the
 * dependency hooks (src/stack/deps.c) call when they run a fault: compiling stack.c would bring
 * the whole embedded stack (PostgreSQL, Redis, PgBouncer, proxies, reaper) into the fuzz build
 * for nothing, since no parser calls them. Reaching one from a harness is a bug: it aborts. */
#include <stdio.h>
#include <stdlib.h>

#include "stack/stack.h"

const char *stack_fault_name(stack_fault_op op) {
    fprintf(stderr, "fuzz: stack_fault_name(%d) reached while parsing\n", (int)op);
    abort();
}

int stack_ready_check(const char *url, int64_t timeout_ns, char *err, size_t errlen) {
    fprintf(stderr, "fuzz: stack_ready_check(%s) reached while parsing\n", url);
    abort();
}
