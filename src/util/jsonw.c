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

/* ---- the canonical-form check ---- */

typedef struct canon {
    const unsigned char *p;
    int depth;
} canon_t;

static int canon_value(canon_t *c);

/* A string as jansson writes it: only ", \ and control characters escaped, the short escapes
 * where jansson uses them, \u00XX (upper-case hex) for the other control characters but NUL
 * (which json_loads refuses), everything else raw and well-formed UTF-8. */
static int canon_string(canon_t *c)
{
    const unsigned char *p = c->p;
    if (*p++ != '"')
        return -1;
    for (;;) {
        unsigned char ch = *p;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return -1; /* raw control character, or the text ended */
        if (ch == '\\') {
            unsigned char e = p[1];
            if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
                continue;
            }
            if (e != 'u' || p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1'))
                return -1;
            unsigned d = p[5] >= '0' && p[5] <= '9'   ? (unsigned)(p[5] - '0')
                         : p[5] >= 'A' && p[5] <= 'F' ? (unsigned)(p[5] - 'A' + 10)
                                                      : 16; /* jansson writes upper-case hex */
            if (d == 16)
                return -1;
            unsigned v = (unsigned)(p[4] - '0') * 16 + d;
            if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
                return -1;
            p += 6;
            continue;
        }
        if (ch >= 0x80) {
            size_t k = utf8_seq_len(p, strnlen((const char *)p, 4));
            if (k == 0)
                return -1;
            p += k;
            continue;
        }
        p++;
    }
    c->p = p + 1;
    return 0;
}

/* An integer that fits jansson's json_int_t (18 digits at most: no overflow to check), not -0. */
static int canon_number(canon_t *c)
{
    const unsigned char *p = c->p;
    int neg = *p == '-';
    p += neg;
    if (*p == '0') {
        if (neg)
            return -1;
        p++;
    } else {
        const unsigned char *d = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == d || p - d > 18)
            return -1;
    }
    if (*p == '.' || *p == 'e' || *p == 'E')
        return -1; /* a real: jansson writes it its own way */
    c->p = p;
    return 0;
}

static int canon_literal(canon_t *c, const char *lit, size_t n)
{
    if (strncmp((const char *)c->p, lit, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* An object whose keys are all different (keys in canonical form are equal only when their
 * values are), or an array. */
static int canon_container(canon_t *c)
{
    unsigned char close = *c->p == '{' ? '}' : ']';
    int object = close == '}';
    enum { KEYS_MAX = 64 };
    const unsigned char *keys[KEYS_MAX];
    size_t key_len[KEYS_MAX];
    int nkeys = 0;
    if (++c->depth > JW_CANONICAL_DEPTH)
        return -1;
    c->p++;
    if (*c->p == close) {
        c->p++;
        c->depth--;
        return 0;
    }
    for (;;) {
        if (object) {
            const unsigned char *k = c->p;
            if (canon_string(c) != 0 || nkeys == KEYS_MAX)
                return -1;
            size_t n = (size_t)(c->p - k);
            for (int i = 0; i < nkeys; i++)
                if (key_len[i] == n && memcmp(keys[i], k, n) == 0)
                    return -1;
            keys[nkeys] = k;
            key_len[nkeys++] = n;
            if (*c->p++ != ':')
                return -1;
        }
        if (canon_value(c) != 0)
            return -1;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p != close)
            return -1;
        c->p++;
        c->depth--;
        return 0;
    }
}

static int canon_value(canon_t *c)
{
    switch (*c->p) {
    case '{':
    case '[':
        return canon_container(c);
    case '"':
        return canon_string(c);
    case 't':
        return canon_literal(c, "true", 4);
    case 'f':
        return canon_literal(c, "false", 5);
    case 'n':
        return canon_literal(c, "null", 4);
    default:
        return canon_number(c);
    }
}

int jw_canonical(const char *s)
{
    if (s == NULL || (s[0] != '{' && s[0] != '['))
        return 0;
    canon_t c = {(const unsigned char *)s, 0};
    if (canon_container(&c) != 0 || *c.p != '\0')
        return 0;
    return s[0];
}
