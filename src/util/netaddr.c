/* The address classifier for outbound requests (webhooks). The ranges are IANA's special-purpose
 * registries (RFC 6890 and its updates) for the kinds named in netaddr.h. */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static const char *v4_refusal(const unsigned char a[4])
{
    uint32_t x = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
    static const struct {
        uint32_t net;
        int bits;
        const char *why;
    } ranges[] = {
        {0x00000000, 8, "unspecified"},        /* 0.0.0.0/8 "this network" */
        {0x0a000000, 8, "private"},            /* 10/8 */
        {0x64400000, 10, "carrier-grade NAT"}, /* 100.64/10 */
        {0x7f000000, 8, "loopback"},           /* 127/8 */
        {0xa9fe0000, 16, "link-local"},        /* 169.254/16 (cloud metadata) */
        {0xac100000, 12, "private"},           /* 172.16/12 */
        {0xc0000000, 24, "reserved"},          /* 192.0.0/24 IETF protocol assignments */
        {0xc0000200, 24, "reserved"},          /* 192.0.2/24 TEST-NET-1 */
        {0xc0586300, 24, "reserved"},          /* 192.88.99/24 6to4 relay */
        {0xc0a80000, 16, "private"},           /* 192.168/16 */
        {0xc6120000, 15, "reserved"},          /* 198.18/15 benchmarking */
        {0xc6336400, 24, "reserved"},          /* 198.51.100/24 TEST-NET-2 */
        {0xcb007100, 24, "reserved"},          /* 203.0.113/24 TEST-NET-3 */
        {0xe0000000, 4, "multicast"},          /* 224/4 */
        {0xf0000000, 4, "reserved"},           /* 240/4, and 255.255.255.255 */
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        uint32_t mask = ranges[i].bits == 0 ? 0 : 0xffffffffu << (32 - ranges[i].bits);
        if ((x & mask) == ranges[i].net)
            return ranges[i].why;
    }
    return NULL;
}

static const char *v6_refusal(const unsigned char a[16])
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(a, zero, 16) == 0)
        return "unspecified";
    if (memcmp(a, zero, 15) == 0 && a[15] == 1)
        return "loopback";
    /* v4 inside v6: mapped (::ffff:0:0/96), compatible (::/96, deprecated), NAT64 (64:ff9b::/96) */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_refusal(a + 12);
    if ((a[0] & 0xfe) == 0xfc)
        return "unique-local"; /* fc00::/7 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return "link-local"; /* fe80::/10 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return "unique-local"; /* fec0::/10, the deprecated site-local */
    if (a[0] == 0xff)
        return "multicast";
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return "reserved"; /* 2001:db8::/32 documentation */
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_refusal(a + 2); /* 2002::/16 6to4 carries a v4 address */
    if ((a[0] & 0xe0) != 0x20)
        return "reserved"; /* outside 2000::/3, the global unicast space */
    return NULL;
}

const char *netaddr_refusal(const struct sockaddr *sa, size_t len)
{
    if (sa == NULL)
        return "not an address";
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return v4_refusal((const unsigned char *)&in->sin_addr);
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_refusal(in6->sin6_addr.s6_addr);
    }
    return "not an address";
}

const char *netaddr_refusal_text(const char *s)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n >= sizeof(buf))
        return "not an address";
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char a[16];
    if (inet_pton(AF_INET, buf, a) == 1)
        return v4_refusal(a);
    if (inet_pton(AF_INET6, buf, a) == 1)
        return v6_refusal(a);
    return "not an address";
}

int netaddr_check_url_form(const char *url, size_t max, int allow_private, char *host, size_t hostlen, char *why,
                           size_t whylen)
{
    int rc = -1;
    char *scheme = NULL, *h = NULL;
    CURLU *u = curl_url();
    size_t len = strlen(url);
    if (len == 0 || len > max) {
        snprintf(why, whylen, "must be a URL of 1 to %zu bytes", max);
        goto out;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            snprintf(why, whylen, "must not contain spaces or control characters");
            goto out;
        }
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h[0] == '\0') {
        snprintf(why, whylen, "must be an absolute http or https URL with a host");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(why, whylen, "must use http or https, not %.20s", scheme);
        goto out;
    }
    if (allow_private) {
        rc = 0;
        goto out;
    }
    /* an address literal is judged as written; a name by every address it has (the caller resolves) */
    const char *lit = netaddr_refusal_text(h);
    if (lit != NULL && strcmp(lit, "not an address") != 0) {
        snprintf(why, whylen,
                 "points to a %s address (%.64s); refused unless the server runs with "
                 "--webhooks-allow-private",
                 lit, h);
        goto out;
    }
    if (lit == NULL) {
        rc = 0;
        goto out;
    }
    if (strlen(h) >= hostlen) {
        snprintf(why, whylen, "has a host name longer than %zu bytes", hostlen - 1);
        goto out;
    }
    memcpy(host, h, strlen(h) + 1);
    rc = 1;
out:
    curl_free(scheme);
    curl_free(h);
    curl_url_cleanup(u);
    return rc;
}

int netaddr_check_resolved(const char *host, const struct addrinfo *res, const char *err, char *why, size_t whylen)
{
    if (res == NULL) {
        snprintf(why, whylen, "has a host name that does not resolve (%.64s: %s)", host,
                 err != NULL ? err : "no address");
        return -1;
    }
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        const char *r = netaddr_refusal(ai->ai_addr, ai->ai_addrlen);
        if (r != NULL) {
            snprintf(why, whylen,
                     "has a host name that resolves to a %s address (%.64s); refused unless the "
                     "server runs with --webhooks-allow-private",
                     r, host);
            return -1;
        }
    }
    return 0;
}

int netaddr_check_url(const char *url, size_t max, int allow_private, char *why, size_t whylen)
{
    char host[NETADDR_HOST_MAX];
    int rc = netaddr_check_url_form(url, max, allow_private, host, sizeof(host), why, whylen);
    if (rc <= 0)
        return rc;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    rc = netaddr_check_resolved(host, gai == 0 ? res : NULL, gai != 0 ? gai_strerror(gai) : NULL, why, whylen);
    if (res != NULL)
        freeaddrinfo(res);
    return rc;
}
