/* Demo data for `syncrun serve --demo`. */
#ifndef SYNCRUN_CLI_DEMO_H
#define SYNCRUN_CLI_DEMO_H

#include "store/store.h"

/* Creates the demo workspace with its connections and runs; writes its admin token. 0 or -1. */
int demo_seed(store_t *s, char token[IDS_TOKEN_LEN], int *nconnections, int *nruns);

#endif
