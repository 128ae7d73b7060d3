/* load_cmd.h — `brink load`: command-line front end of the load engine. */
#ifndef BRINK_LOADCMD_H
#define BRINK_LOADCMD_H

#include <stddef.h>

/* Runs `brink load` with argv[0] = "load". Returns the exit status; for EXIT_USAGE (and other
 * failures before any traffic) a one-line reason is in err. */
int load_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
