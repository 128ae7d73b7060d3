/* probe_cmd.c — `brink probe [-n COUNT] [-i INTERVAL] SPEC`: the command-line face of the probes
 * (probe.h). SPEC is the JSON object a scenario takes (--probe), so a probe can be tried before a
 * long run; each read prints one line, the number or the reason it failed. */
#include "cmd/probe_cmd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "probe/probe.h"

static const cli_cmd probe_cli = {
    .name = "probe",
    .args = "[options] SPEC",
    .summary =
        "Reads a probe and prints its value: one number per read.\n"
        "SPEC is a JSON object:\n"
        "  {\"kind\":\"redis\",\"url\":\"redis://127.0.0.1:6379\",\"command\":\"XLEN s\"}\n"
        "  {\"kind\":\"redis\",\"url\":\"...\",\"command\":\"XINFO GROUPS "
        "s\",\"path\":\"[name=g].lag\"}\n"
        "  {\"kind\":\"sql\",\"url_env\":\"DATABASE_URL\",\"query\":\"SELECT count(*) FROM "
        "inbox\"}\n"
        "  "
        "{\"kind\":\"http\",\"url\":\"http://127.0.0.1:8080/metrics\",\"metric\":\"queue_depth\"}\n"
        "  {\"kind\":\"http\",\"url\":\"http://127.0.0.1:8080/stats\",\"path\":\"queue.depth\"}\n"
        "Keys: kind, name, url or url_env (keeps passwords off the command line), command, query, "
        "path, metric, timeout (a duration, default 1s). See docs/resilience.md.",
    .epilog = "Exit status: 0 every read gave a number; 2 bad usage; 3 a read failed.",
    .missing = "want exactly one SPEC (a JSON object)",
    .min_args = 1,
    .max_args = 1,
};

int probe_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    int64_t count = 1, interval = 0;
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "count", .short_name = 'n', .kind = CLI_INT64, .dest = &count, .min = 1,
         .max = 100000, .def = "1", .meta = "N", .help = "read N times"},
        {.name = "interval", .short_name = 'i', .kind = CLI_DURATION, .dest = &interval,
         .def = "250ms", .meta = "D", .help = "between reads"},
        CLI_HELP,
    };
    /* clang-format on */
    const char *spec_text;
    int npos;
    int rc =
        cli_parse(&probe_cli, opts, CLI_NOPTS(opts), argc, argv, &spec_text, 1, &npos, err, errlen);
    if (rc != CLI_OK) return rc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    probe_spec spec;
    if (probe_spec_parse(spec_text, &spec, err, errlen) < 0) return EXIT_USAGE;
    probe *p;
    if (probe_open(&spec, &p, err, errlen) < 0) return EXIT_USAGE;
    int status = EXIT_OK;
    for (int64_t i = 0; i < count; i++) {
        if (i) {
            struct timespec ts = {(time_t)(interval / NS_PER_S), (long)(interval % NS_PER_S)};
            nanosleep(&ts, NULL);
        }
        double v;
        char why[512];
        if (probe_read(p, &v, why, sizeof why) == 0) {
            printf("%.15g\n", v);
        } else {
            printf("error: %s\n", why);
            snprintf(err, errlen, "%s", why);
            status = EXIT_UNREACHABLE;
        }
        fflush(stdout);
    }
    probe_close(p);
    return status;
}
