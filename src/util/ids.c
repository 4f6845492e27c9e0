/* UUIDs, tokens, SHA-256 (OpenSSL), base64url and strict integer parsing. */
#include "util/ids.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void ids_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

static void uuid_format(const unsigned char b[16], char out[IDS_UUID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

void ids_uuid_v4(char out[IDS_UUID_LEN])
{
    unsigned char b[16];
    ids_random(b, sizeof(b));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_format(b, out);
}

void ids_uuid_v7(char out[IDS_UUID_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    unsigned char b[16];
    ids_random(b + 6, sizeof(b) - 6);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_format(b, out);
}

int ids_is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

int ids_uuid_normalize(const char *s, char out[IDS_UUID_LEN])
{
    out[0] = '\0';
    if (!ids_is_uuid(s))
        return -1;
    for (int i = 0; i < IDS_UUID_LEN - 1; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[IDS_UUID_LEN - 1] = '\0';
    return 0;
}

/* A secret: a 3-character prefix and 40 base62 characters. */
static void ids_secret(const char prefix[4], char out[IDS_TOKEN_LEN])
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    memcpy(out, prefix, 3);
    for (int i = 3; i < IDS_TOKEN_LEN - 1;) {
        unsigned char b[32];
        ids_random(b, sizeof(b));
        for (size_t j = 0; j < sizeof(b) && i < IDS_TOKEN_LEN - 1; j++)
            if (b[j] < 248) /* 248 = 4 * 62: reject the rest to keep the choice uniform */
                out[i++] = alphabet[b[j] % 62];
    }
    out[IDS_TOKEN_LEN - 1] = '\0';
}

void ids_token(char out[IDS_TOKEN_LEN])
{
    ids_secret("sr_", out);
}

void ids_ping_key(char out[IDS_TOKEN_LEN])
{
    ids_secret("pk_", out);
}

void ids_webhook_secret(char out[IDS_WHSEC_LEN])
{
    unsigned char key[32];
    ids_random(key, sizeof(key));
    memcpy(out, "whsec_", 7);
    ids_b64_encode(key, sizeof(key), out + 6);
}

size_t ids_b64_encode(const void *p, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

long ids_b64_decode(const char *s, size_t n, void *out, size_t outcap)
{
    char buf[1024];
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n == 0)
        return 0;
    if (n % 4 == 1 || n + 4 > sizeof(buf))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
            return -1;
    /* EVP_DecodeBlock wants whole quads: pad, then drop the bytes the padding stands for */
    memcpy(buf, s, n);
    size_t extra = (4 - n % 4) % 4;
    memset(buf + n, '=', extra);
    unsigned char tmp[768];
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)buf, (int)(n + extra));
    if (len < 0 || (size_t)len < extra)
        return -1;
    len -= (int)extra;
    if ((size_t)len > outcap)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

void ids_sha256_hex(const void *p, size_t n, char out[IDS_SHA256_HEX_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ids_b64url_encode(const void *p, size_t n, char *out)
{
    const unsigned char *s = p;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return o;
}

long ids_b64url_decode(const char *s, size_t n, void *out, size_t outcap)
{
    unsigned char *d = out;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* b64 is the 64-character alphabet, searched as bytes, not as a string */
        const char *c = memchr(b64, s[i], 64); /* NOLINT(bugprone-not-null-terminated-result) */
        if (c == NULL || s[i] == '\0')
            return -1;
        acc = (acc << 6) | (uint32_t)(c - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap)
                return -1;
            d[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so that each byte string has exactly one encoding. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

int ids_parse_i64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n) != NULL)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!(isdigit((unsigned char)tmp[0]) || (tmp[0] == '-' && n > 1 && isdigit((unsigned char)tmp[1]))))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
