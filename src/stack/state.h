/* state.h — the state file of a stack (DIR/stack.json, 0600): where everything is, for
 * `brink stack status|down|fault`, for scripts (jq) and for other brink commands. Every key is
 * documented in docs/stack.md. */
#ifndef BRINK_STACK_STATE_H
#define BRINK_STACK_STATE_H

#include <jansson.h>
#include <stddef.h>

#include "stack/stack.h"

#define STACK_STATE_SCHEMA "brink.stack/1"
#define STACK_STATE_FILE   "stack.json"

/* The document for s (new reference): schema, dir, profile, keep, postgres, redis, proxies,
 * service, processes. The supervisor adds its own keys. */
json_t *stack_state_json(const stack *s, bool keep);
/* Writes doc to path atomically (a 0600 temporary file renamed over path). */
int stack_state_write(json_t *doc, const char *path, char *err, size_t errlen);
/* Reads and checks a state file (new reference), or NULL with a reason. */
json_t *stack_state_read(const char *path, char *err, size_t errlen);
/* A string member of a nested object ("postgres.url"), or NULL. */
const char *stack_state_str(json_t *doc, const char *dotted);
/* An integer member ("supervisor.pid"), or 0. */
long long stack_state_int(json_t *doc, const char *dotted);

#endif
