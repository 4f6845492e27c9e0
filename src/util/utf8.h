/* UTF-8: validation, counting, clipping and repair of text that came from outside (process output,
 * stored strings), so that no invalid byte sequence reaches a JSON answer or the store. */
#ifndef SYNCRUN_UTIL_UTF8_H
#define SYNCRUN_UTIL_UTF8_H

#include <stddef.h>

/* The U+FFFD replacement character, in UTF-8. */
#define UTF8_REPLACEMENT     "\xEF\xBF\xBD"
#define UTF8_REPLACEMENT_LEN 3

/* The length (1-4) of the well-formed UTF-8 sequence at s[0..n), or 0 when it is not one
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short). NUL is a
 * well-formed one-byte sequence here. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* The number of characters (code points) of the NUL-terminated s; bytes of malformed sequences
 * count one each. */
size_t utf8_chars(const char *s);

/* Repairs s[0..n) into a new NUL-terminated heap string (free()): every malformed sequence and
 * every NUL byte becomes U+FFFD, and when max_chars > 0 only the LAST max_chars characters are kept
 * (the end of a log is what explains a failure). Returns NULL only when out of memory. */
char *utf8_repair_tail(const char *s, size_t n, size_t max_chars);

#endif
