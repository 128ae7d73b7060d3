/* fmt.h — decimal integers written by hand into a caller's buffer: no snprintf, no locale, no
 * allocation, no NUL. For the engine's hot path, where request templates ({{seq}}, {{now_ms}},
 * ...) and webhook signatures (timestamps) put numbers into every request. */
#ifndef BRINK_FMT_H
#define BRINK_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_INT_MAX 20 /* the longest output: UINT64_MAX, or INT64_MIN with its sign */

/* Writes v in decimal at out (FMT_INT_MAX bytes suffice); returns the length, 1..20. */
size_t fmt_u64(char *out, uint64_t v);
/* The same for a signed value, with a leading '-' when negative. */
size_t fmt_i64(char *out, int64_t v);

#endif
