/* GET /openapi.yaml: the OpenAPI document of every route, and GET /rest/v2/openapi.json, BlueConic's
 * part of it in BlueConic's terms; embedded in the binary at build time (the Makefile rebuilds this
 * file when they change) and served from memory. */
#include "api/api.h"

/* The document's bytes, [openapi_yaml_start, openapi_yaml_end), in .rodata. The path is relative to
 * the repository root, where make runs the compiler. */
__asm__(".section .rodata\n"
        ".global openapi_yaml_start\n"
        ".type openapi_yaml_start, @object\n"
        "openapi_yaml_start:\n"
        ".incbin \"openapi.yaml\"\n"
        ".global openapi_yaml_end\n"
        ".type openapi_yaml_end, @object\n"
        "openapi_yaml_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char openapi_yaml_start[];
extern const char openapi_yaml_end[];

int api_openapi(http_ctx_t *c)
{
    return http_send_raw(c, 200, "application/yaml", openapi_yaml_start,
                         (size_t)(openapi_yaml_end - openapi_yaml_start));
}

/* What syncrun serves of BlueConic's REST API v2, as BlueConic publishes its own document at
 * /rest/v2/openapi.json (clients such as BlueConic's MCP server build their tools from it). */
__asm__(".section .rodata\n"
        ".global blueconic_openapi_start\n"
        ".type blueconic_openapi_start, @object\n"
        "blueconic_openapi_start:\n"
        ".incbin \"docs/blueconic-openapi.json\"\n"
        ".global blueconic_openapi_end\n"
        ".type blueconic_openapi_end, @object\n"
        "blueconic_openapi_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char blueconic_openapi_start[];
extern const char blueconic_openapi_end[];

int api_blueconic_openapi(http_ctx_t *c)
{
    return http_send_raw(c, 200, "application/json", blueconic_openapi_start,
                         (size_t)(blueconic_openapi_end - blueconic_openapi_start));
}
