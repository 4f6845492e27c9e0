/* Validation of JSON request bodies: each reader checks one field's type and limits and, on
 * failure, records which field and why, so the answer can say exactly that. */
#ifndef SYNCRUN_API_INPUT_H
#define SYNCRUN_API_INPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/run.h"

typedef struct input {
    json_t *obj;
    const char *code;   /* "invalid_field", "missing_field", "unknown_field" */
    const char *field;  /* the field at fault */
    char field_buf[72]; /* holds an unknown field's name (caller text, truncated) */
    char message[256];
} input_t;

/* Limits of string fields, in characters (UTF-8 code points). */
enum { IN_NAME_MAX = RUN_NAME_MAX, IN_TEXT_MAX = RUN_TEXT_MAX, IN_DETAIL_MAX = RUN_DETAIL_MAX };

void input_init(input_t *in, json_t *obj);
/* Fails on a key not in the NULL-terminated list. */
int input_known(input_t *in, const char *const *allowed);
/* Same, for keys allowed by either of two lists. */
int input_known2(input_t *in, const char *const *allowed, const char *const *more);
/* Each returns 1 when the field is present and valid (value in *out), 0 when absent (or null where
 * null is allowed: *out is then NULL/unchanged and *is_null set), -1 on error (in has why).
 * Strings: valid UTF-8 (jansson guarantees), no NUL, at most max characters; required ones not empty. */
int input_string(input_t *in, const char *key, size_t max, int required, int nullable, const char **out);
int input_int(input_t *in, const char *key, int64_t min, int64_t max, int64_t *out);
int input_bool(input_t *in, const char *key, int *out);
/* An ISO 8601 time (null allowed when nullable: *out = 0). */
int input_time(input_t *in, const char *key, int nullable, int64_t *out);
/* A string naming an enum value, parsed with parse(); `expected` lists the accepted names. */
int input_enum(input_t *in, const char *key, int (*parse)(const char *), const char *expected, int *out);
/* A nested object (NULL when absent or null). */
int input_object(input_t *in, const char *key, json_t **out);
/* "counters": {name: integer >= 0}; sets r->counters and the RUN_F_COUNTER0 << c bits in *mask. */
int input_counters(input_t *in, const char *key, int64_t counters[CTR_COUNT], unsigned *mask);
/* Takes over the error of a nested object's reader: the field becomes "prefix.field". Returns -1. */
int input_adopt(input_t *parent, const input_t *child, const char *prefix);
/* Sets the error by hand (for checks that involve several fields). Returns -1. */
int input_fail(input_t *in, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
