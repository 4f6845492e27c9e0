/* The "expect" object of a native connection: what the connection expects of its runs (a schedule
 * or an interval with a grace, duration bounds, watermark checks), and its lateness. */
#ifndef SYNCRUN_API_EXPECTATIONS_H
#define SYNCRUN_API_EXPECTATIONS_H

#include <jansson.h>

#include "api/input.h"
#include "model/run.h"

/* Reads the "expect" object of in->obj, when present, into out, setting in *mask the CONN_F_* bit
 * of each member given (null as "expect" clears them all; null or 0 as a member turns it off).
 * Giving a schedule clears the interval and the other way round. Errors name the member
 * ("expect.grace_seconds"). cur: the connection an update changes (its bounds are checked with the
 * new ones), NULL on create. Returns 0, or -1 with `in` set. */
int expectations_read(input_t *in, connection_t *out, unsigned *mask, const connection_t *cur);
/* Adds "expect", "expected_by", "late" and "late_since" of cn to the connection object o. */
void expectations_render(json_t *o, const connection_t *cn);

#endif
