/* main.c — brink's entry point: subcommand dispatch. The only place that prints usage errors and
 * exits; every command returns an exit status and, on failure, a one-line reason. */
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
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

typedef int (*command_fn)(int argc, char **argv, char *err, size_t errlen);

static const struct command {
    const char *name;
    command_fn run;
} commands[] = {
    {"load", load_cmd_main},
    {"webhook", webhook_main},
    {"capacity", webhook_capacity_main},
    {"race", race_cmd_main},
    {"suite", suite_cmd_main},
    {"stack", stack_cmd_main},
    {"proxy", proxy_cmd_main},
    {"redis-failure", resil_redis_main},
    {"db-restart", resil_db_main},
    {"probe", probe_cmd_main},
    {"report", report_cmd_main},
    {"compare", report_cmd_compare_main},
    {"merge", merge_main},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

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
    const struct command *c = NULL;
    for (size_t i = 0; i < NCOMMANDS && !c; i++)
        if (!strcmp(cmd, commands[i].name)) c = &commands[i];
    char err[512] = "";
    if (!c) {
        const char *names[NCOMMANDS + 2] = {"help", "version"};
        for (size_t i = 0; i < NCOMMANDS; i++) names[i + 2] = commands[i].name;
        cli_unknown("command", cmd, names, NCOMMANDS + 2, err, sizeof err);
        fprintf(stderr, "brink: %s (see brink help)\n", err);
        return EXIT_USAGE;
    }
    /* every verdict table in words instead of emoji when stdout is not a terminal or NO_COLOR
     * is set (CI logs, pipes, grep) */
    threshold_set_plain(threshold_want_plain(stdout));
    int rc = c->run(argc - 1, argv + 1, err, sizeof err);
    if (rc != EXIT_OK && err[0]) fprintf(stderr, "brink %s: %s\n", cmd, err);
    return rc;
}
