/* Capped growable buffer with sticky failure. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drops the contents and marks b failed; returns -1 for the caller to pass on. */
static int buf_fail(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->failed = 1;
    return -1;
}

int buf_reserve(buf_t *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > b->cap || b->len > b->cap - extra)
        return buf_fail(b);
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t alloc = b->alloc ? b->alloc : 256;
    while (alloc < need)
        alloc *= 2;
    char *p = realloc(b->data, alloc);
    if (p == NULL)
        return buf_fail(b);
    b->data = p;
    b->alloc = alloc;
    return 0;
}

int buf_add(buf_t *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_adds(buf_t *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_vaddf(buf_t *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return -1;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return buf_fail(b);
    if (buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_addf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_failed(const buf_t *b)
{
    return b->failed;
}

const char *buf_str(const buf_t *b)
{
    return b->data ? b->data : "";
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_release(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->failed = 0;
}
