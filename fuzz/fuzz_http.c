/* Fuzzes whole HTTP/1 exchanges through the real server (harness.h): the input is everything a
 * client sends on one connection (pipelined requests included), with the placeholders of
 * harness.h (@TOKEN@, @RUN@, ...) replaced. Properties: every response is below 500, every JSON
 * body parses, and the server answers and closes the connection in bounded time. */
#include "fuzz.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HARNESS_MAX_INPUT)
        return -1;
    harness_init();
    size_t n;
    char *req = harness_expand(data, size, &n);
    harness_exchange(req, n);
    free(req);
    return 0;
}
