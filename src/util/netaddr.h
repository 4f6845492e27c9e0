/* Which IP addresses a server may send outbound requests to on a user's behalf (webhooks): a
 * classifier of addresses, v4 and v6, refusing what is not on the public internet (SSRF). */
#ifndef SYNCRUN_UTIL_NETADDR_H
#define SYNCRUN_UTIL_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* NULL when the address is public (globally routable unicast); else a short reason naming its kind:
 * "loopback", "private", "link-local", "unique-local", "carrier-grade NAT", "unspecified",
 * "multicast", "reserved". A v4-mapped or v4-compatible v6 address (::ffff:a.b.c.d, ::a.b.c.d) and
 * NAT64 (64:ff9b::a.b.c.d) are judged by their v4 address. */
const char *netaddr_refusal(const struct sockaddr *sa, size_t len);
/* The same for an address in text ("10.0.0.1", "::1", "[::1]"); "not an address" when it is none. */
const char *netaddr_refusal_text(const char *s);

struct addrinfo;

/* A host name's longest form that the checks below handle (DNS allows 253 bytes). */
enum { NETADDR_HOST_MAX = 256 };

/* Checks a URL a server is to send requests to: http or https, with a host, at most max bytes; unless
 * allow_private, every address the host resolves to must be public (as above). Resolves the name
 * (blocking, bounded by the resolver's own timeouts): for a command line; a server's event loop uses
 * the two steps below and resolves off the loop. Returns 0, or -1 with the reason in why. The sender
 * must still check the address it connects to: a name may resolve differently later. */
int netaddr_check_url(const char *url, size_t max, int allow_private, char *why, size_t whylen);
/* The first step, without resolving: 0 when the URL is acceptable as it is (allow_private, or an
 * address literal that is public), 1 when its host name (copied to host) must still be resolved and
 * judged by netaddr_check_resolved, -1 with the reason in why when it is refused. */
int netaddr_check_url_form(const char *url, size_t max, int allow_private, char *host, size_t hostlen, char *why,
                           size_t whylen);
/* The second: 0 when every address of res (host's, as resolved) is public; -1 with the reason in why
 * when one is not, or when res is NULL (the name did not resolve; err says why, or NULL). */
int netaddr_check_resolved(const char *host, const struct addrinfo *res, const char *err, char *why, size_t whylen);

#endif
