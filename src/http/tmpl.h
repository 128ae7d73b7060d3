/* tmpl.h — request templates. A text with placeholders is compiled once into literal and
 * placeholder segments; rendering writes into a caller-provided buffer of tmpl_max_len() bytes
 * and allocates nothing. Placeholders:
 *   {{seq}}        request sequence number, unique across the run (decimal)
 *   {{uuid}}       a random v4 UUID
 *   {{rand:A-B}}   a random integer in [A, B] (A, B decimal, may be negative: {{rand:-5-5}})
 *   {{now_s}}      wall-clock Unix time in seconds at render time
 *   {{now_ms}}     wall-clock Unix time in milliseconds
 *   {{run}}        an id of this run: TMPL_RUN_LEN hex digits, random per run, the same in every
 *                  request (ids that do not repeat between runs against the same database)
 *   {{conn}}       connection index (0-based, global across threads)
 *   {{thread}}     thread index (0-based)
 *   {{order}}      with an event lifecycle (load/lifecycle.h): the order this event belongs to;
 *                  without one, the same as {{seq}}
 *   {{event}}      ... the event's type (at most TMPL_EVENT_MAX bytes), e.g. order.paid
 *   {{version}}    ... its place in the order's lifecycle, 1-based (the first event is 1)
 *   {{NAME}}       with tmpl_compile_vars: the value of variable NAME (a scenario's capture, at
 *                  most TMPL_VAR_MAX bytes), given per render in tmpl_vars.var
 * Anything else between {{ and }} is an error at compile time. A '{{' without a closing '}}' is
 * an error too. There is no escaping: text without '{{' is literal. */
#ifndef BRINK_TMPL_H
#define BRINK_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rng.h"

typedef struct tmpl tmpl;

#define TMPL_EVENT_MAX 47
#define TMPL_RUN_LEN   12
#define TMPL_VAR_MAX   256 /* longest value of a variable */
#define TMPL_VARS_MAX  16  /* most variables a template can know */

typedef struct tmpl_vars {
    uint64_t seq;
    uint64_t order;    /* {{order}} */
    uint32_t version;  /* {{version}} */
    const char *event; /* {{event}}: event_len bytes, at most TMPL_EVENT_MAX */
    size_t event_len;
    uint32_t conn;
    uint32_t thread;
    int64_t now_wall_ns; /* CLOCK_REALTIME in ns; read by the caller only if tmpl_needs_time() */
    rng *rng;
    const char *run; /* {{run}}: TMPL_RUN_LEN bytes */
    /* with tmpl_compile_vars: variable i's value is var[i * TMPL_VAR_MAX ..] of var_len[i]
     * bytes (at most TMPL_VAR_MAX) */
    const char *var;
    const uint16_t *var_len;
} tmpl_vars;

/* Compiles text[0..len). On error returns NULL and writes a one-line message naming the bad
 * placeholder into err (e.g. "unknown placeholder {{sqe}}"). */
tmpl *tmpl_compile(const char *text, size_t len, char *err, size_t errlen);
/* The same, knowing variables: {{names[i]}} renders variable i (nnames <= TMPL_VARS_MAX; a name
 * may not be one of the built-in placeholders). */
tmpl *tmpl_compile_vars(const char *text, size_t len, const char *const *names, int nnames,
                        char *err, size_t errlen);
/* True when the template uses variable i. */
bool tmpl_uses_var(const tmpl *t, int i);
/* True when name is a built-in placeholder ("seq", "uuid", "rand", "now_s", ...). */
bool tmpl_is_builtin(const char *name);
void tmpl_free(tmpl *t);
/* Upper bound of a rendering's length in bytes. */
size_t tmpl_max_len(const tmpl *t);
/* True when the template has no placeholders (render once, reuse). */
bool tmpl_is_static(const tmpl *t);
/* True when the template uses {{now_s}} or {{now_ms}}. */
bool tmpl_needs_time(const tmpl *t);
/* True when the template uses {{event}} or {{version}} (they need an event lifecycle). */
bool tmpl_needs_event(const tmpl *t);
/* Renders into out (at least tmpl_max_len(t) bytes); returns the length written. No NUL. */
size_t tmpl_render(const tmpl *t, const tmpl_vars *v, char *out);

#endif
