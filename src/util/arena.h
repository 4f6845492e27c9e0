/* A bump allocator: many small allocations, one release. Used for everything a
 * request (or a CLI command) reads from the store and renders. */
#ifndef SYNCRUN_UTIL_ARENA_H
#define SYNCRUN_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk_t;

typedef struct arena {
    arena_chunk_t *head;
} arena_t;

#define ARENA_INIT                                                                                                     \
    {                                                                                                                  \
        NULL                                                                                                           \
    }

/* Returns zeroed memory valid until arena_release(); aborts on out-of-memory. */
void *arena_alloc(arena_t *a, size_t n);
/* Copies n bytes and a terminating NUL. NULL in, NULL out. */
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
/* Frees every allocation; the arena can be used again afterwards. */
void arena_release(arena_t *a);

#endif
