/* fuzz_race.c — race.yaml (config/race_yaml.c: race_spec_load, `brink race -f`) on arbitrary
 * bytes: create, claim, visible and truth steps with their templates, status sets and JSON paths.
 * The input is written as race.yaml into the scratch directory. Checked: no crash, no leak, a
 * refusal is one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config/race_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_write("race.yaml", data, size, path, sizeof path);
    race_spec s;
    memset(&s, 0, sizeof s);
    char err[1024] = "";
    if (race_spec_load(path, &s, err, sizeof err) < 0) {
        if (!err[0] || strchr(err, '\n')) abort(); /* a refusal is one line */
    } else {
        race_spec_free(&s);
    }
    return 0;
}
