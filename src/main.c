/* main.c — brink's entry point: subcommand dispatch. The only place that prints usage errors and
 * exits; every command returns an exit status and, on failure, a one-line reason. */
#include <stdio.h>
#include <string.h>

#include "core/version.h"

#include "fault/proxycmd.h"
#include "load/loadcmd.h"
#include "stack/stackcmd.h"

static void usage(FILE *out) {
    fprintf(out,
            "brink %s — find a service's breaking points and prove it survives failures\n"
            "\n"
            "Usage: brink COMMAND [options]\n"
            "\n"
            "Commands:\n"
            "  load      HTTP load at a fixed concurrency or rate, with honest latency\n"
            "  stack     start, check, break and stop the embedded PostgreSQL + Redis stack\n"
            "  proxy     fault-injecting TCP proxy with a Toxiproxy-compatible API\n"
            "  help      this help (brink COMMAND --help for a command's options)\n"
            "  version   print the version\n",
            BRINK_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("brink %s\n", BRINK_VERSION);
        return EXIT_OK;
    }
    char err[512] = "";
    int rc;
    if (!strcmp(cmd, "load")) {
        rc = loadcmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "stack")) {
        rc = stackcmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "proxy")) {
        rc = proxycmd_main(argc - 1, argv + 1, err, sizeof err);
    } else {
        fprintf(stderr, "brink: unknown command '%s' (see brink help)\n", cmd);
        return EXIT_USAGE;
    }
    if (rc != EXIT_OK && err[0]) fprintf(stderr, "brink %s: %s\n", cmd, err);
    return rc;
}
