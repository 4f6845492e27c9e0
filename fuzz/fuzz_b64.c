/* Fuzzes ids_b64url_decode (opaque cursors from query strings) and ids_parse_i64 (path ids and
 * numeric query values). Properties: a decode that succeeds re-encodes to exactly the input
 * (one encoding per byte string), fails when the output does not fit, and a parsed integer lies
 * in its range. */
#include <errno.h>

#include "fuzz.h"
#include "util/ids.h"

static void check_b64(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t cap = size * 3 / 4 + 1;
    unsigned char *out = malloc(cap);
    char *again = malloc(4 * (cap / 3 + 1) + 1);
    if (out == NULL || again == NULL)
        abort();
    long n = ids_b64url_decode(s, size, out, cap);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= cap);
        size_t m = ids_b64url_encode(out, (size_t)n, again);
        FUZZ_CHECK(m == size && memcmp(again, s, size) == 0);
        FUZZ_CHECK(strlen(again) == m);
        if (n > 0) /* one byte short: refused, not truncated */
            FUZZ_CHECK(ids_b64url_decode(s, size, out, (size_t)n - 1) == -1);
        FUZZ_CHECK(ids_b64url_decode(s, size, out, (size_t)n) == n);
    }
    free(out);
    free(again);
}

static void check_i64(const uint8_t *data, size_t size)
{
    static const int64_t bounds[][2] = {
        {INT64_MIN, INT64_MAX}, {0, INT64_MAX}, {1, 100}, {-5, 5}, {0, 2147483647},
    };
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        int64_t v = 12345;
        if (ids_parse_i64((const char *)data, size, bounds[b][0], bounds[b][1], &v) == 0) {
            FUZZ_CHECK(v >= bounds[b][0] && v <= bounds[b][1]);
            /* all of the input is the number: digits after an optional '-', nothing else */
            FUZZ_CHECK(size > 0 && memchr(data, '\0', size) == NULL);
            for (size_t i = data[0] == '-'; i < size; i++)
                FUZZ_CHECK(data[i] >= '0' && data[i] <= '9');
            char *s = fuzz_strndup(data, size);
            errno = 0;
            FUZZ_CHECK(strtoll(s, NULL, 10) == v && errno == 0);
            free(s);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_b64(data, size);
    check_i64(data, size);
    return 0;
}
