/* fuzz_scenario.c — load scenario files (config/scenario_yaml.c: scenario_load, `brink load -f`)
 * on arbitrary bytes, and a scenario that loads is prepared by the load engine (engine_check:
 * its templates compiled, its mix built) as a run would. The input is written as scenario.yaml
 * into the scratch directory beside body.json ("@body.json" bodies). Checked: no crash, no leak,
 * a refusal is one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config/scenario_yaml.h"
#include "load/engine.h"

static char path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const char body[] = "{\"id\":\"o-{{run}}-{{seq}}\"}";
    char p[512];
    fuzz_write("body.json", (const uint8_t *)body, strlen(body), p, sizeof p);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write("scenario.yaml", data, size, path, sizeof path);
    scenario s;
    memset(&s, 0, sizeof s);
    char err[1024] = "";
    if (scenario_load(path, &s, err, sizeof err) < 0) {
        if (!err[0] || strchr(err, '\n')) abort(); /* a refusal is one line */
    } else {
        engine_config cfg = {
            .url = "http://127.0.0.1:1/",
            .connections = 1,
            .threads = 1,
            .scenario = &s,
        };
        char e[512] = "";
        if (engine_check(&cfg, e, sizeof e) < 0 && strchr(e, '\n')) abort();
    }
    scenario_free(&s);
    return 0;
}
