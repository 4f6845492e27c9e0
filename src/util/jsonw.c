/* Compact JSON output with jansson's escaping rules: ", \ and control characters escaped
 * (\b \f \n \r \t short, others \u00XX upper-case hex); well-formed UTF-8 passed through, and
 * each byte of a malformed sequence written as U+FFFD, so the output is always valid JSON text. */
#include "util/jsonw.h"

#include <string.h>

#include "util/timeutil.h"
#include "util/utf8.h"

void jw_str(buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (s == NULL) {
        JW_LIT(b, "null");
        return;
    }
    buf_add(b, "\"", 1);
    const char *run = s;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            continue;
        if (*p >= 0x80) {
            /* at most 4 bytes are looked at, and a NUL ends any sequence early */
            size_t k = utf8_seq_len(p, strnlen((const char *)p, 4));
            if (k > 0) {
                p += k - 1;
                continue;
            }
            buf_add(b, run, (size_t)((const char *)p - run));
            buf_add(b, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
            run = (const char *)p + 1;
            continue;
        }
        buf_add(b, run, (size_t)((const char *)p - run));
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
            break;
        }
        buf_add(b, esc, n);
        run = (const char *)p + 1;
    }
    buf_add(b, run, (size_t)((const char *)p - run));
    buf_add(b, "\"", 1);
}

void jw_int(buf_t *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void jw_bool(buf_t *b, int v)
{
    if (v)
        JW_LIT(b, "true");
    else
        JW_LIT(b, "false");
}

void jw_time(buf_t *b, int64_t ms)
{
    if (ms == 0) {
        JW_LIT(b, "null");
        return;
    }
    char iso[TIME_ISO_LEN + 2];
    iso[0] = '"';
    time_format_iso(ms, iso + 1);
    iso[TIME_ISO_LEN] = '"';
    buf_add(b, iso, TIME_ISO_LEN + 1);
}
