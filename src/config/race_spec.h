/* race_spec.h — the vendor race's protocol, as a race.yaml or brink.yaml's race: section describes
 * it (docs/race.md): how to create a resource, how a vendor claims it ({{id}}, {{vendor}}), which
 * statuses mean won and lost, where a loser is told the winner's name, and where the ground truth
 * is. The race (race/race.h) runs any race_spec; race/race_spec.c has dispatchd's built-in one.
 * It lives in config/ with its loader (race_yaml.c) so that brink.yaml's loader can hold one
 * without reaching up into the race test. */
#ifndef BRINK_RACE_SPEC_H
#define BRINK_RACE_SPEC_H

#include <stddef.h>
#include <yaml.h>

#include "core/yml.h"
#include "http/sign.h"
#include "verdict/race_verdict.h"

#define RACE_MAX_HEADERS 32

/* Templates: {{id}} the resource's id, {{vendor}} the vendor's name, {{run}} the run's id; in the
 * create step also the load engine's placeholders ({{seq}}, {{uuid}}, ...). */
typedef struct race_request {
    char *method;
    char *path;
    char *headers[RACE_MAX_HEADERS]; /* "Name: value" */
    int nheaders;
    char *body; /* NULL: none */
} race_request;

typedef struct race_spec {
    char *file;   /* the YAML file it came from; NULL for dispatchd's built-in protocol */
    char *target; /* base URL from the file (NULL: from the command line or the stack) */
    /* create */
    race_request create;
    sign_scheme create_sign;
    char *secret_file, *secret_env; /* from the file: where the signing secret is */
    char *create_id_path;           /* NULL: ids are generated (race-RUN-SEQ); else read here */
    status_set create_ok;
    race_request visible; /* GET until visible_ok; method NULL: no wait */
    status_set visible_ok;
    /* claim */
    race_request claim;
    status_set won, lost;
    char *loser_winner_path; /* in a lost answer, the winner's name; NULL: not checked */
    /* ground truth */
    race_request truth;      /* method NULL: no HTTP read-back */
    char *truth_winner_path; /* the stored winner in the read-back */
    char *sql_url;           /* NULL: no SQL audit (the stack's or --pg otherwise) */
    char *sql_query;         /* $1 = the id; one row per stored winner, the first column */
    int line_target;         /* line numbers for messages (0 = built in) */
} race_spec;

/* Reads a race.yaml (docs/race.md). Errors: one line "FILE:LINE: KEY: reason". */
int race_spec_load(const char *path, race_spec *s, char *err, size_t errlen);
/* A yml handler (core/yml.h) for a status set — 409, 200-204, 2xx, "409,423" or a list of
 * them — into x->dst (a status_set, replaced). */
int race_yaml_status(const yml_ctx *c, const yml_val *x, void *obj);
/* The same keys from a node of a bigger document (brink.yaml's race: section). With a prefix
 * ("race"), keys in messages read "race.claim.body" and `target` is not a key (the file's
 * target.url is); without one, node is a whole race.yaml. 0, or -1 with one line. */
int race_spec_parse(yaml_document_t *doc, const yaml_node_t *node, const char *file,
                    const char *prefix, race_spec *s, char *err, size_t errlen);
void race_spec_free(race_spec *s);

#endif
