/* Shared declarations of the libFuzzer targets (fuzz/fuzz_*.c; `make fuzz`, `make fuzz-run`). */
#ifndef SYNCRUN_FUZZ_H
#define SYNCRUN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point libFuzzer calls with each input; 0 always (a finding aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promised does not hold: report it as a crash, with the input
 * libFuzzer saves as its reproducer. */
#define FUZZ_CHECK(cond)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);                                \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* A NUL-terminated heap copy of the input (free()); embedded NULs stay, so C-string parsers see
 * the part before the first one. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A small deterministic generator (splitmix64), seeded from the input so runs reproduce. */
static inline uint64_t fuzz_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * UINT64_C(1099511628211);
    return h;
}

#endif
