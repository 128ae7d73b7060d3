/* race_cmd.h — `brink race`: the command-line front end of the vendor race (race/race.h). */
#ifndef BRINK_RACECMD_H
#define BRINK_RACECMD_H

#include <stddef.h>

/* Runs `brink race` with argv[0] = "race". Returns the exit status (0 no red threshold, 99 some
 * red, 2 usage, 3 the stack or the target could not be started or reached, 130 interrupted);
 * for 2 and 3 a one-line reason is in err. */
int race_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
