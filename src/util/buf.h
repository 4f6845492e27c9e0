/* A growable byte buffer with a hard cap, always NUL-terminated (curl's dynbuf). */
#ifndef SYNCRUN_UTIL_BUF_H
#define SYNCRUN_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, alloc, cap;
} buf_t;

#define BUF_INIT(cap_)                                                                                                 \
    {                                                                                                                  \
        NULL, 0, 0, (cap_)                                                                                             \
    }

/* Each returns 0, or -1 when the result would exceed the cap (the buffer is then unchanged). */
int buf_add(buf_t *b, const void *p, size_t n);
int buf_adds(buf_t *b, const char *s);
int buf_addf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(buf_t *b, const char *fmt, va_list ap);
/* Returns the contents ("" when empty); valid until the next change. */
const char *buf_str(const buf_t *b);
void buf_reset(buf_t *b);
void buf_release(buf_t *b);

#endif
