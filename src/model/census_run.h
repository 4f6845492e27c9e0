/* One sync run as Census's API answers it (seeds 001 and 003): the JSON object GET
 * /api/v1/sync_runs/{id} and the sync_runs pages hold. Pure: no I/O. The store keeps this rendering
 * of finished runs beside them (census_runs, src/store/sqlite_census.c), so a page is a range read of
 * ready bytes. */
#ifndef SYNCRUN_MODEL_CENSUS_RUN_H
#define SYNCRUN_MODEL_CENSUS_RUN_H

#include "model/run.h"
#include "util/buf.h"

/* The version of census_run_write's output. Renderings stored with another version are never
 * served: a change to what census_run_write writes for any run must bump it, and add a migration
 * (src/store/schema.c) that queues every finished run again (see migration 18), so the stored
 * renderings are made anew. tests/unit/test_census_run.c pins the output. */
enum { CENSUS_RUN_FORMAT = 1 };

/* Appends run r in Census's shape, keys in the seed's order, to b. */
void census_run_write(buf_t *b, const run_t *r);

#endif
