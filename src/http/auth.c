/* API-key authentication: `Authorization: Bearer <token>`, or HTTP Basic with the token as user
 * name or as password. Only the token's SHA-256 is stored and compared. */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "http/internal.h"
#include "util/timeutil.h"

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

/* Finds the key of token (or of the access token it is). A key found valid is remembered by this
 * loop until a key is revoked through this server's store (the generation changes before the
 * revoking write is answered), AUTH_CACHE_TTL_MS pass (revocations by another process) or, for an
 * access token, it expires. Unknown tokens are never remembered. */
static int lookup(http_ctx_t *c, const char *token)
{
    /* Census workspace tokens read "secret-token:<token>", and Census clients (older
     * dagster-census) add that prefix themselves to the key they are given. */
    static const char census_prefix[] = "secret-token:";
    if (token != NULL && strncmp(token, census_prefix, sizeof(census_prefix) - 1) == 0)
        token += sizeof(census_prefix) - 1;
    size_t n = token != NULL ? strlen(token) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return -1;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, to pick a slot */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
    auth_entry_t *e = &c->thread->auth_cache[h % AUTH_CACHE_SLOTS];
    uint64_t generation = store_keys_generation(c->store);
    int64_t now = time_mono_ms();
    if (e->len == n && e->generation == generation && now - e->at_ms < AUTH_CACHE_TTL_MS &&
        (e->info.expires_at == 0 || time_now_ms() < e->info.expires_at) && CRYPTO_memcmp(e->token, token, n) == 0) {
        c->key = e->info;
        return 0;
    }
    if (store_key_lookup(c->reader, token, &c->key) != STORE_OK)
        return -1;
    if (n < sizeof(e->token)) {
        memcpy(e->token, token, n);
        e->len = n;
        e->info = c->key;
        e->generation = generation;
        e->at_ms = now;
    }
    return 0;
}

int http_basic_credentials(http_ctx_t *c, const char **user, const char **password)
{
    const char *h = http_header(c, "authorization");
    if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    char *creds = arena_alloc(&c->arena, 2 * TOKEN_MAX + 2);
    long n = b64std_decode(&c->arena, h + 6, creds, 2 * TOKEN_MAX + 1);
    if (n <= 0 || memchr(creds, '\0', (size_t)n) != NULL)
        return -1;
    creds[n] = '\0';
    char *colon = strchr(creds, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    *user = creds;
    *password = colon + 1;
    return 0;
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
    } else {
        const char *user, *password;
        if (http_basic_credentials(c, &user, &password) == 0)
            ok = lookup(c, user) == 0 ? 0 : lookup(c, password);
    }
    if (ok != 0) {
        http_add_header(c, "www-authenticate", "Bearer realm=\"syncrun\"");
        http_error(c, 401, "unauthorized",
                   h == NULL ? "missing Authorization header: send 'Authorization: Bearer <token>'"
                             : "invalid credentials: the API key is unknown or revoked",
                   NULL);
        return -1;
    }
    /* A managed command's own token reaches the routes of its run only (/v1/runs/:id and below);
     * which run the path names is checked where it is resolved (api_load_run, api_run_id). */
    if (c->key.run_id != 0 && strncmp(route->pattern, "/v1/runs/:id", 12) != 0) {
        http_error(c, 403, "forbidden", "this token belongs to one run and can only read and write that run", NULL);
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
