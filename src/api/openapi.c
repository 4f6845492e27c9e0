/* GET /openapi.yaml: the OpenAPI document of every route, embedded in the binary at build time
 * (the Makefile rebuilds this file when openapi.yaml changes) and served from memory. */
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
