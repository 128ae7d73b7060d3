/* main.c — brink's entry point: subcommand dispatch. The only place that prints usage errors and
 * exits; every command returns an exit status and, on failure, a one-line reason. */
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "core/err.h"
#include "core/runinfo.h"
#include "core/version.h"

#include "cmd/proxy_cmd.h"
#include "core/exitcode.h"
#include "cmd/load_cmd.h"
#include "cmd/probe_cmd.h"
#include "report/merge.h"
#include "report/report_cmd.h"
#include "resilience/resil.h"
#include "race/race_cmd.h"
#include "webhook/webhook.h"
#include "cmd/stack_cmd.h"
#include "suite/suite_cmd.h"
#include "verdict/threshold.h"

typedef int (*command_fn)(int argc, char **argv, char *err, size_t errlen);

/* Every command: its name, its entry point (NULL: handled here) and its line in brink help. */
static const struct command {
    const char *name;
    command_fn run;
    const char *line;
} commands[] = {
    {"load", load_cmd_main, "HTTP load at a fixed concurrency or rate, with honest latency"},
    {"webhook", webhook_main,
     "signed webhooks at light|moderate|heavy rates, judged; stress: capacity"},
    {"capacity", webhook_capacity_main,
     "find the breaking point: the highest sustainable webhook rate"},
    {"race", race_cmd_main, "vendors race to claim each order: exactly one must win"},
    {"suite", suite_cmd_main,
     "quick|full|stress: the tests in a row, with summary, JUnit and HTML"},
    {"stack", stack_cmd_main, "start, check, break and stop the embedded PostgreSQL + Redis stack"},
    {"proxy", proxy_cmd_main, "fault-injecting TCP proxy with a Toxiproxy-compatible API"},
    {"redis-failure", resil_redis_main,
     "break Redis under webhook load: errors, recovery, backlog, loss"},
    {"db-restart", resil_db_main, "restart PostgreSQL under load: recovery, pool, loss, integrity"},
    {"probe", probe_cmd_main, "read a backlog probe (Redis, SQL, HTTP JSON/Prometheus) once"},
    {"report", report_cmd_main,
     "terminal, HTML and JUnit reports from result documents (--json files)"},
    {"compare", report_cmd_compare_main,
     "before/after of result documents: exit 1 on a regression"},
    {"merge", merge_main, "one result document from the segments of a scaled-out test"},
    {"help", NULL, "this help (brink COMMAND --help for a command's options)"},
    {"version", NULL, "print the version"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
    fprintf(out,
            "brink %s — find a service's breaking points and prove it survives failures\n"
            "\n"
            "Usage: brink COMMAND [options]\n"
            "\n"
            "Commands:\n",
            BRINK_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-*s%s\n", strlen(commands[i].name) < 10 ? 10 : 15, commands[i].name,
                commands[i].line);
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
    const struct command *c = NULL;
    for (size_t i = 0; i < NCOMMANDS && !c; i++)
        if (commands[i].run && !strcmp(cmd, commands[i].name)) c = &commands[i];
    char err[2048] = "", safe[4 * sizeof err];
    if (!c) {
        const char *names[NCOMMANDS];
        for (size_t i = 0; i < NCOMMANDS; i++) names[i] = commands[i].name;
        cli_unknown("command", cmd, names, NCOMMANDS, err, sizeof err);
        err_escape(err, safe, sizeof safe);
        fprintf(stderr, "brink: %s (see brink help)\n", safe);
        return EXIT_USAGE;
    }
    /* every verdict table in words instead of emoji when stdout is not a terminal or NO_COLOR
     * is set (CI logs, pipes, grep) */
    threshold_set_plain(threshold_want_plain(stdout));
    runinfo_set_argv(argc, argv); /* for the result documents (.command) */
    int rc = c->run(argc - 1, argv + 1, err, sizeof err);
    if (rc != EXIT_OK && err[0]) {
        err_escape(err, safe, sizeof safe); /* a quoted value's control characters, escaped */
        fprintf(stderr, "brink %s: %s\n", cmd, safe);
    }
    return rc;
}
