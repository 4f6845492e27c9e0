/* Bump allocator in chunks of at least 16 KiB. */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk_t *next;
    size_t used, size;
    max_align_t data[];
};

/* Chunks start small (most arenas hold one row or one answer's strings) and double up to 64 KiB. */
enum { ARENA_CHUNK_FIRST = 1024, ARENA_CHUNK_MAX = 64 * 1024 };

void *arena_alloc(arena_t *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        abort(); /* no caller asks for this much; rounding up below would wrap */
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_chunk_t *c = a->head;
    if (c == NULL || c->size - c->used < n) {
        size_t grow = c == NULL ? ARENA_CHUNK_FIRST : (c->size < ARENA_CHUNK_MAX ? c->size * 2 : ARENA_CHUNK_MAX);
        size_t size = n > grow ? n : grow;
        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            abort();
        c->next = a->head;
        c->used = 0;
        c->size = size;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

void arena_release(arena_t *a)
{
    arena_chunk_t *c = a->head;
    while (c != NULL) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}
