/* The expectation checker: about once a second it finds the connections whose next run is overdue
 * (no run started by the expected time plus grace) and the runs past their maximum duration, and
 * reports each to the store, which marks it and raises run.late once. Driven by the runner's thread
 * through checker_tick; reads only what is due (partial indexes), never the history. */
#ifndef SYNCRUN_EXEC_CHECKER_H
#define SYNCRUN_EXEC_CHECKER_H

#include <stdint.h>

#include "store/store.h"

typedef struct checker checker_t;

checker_t *checker_new(store_t *s, store_reader_t *r);
void checker_free(checker_t *ck);
/* Checks what is due at now_ms (wall clock), at most every CHECKER_PERIOD_MS; returns the
 * milliseconds until it wants to run again. */
int64_t checker_tick(checker_t *ck, int64_t now_ms);
enum { CHECKER_PERIOD_MS = 1000 };

#endif
