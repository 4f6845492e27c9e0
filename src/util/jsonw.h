/* A streaming JSON writer for hot paths: appends compact JSON to a capped buf_t, byte for byte
 * what jansson's json_dumps(JSON_COMPACT) writes for the same values (same escapes), without
 * building a tree. Parsing stays with jansson. */
#ifndef SYNCRUN_UTIL_JSONW_H
#define SYNCRUN_UTIL_JSONW_H

#include <stdint.h>

#include "util/buf.h"

/* Writes "key": (key is a string literal; no escaping needed or done). */
#define JW_KEY(b, key) buf_add((b), "\"" key "\":", sizeof("\"" key "\":") - 1)
/* Writes a literal text as is, e.g. JW_LIT(b, "{") */
#define JW_LIT(b, text) buf_add((b), text, sizeof(text) - 1)

/* A JSON string of s (escaped), or null when s is NULL. */
void jw_str(buf_t *b, const char *s);
void jw_int(buf_t *b, int64_t v);
void jw_bool(buf_t *b, int v);
/* The ISO 8601 form of ms as a string, or null when ms is 0. */
void jw_time(buf_t *b, int64_t ms);

#endif
