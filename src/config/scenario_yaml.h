/* scenario_yaml.h — reading a load scenario (load/scenario.h) from YAML: brink load -f FILE, or
 * the load: section of brink.yaml. Everything is validated here (templates, JSON paths, patterns,
 * statuses, which variable each step may use, threshold syntax) so that the engine only runs it. */
#ifndef BRINK_SCENARIO_YAML_H
#define BRINK_SCENARIO_YAML_H

#include <stddef.h>

#include "core/yml.h"
#include "load/scenario.h"

/* Loads and validates path: a scenario file, or a brink.yaml with a load: section (which takes
 * brink.yaml's target.url unless it has a target of its own). 0, or -1 with one line ("FILE:LINE:
 * KEY: ..."). Free with scenario_free (also after a failure). */
int scenario_load(const char *path, scenario *s, char *err, size_t errlen);
/* Reads a scenario from the mapping node v of an already loaded YAML document (brink.yaml's
 * load: section): k its key node, key its path ("load"); body files are relative to c->file. */
int scenario_from_node(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v,
                       const char *key, scenario *s);

#endif
