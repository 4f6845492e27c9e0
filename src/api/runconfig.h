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

/* Reads the run-config fields present in in->obj into out, starting from cur (the connection as it
 * is, or NULL for defaults), and sets the CONN_F_COMMAND / CONN_F_SCHEDULE / CONN_F_LIMITS bits
 * of the groups that were given. Texts are copied into a. Returns 0, or -1 with `in` set. */
int runconfig_read(input_t *in, const connection_t *cur, connection_t *out, unsigned *mask, arena_t *a);
/* Adds the run-config fields of cn to the connection object o. */
void runconfig_render(json_t *o, const connection_t *cn);

#endif
