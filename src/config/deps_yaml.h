/* deps_yaml.h — the `dependencies:` section of brink.yaml (or of a file of its own for `brink stack
 * fault --config`): a user's own stack as the commands that break and restore it (stack/deps.h
 * runs them).
 *
 *   dependencies:
 *     redis:
 *       start_cmd: ["redis-server", "/etc/redis/redis.conf"]   # a list (argv) or a string
 *       stop_cmd: "redis-cli -p 6379 shutdown"
 *       kill_cmd: ["sh", "-c", "kill -9 $(cat /run/redis.pid)"]
 *       pause_cmd: ...          # optional, as is every command
 *       resume_cmd: ...
 *       ready_check: redis://127.0.0.1:6379   # tcp://, redis://, postgresql://, http(s)://
 *       timeout: 10s            # per command, for readiness and for going down; default 10s
 *       pid_file: /run/redis.pid   # or pid: N — signals instead of missing commands:
 *       stop_signal: SIGTERM    # pause SIGSTOP, resume SIGCONT, stop this, kill SIGKILL
 *       toxiproxy: {api: http://127.0.0.1:8474, proxy: redis}   # network faults (brink.yaml)
 *
 * ready_check is required once the dependency has a command or a pid (a dependency with only
 * toxiproxy needs none).
 * A string command is split into words as the embedded stack's service command is (quotes group
 * words, backslash escapes, no expansion); no shell runs unless the command says `sh -c`. Every
 * key is validated; each error is one line "FILE:LINE: dependencies.NAME.KEY: what is wrong".
 * See docs/stack.md. */
#ifndef BRINK_DEPS_YAML_H
#define BRINK_DEPS_YAML_H

#include <stddef.h>
#include <yaml.h>

#include "stack/deps.h"

/* Parses the value of a `dependencies:` key (node, of doc) for a bigger loader: file names the
 * source in errors and key is the path of node in them ("dependencies", or e.g. "stack.deps").
 * 0 with *out, or -1 with a one-line "FILE:LINE: KEY.NAME.FIELD: reason". */
int deps_parse(yaml_document_t *doc, const yaml_node_t *node, const char *file, const char *key,
               deps **out, char *err, size_t errlen);
/* Loads a YAML file whose top level is a mapping with a `dependencies:` key (other top-level keys
 * belong to brink's main configuration and are left alone). 0 with *out, or -1 with one line. */
int deps_load(const char *path, deps **out, char *err, size_t errlen);

#endif
