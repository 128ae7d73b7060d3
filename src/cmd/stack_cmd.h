/* stack_cmd.h — `brink stack up|down|status|fault`: the embedded stack from the command line. */
#ifndef BRINK_STACKCMD_H
#define BRINK_STACKCMD_H

#include <stddef.h>

/* Runs `brink stack ...` with argv[0] = "stack". Returns the exit status (0 done, 2 bad usage,
 * 3 the stack could not be started / is not healthy / could not be stopped); a one-line reason
 * is in err. */
int stack_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
