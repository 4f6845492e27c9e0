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

/* '{' or '[' when s is an object or array written exactly as jansson's json_dumps(JSON_COMPACT)
 * writes the value json_loads(s, 0) reads from it (no whitespace, integers only, jansson's escapes,
 * well-formed UTF-8, no key twice in an object, nested at most JW_CANONICAL_DEPTH deep), so s can
 * be copied into an answer instead of being parsed and dumped again; 0 for anything else (which
 * may still be valid JSON: parse and dump that). */
enum { JW_CANONICAL_DEPTH = 32 };
int jw_canonical(const char *s);

#endif
