/* probe_cmd.h — `brink probe SPEC`: reads a probe (probe.h) once or a few times and prints the
 * numbers, to check a probe before a scenario samples it. */
#ifndef BRINK_PROBECMD_H
#define BRINK_PROBECMD_H

#include <stddef.h>

/* argv[0] = "probe". Returns the exit status (0, 2 usage, 3 the probe failed); a one-line reason
 * in err. */
int probe_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
