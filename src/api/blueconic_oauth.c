/* BlueConic's OAuth 2.0 token endpoint, the client-credentials grant (RFC 6749 section 4.4) that
 * BlueConic clients run before any call:
 *   POST /rest/v2/oauth/token   (application/x-www-form-urlencoded: grant_type=client_credentials)
 * A syncrun API key is the OAuth client: client_id "syncrun-key-<key id>", client_secret the key's
 * token (stored, as ever, only as a hash), sent with HTTP Basic or in the form. The answer is a
 * bearer access token of that key: its scope, its workspace, STORE_ACCESS_TOKEN_TTL_S seconds, and
 * dead as soon as the key is revoked. Errors have OAuth's shape {"error", "error_description"}. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/blueconic.h"
#include "api/render.h"
#include "util/ids.h"

/* Every error of the route, RFC 6749 section 5.2: the code follows from the status when the layers
 * below raise it (405, 413, ...); the handler passes OAuth codes itself. */
static void oauth_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    static const char *const oauth_codes[] = {"invalid_request", "invalid_client", "unsupported_grant_type",
                                              "server_error"};
    const char *error = status == 401 ? "invalid_client" : status >= 500 ? "server_error" : "invalid_request";
    for (size_t i = 0; code != NULL && i < sizeof(oauth_codes) / sizeof(oauth_codes[0]); i++)
        if (strcmp(code, oauth_codes[i]) == 0)
            error = code;
    if (status == 401)
        http_add_header(c, "www-authenticate", "Basic realm=\"syncrun\"");
    http_add_header(c, "cache-control", "no-store");
    http_add_header(c, "pragma", "no-cache");
    http_send_json(c, status, json_pack("{s:s, s:s}", "error", error, "error_description", message));
}

const http_dialect_t blueconic_oauth_dialect = {"blueconic", oauth_send_error};

/* The key id a client_id names, or 0. */
static int64_t oauth_client_key(const char *client_id)
{
    size_t plen = strlen(BLUECONIC_CLIENT_ID_PREFIX);
    int64_t id = 0;
    if (client_id == NULL || strncmp(client_id, BLUECONIC_CLIENT_ID_PREFIX, plen) != 0 ||
        ids_parse_i64(client_id + plen, strlen(client_id + plen), 1, INT64_MAX, &id) != 0)
        return 0;
    return id;
}

static void oauth_on_token(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err == STORE_NOT_FOUND) { /* the key was revoked since it was read */
        http_error(c, 401, "invalid_client", "Client authentication failed", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        http_error(c, 500, "server_error", "The token could not be stored.", NULL);
        return;
    }
    http_add_header(c, "cache-control", "no-store");
    http_add_header(c, "pragma", "no-cache");
    http_send_json(c, 200,
                   json_pack("{s:s, s:s, s:i}", "access_token", w->token, "token_type", "Bearer", "expires_in",
                             (int)STORE_ACCESS_TOKEN_TTL_S));
}

int blueconic_oauth_token(http_ctx_t *c)
{
    const char *ctype = http_header(c, "content-type");
    static const char form[] = "application/x-www-form-urlencoded";
    if (ctype == NULL || strncasecmp(ctype, form, sizeof(form) - 1) != 0 ||
        (ctype[sizeof(form) - 1] != '\0' && ctype[sizeof(form) - 1] != ';' && ctype[sizeof(form) - 1] != ' '))
        return http_error(c, 400, "invalid_request", "The request body must be application/x-www-form-urlencoded.",
                          NULL);
    const char *grant = http_form(c, "grant_type");
    if (grant == NULL)
        return http_error(c, 400, "invalid_request", "Missing grant_type", NULL);

    /* The client authenticates with HTTP Basic or, without it, client_id + client_secret in the form. */
    const char *client_id = NULL, *secret = NULL;
    if (http_basic_credentials(c, &client_id, &secret) != 0) {
        client_id = http_form(c, "client_id");
        secret = http_form(c, "client_secret");
    }
    int64_t key_id = oauth_client_key(client_id);
    api_key_info_t key;
    memset(&key, 0, sizeof(key));
    if (key_id == 0 || secret == NULL || store_key_lookup(c->reader, secret, &key) != STORE_OK ||
        key.key_id != key_id || key.expires_at != 0 || key.run_id != 0)
        return http_error(c, 401, "invalid_client", "Client authentication failed", NULL);
    if (strcmp(grant, "client_credentials") != 0)
        return http_error(c, 400, "unsupported_grant_type", "Unsupported grant type", NULL);

    /* A requested scope (BlueConic's read:connections, ...) is not syncrun's: the token carries the
     * key's scope, and the answer names none, as BlueConic's does. */
    store_write_t *w = http_write_new(c);
    w->op = OP_ACCESS_TOKEN_CREATE;
    w->workspace_id = key.workspace_id;
    w->key_id = key.key_id;
    return http_write_submit(c, w, oauth_on_token, NULL, NULL);
}
