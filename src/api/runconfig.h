/* The part of a connection that tells syncrun to run it itself: command, schedule and limits,
 * as the native API reads and shows them. */
#ifndef SYNCRUN_API_RUNCONFIG_H
#define SYNCRUN_API_RUNCONFIG_H

#include <jansson.h>

#include "api/input.h"
#include "model/run.h"
#include "util/arena.h"

/* The body fields this module reads, NULL-terminated. */
extern const char *const runconfig_fields[];

/* Reads the run-config fields present in in->obj into out (over the defaults when create is set)
 * and sets in *mask the CONN_F_* bit of each field that was given; the store merges exactly those
 * into the row. Texts are copied into a. Returns 0, or -1 with `in` set. */
int runconfig_read(input_t *in, int create, connection_t *out, unsigned *mask, arena_t *a);
/* Adds the run-config fields of cn to the connection object o. */
void runconfig_render(json_t *o, const connection_t *cn);

#endif
