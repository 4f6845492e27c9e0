/* API-key authentication: `Authorization: Bearer <token>`, or HTTP Basic with the token as user
 * name or as password. Only the token's SHA-256 is stored and compared. */
#include <string.h>
#include <strings.h>

#include "http/internal.h"

enum { TOKEN_MAX = 256 };

/* Decodes standard base64 (with or without padding) into out; -1 if invalid. */
static long b64std_decode(arena_t *a, const char *s, char *out, size_t outcap)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=')
        n--;
    char *t = arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '+')
            t[i] = '-';
        else if (t[i] == '/')
            t[i] = '_';
        else if (t[i] == '-' || t[i] == '_')
            return -1;
    }
    return ids_b64url_decode(t, n, out, outcap);
}

static int lookup(http_ctx_t *c, const char *token)
{
    if (token == NULL || *token == '\0' || strlen(token) > TOKEN_MAX)
        return -1;
    return store_key_lookup(c->reader, token, &c->key) == STORE_OK ? 0 : -1;
}

int http_authenticate(http_ctx_t *c, const http_route_t *route)
{
    const char *h = http_header(c, "authorization");
    int ok = -1;
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *tok = h + 7;
        while (*tok == ' ')
            tok++;
        ok = lookup(c, tok);
    } else if (h != NULL && strncasecmp(h, "Basic ", 6) == 0) {
        char creds[2 * TOKEN_MAX + 2];
        long n = b64std_decode(&c->arena, h + 6, creds, sizeof(creds) - 1);
        if (n > 0 && memchr(creds, '\0', (size_t)n) == NULL) {
            creds[n] = '\0';
            char *colon = strchr(creds, ':');
            if (colon != NULL) {
                *colon = '\0';
                ok = lookup(c, creds) == 0 ? 0 : lookup(c, colon + 1);
            }
        }
    }
    if (ok != 0) {
        http_add_header(c, "www-authenticate", "Bearer realm=\"syncrun\"");
        http_error(c, 401, "unauthorized",
                   h == NULL ? "missing Authorization header: send 'Authorization: Bearer <token>'"
                             : "invalid credentials: the API key is unknown or revoked",
                   NULL);
        return -1;
    }
    if (!scope_allows(c->key.scope, route->scope)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "this API key has scope %s; this request needs %s", scope_name(c->key.scope),
                 scope_name(route->scope));
        http_error(c, 403, "forbidden", msg, NULL);
        return -1;
    }
    return 0;
}
