/* main.c — brink's entry point: subcommand dispatch. The only place that prints usage errors and
 * exits; every command returns an exit status and, on failure, a one-line reason. */
#include <stdio.h>
#include <string.h>

#include "core/version.h"

#include "fault/proxy_cmd.h"
#include "core/exitcode.h"
#include "load/load_cmd.h"
#include "probe/probe_cmd.h"
#include "report/merge.h"
#include "report/report_cmd.h"
#include "resilience/resil.h"
#include "race/race_cmd.h"
#include "webhook/webhook.h"
#include "stack/stack_cmd.h"
#include "suite/suite_cmd.h"
#include "verdict/threshold.h"

static void usage(FILE *out) {
    fprintf(out,
            "brink %s — find a service's breaking points and prove it survives failures\n"
            "\n"
            "Usage: brink COMMAND [options]\n"
            "\n"
            "Commands:\n"
            "  load      HTTP load at a fixed concurrency or rate, with honest latency\n"
            "  webhook   signed webhooks at light|moderate|heavy rates, judged; stress: capacity\n"
            "  capacity  find the breaking point: the highest sustainable webhook rate\n"
            "  race      vendors race to claim each order: exactly one must win\n"
            "  suite     quick|full|stress: the tests in a row, with summary, JUnit and HTML\n"
            "  stack     start, check, break and stop the embedded PostgreSQL + Redis stack\n"
            "  proxy     fault-injecting TCP proxy with a Toxiproxy-compatible API\n"
            "  redis-failure  break Redis under webhook load: errors, recovery, backlog, loss\n"
            "  db-restart     restart PostgreSQL under load: recovery, pool, loss, integrity\n"
            "  probe     read a backlog probe (Redis, SQL, HTTP JSON/Prometheus) once\n"
            "  report    terminal, HTML and JUnit reports from result documents (--json files)\n"
            "  compare   before/after of result documents: exit 1 on a regression\n"
            "  merge     one result document from the segments of a scaled-out test\n"
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
    /* every verdict table in words instead of emoji when stdout is not a terminal or NO_COLOR
     * is set (CI logs, pipes, grep) */
    threshold_set_plain(threshold_want_plain(stdout));
    char err[512] = "";
    int rc;
    if (!strcmp(cmd, "load")) {
        rc = load_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "webhook")) {
        rc = webhook_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "capacity")) {
        rc = webhook_capacity_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "race")) {
        rc = race_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "suite")) {
        rc = suite_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "stack")) {
        rc = stack_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "proxy")) {
        rc = proxy_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "redis-failure")) {
        rc = resil_redis_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "db-restart")) {
        rc = resil_db_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "probe")) {
        rc = probe_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "report")) {
        rc = report_cmd_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "compare")) {
        rc = report_cmd_compare_main(argc - 1, argv + 1, err, sizeof err);
    } else if (!strcmp(cmd, "merge")) {
        rc = merge_main(argc - 1, argv + 1, err, sizeof err);
    } else {
        fprintf(stderr, "brink: unknown command '%s' (see brink help)\n", cmd);
        return EXIT_USAGE;
    }
    if (rc != EXIT_OK && err[0]) fprintf(stderr, "brink %s: %s\n", cmd, err);
    return rc;
}
