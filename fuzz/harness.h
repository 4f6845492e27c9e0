/* An in-process syncrun server for the HTTP fuzz targets (fuzz/fuzz_http*.c), after h2o's
 * fuzz/driver.cc: each exchange is a new connection over a socketpair, accepted as the server
 * accepts one (conn_accept: h2o_accept, HTTP/1) on one h2o loop that serves the real routes (api/routes.c) through the real
 * dispatch, authentication and handlers (http/server.c), over a temporary SQLite store seeded with
 * the demo data (cli/demo.c) and the store's real writer thread.
 *
 * Every response the server starts is checked as it is sent: its status is below 500, and a body
 * of a JSON content type parses as JSON (strict UTF-8). The connection must be answered and closed
 * within a bounded number of loop iterations. A violation aborts (FUZZ_CHECK), so libFuzzer saves
 * the input. */
#ifndef SYNCRUN_FUZZ_HARNESS_H
#define SYNCRUN_FUZZ_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Placeholders an input may contain; harness_expand() replaces them with values of the seeded
 * store, which change from process to process (random tokens and UUIDs):
 *   @TOKEN@     an admin API key of workspace 1         @ROTOKEN@   a runs:read key of workspace 1
 *   @B64TOKEN@  base64("<admin token>:"), for Basic     @OTHER@     an admin key of workspace 2
 *   @RUN@       the id of a run left queued at start     @RUNUUID@   that run's UUID
 *   @CONNUUID@  the UUID of connection 1                  */
enum { HARNESS_MAX_INPUT = 64 * 1024 };

/* Sets the server up once per process (later calls do nothing). */
void harness_init(void);

/* A heap copy of data[0..size) with the placeholders replaced (free()); *outlen is its length. */
char *harness_expand(const uint8_t *data, size_t size, size_t *outlen);

/* Sends bytes as everything a client says on one connection (then closes its sending side), runs
 * the loop until the server has answered and closed the connection, checking every response.
 * Returns the number of responses the server started. */
int harness_exchange(const char *bytes, size_t len);

/* The seeded store (for targets that must sign as the server does). */
store_t *harness_store(void);

/* The status and the parsed JSON body (borrowed; NULL when the body was not JSON) of the last
 * response harness_exchange saw. */
int harness_last_status(void);
json_t *harness_last_json(void);

/* Appends s[0..n) to out[*used..cap) with every byte outside [A-Za-z0-9._~-] percent-encoded,
 * stopping short of cap - 1; NUL-terminates. */
void harness_percent_encode(char *out, size_t cap, size_t *used, const uint8_t *s, size_t n);

#endif
