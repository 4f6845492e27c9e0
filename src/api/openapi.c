/* GET /openapi.yaml: the OpenAPI document of every route, and GET /rest/v2/openapi.json, BlueConic's
 * part of it in BlueConic's terms; embedded in the binary at build time (the Makefile rebuilds this
 * file when they change) and served from memory. */
#include "api/api.h"
#include "util/embed.h"

EMBED_FILE(openapi_yaml, "openapi.yaml");

int api_openapi(http_ctx_t *c)
{
    return http_send_raw(c, 200, "application/yaml", openapi_yaml, (size_t)openapi_yaml_size);
}

/* What syncrun serves of BlueConic's REST API v2, as BlueConic publishes its own document at
 * /rest/v2/openapi.json (clients such as BlueConic's MCP server build their tools from it). */
EMBED_FILE(blueconic_openapi, "docs/blueconic-openapi.json");

int api_blueconic_openapi(http_ctx_t *c)
{
    return http_send_raw(c, 200, "application/json", blueconic_openapi, (size_t)blueconic_openapi_size);
}
