/* UTF-8 checks and repair (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF). */
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *utf8_repair_tail(const char *s, size_t n, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    /* First pass: where the kept characters start, and the size of the repaired text. A malformed
     * sequence is replaced byte by byte (each bad byte one U+FFFD), as most decoders do. */
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++) {
        size_t k = utf8_seq_len(p + i, n - i);
        i += k > 0 ? k : 1;
    }
    size_t skip = max_chars > 0 && chars > max_chars ? chars - max_chars : 0, from = 0;
    for (size_t c = 0; c < skip; c++) {
        size_t k = utf8_seq_len(p + from, n - from);
        from += k > 0 ? k : 1;
    }
    size_t out_len = 0;
    for (size_t i = from; i < n;) {
        size_t k = utf8_seq_len(p + i, n - i);
        int bad = k == 0 || p[i] == '\0';
        out_len += bad ? UTF8_REPLACEMENT_LEN : k;
        i += k > 0 ? k : 1;
    }
    char *out = malloc(out_len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = from; i < n;) {
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0 || p[i] == '\0') {
            memcpy(o, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
            o += UTF8_REPLACEMENT_LEN;
        } else {
            memcpy(o, p + i, k);
            o += k;
        }
        i += k > 0 ? k : 1;
    }
    *o = '\0';
    return out;
}
