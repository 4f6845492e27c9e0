/* A growable byte buffer with a hard cap, always NUL-terminated (curl's dynbuf).
 *
 * A failure is sticky: an append that would pass the cap (or finds no memory) frees the contents
 * and marks the buffer failed, and every later append fails too, until buf_reset or buf_release.
 * So a document built with many unchecked appends is either complete or empty-and-failed, never
 * cut in the middle; the one place that consumes the buffer checks buf_failed(). */
#ifndef SYNCRUN_UTIL_BUF_H
#define SYNCRUN_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, alloc, cap;
    int failed; /* an append failed: contents dropped, every later append fails */
} buf_t;

#define BUF_INIT(cap_)                                                                                                 \
    {                                                                                                                  \
        NULL, 0, 0, (cap_), 0                                                                                          \
    }

/* Each returns 0, or -1 when the result would exceed the cap, memory ran out, or an earlier append
 * failed; the buffer is then failed (empty, data NULL). Adding nothing to a good buffer succeeds. */
int buf_add(buf_t *b, const void *p, size_t n);
/* Makes room for extra more bytes at once (a document of a known size grows without copies). */
int buf_reserve(buf_t *b, size_t extra);
int buf_adds(buf_t *b, const char *s);
int buf_addf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(buf_t *b, const char *fmt, va_list ap);
/* 1 when an append failed since the last reset: the contents are gone and must not be used. */
int buf_failed(const buf_t *b);
/* Returns the contents ("" when empty or failed); valid until the next change. */
const char *buf_str(const buf_t *b);
/* Empties the buffer and clears a failure; the allocation is kept. */
void buf_reset(buf_t *b);
/* Frees the contents; the buffer is empty and usable again (failure cleared). */
void buf_release(buf_t *b);

#endif
