/* proxy_cmd.h — `brink proxy`: brink's fault proxy as a standalone, Toxiproxy-compatible server. */
#ifndef BRINK_PROXYCMD_H
#define BRINK_PROXYCMD_H

#include <stddef.h>

/* Runs `brink proxy` with argv[0] = "proxy": starts the proxies and the control API, prints one
 * line per proxy and the API address, serves until SIGINT or SIGTERM. Returns the exit status
 * (EXIT_OK after a signal; EXIT_USAGE with a one-line reason in err for bad options or a bad
 * config file; EXIT_FAILURE_ when an address cannot be listened on). */
int proxy_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
