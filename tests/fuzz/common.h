/* common.h — what the libFuzzer harnesses of tests/fuzz/ share: a private scratch directory for
 * the parsers that read files (created on first use, removed at exit), writing an input there,
 * /dev/null as a FILE for the report writers, and splitting an input into parts at a separator
 * line. Nothing here parses anything of brink's: the harnesses call the real parsers. */
#ifndef BRINK_FUZZ_COMMON_H
#define BRINK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The scratch directory (absolute, no trailing slash); aborts when it cannot be made. */
const char *fuzz_dir(void);
/* Writes len bytes to the file fuzz_dir()/name (replacing it), its path into out. Aborts on
 * failure. */
void fuzz_write(const char *name, const uint8_t *data, size_t len, char *out, size_t outlen);
/* A FILE open on /dev/null for writing (process-wide). */
FILE *fuzz_devnull(void);
/* stdout goes to /dev/null from now on (libFuzzer reports on stderr). */
void fuzz_quiet_stdout(void);

/* FUZZ_SEP: the separator line between the parts of a multi-part input. */
#define FUZZ_SEP "\n%%\n"
/* Splits data at FUZZ_SEP into at most max parts, each a malloc'd NUL-terminated copy (free
 * them with fuzz_free_parts); returns the count. */
int fuzz_split(const uint8_t *data, size_t len, char **parts, size_t *lens, int max);
void fuzz_free_parts(char **parts, int n);

/* A transport (http/transport.h) for the reach files: its reads return the bytes given to
 * fuzz_feed_set as the server's, each the next cuts[i] + 1 bytes (cycling; everything at once
 * without cuts), then end-of-file; its writes go nowhere; its handshake succeeds. */
#include "http/transport.h"
extern const transport fuzz_feed_transport;
void fuzz_feed_set(const uint8_t *data, size_t len, const uint8_t *cuts, size_t ncuts);
/* Bytes not read yet. */
size_t fuzz_feed_left(void);

#endif
