/* Census's renderings of finished runs, made in the background: a thread that has the store's
 * writer work through the runs queued for rendering (OP_CENSUS_RENDER, a batch at a time), so a
 * page of Census sync runs reads ready bytes (src/store/sqlite_census.c). Until a run is rendered,
 * pages render it themselves: answers never depend on this thread. */
#ifndef SYNCRUN_EXEC_RENDERER_H
#define SYNCRUN_EXEC_RENDERER_H

#include "store/store.h"

typedef struct renderer renderer_t;

/* Starts the thread. NULL when it could not start (logged). */
renderer_t *renderer_start(store_t *s);
/* Stops the thread (a batch in flight finishes first) and frees p; NULL is a no-op. */
void renderer_stop(renderer_t *p);

#endif
