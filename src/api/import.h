/* Importing a vendor's run history: each dialect parses its own list response into canonical
 * runs; this module maps a format name to its parser and serves the import endpoint. */
#ifndef SYNCRUN_API_IMPORT_H
#define SYNCRUN_API_IMPORT_H

#include <jansson.h>

#include "api/input.h"
#include "store/store.h"

/* Parses `doc` (the vendor's list response) into runs allocated in `a`. Every run gets an
 * external_id (the vendor's id, or one derived from its fields when the vendor has none) and,
 * where the dialect renders vendor text back verbatim, `external`. On invalid input returns -1
 * with `err` naming the first bad field as a path such as "runs[3].startDate". */
typedef int (*import_parse_fn)(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err);

typedef struct import_format {
    const char *name;
    import_parse_fn parse;
} import_format_t;

/* NULL when no format has this name. */
const import_format_t *import_format_find(const char *name);
/* "census, braze, blueconic, itwin" */
const char *import_format_names(void);

/* The parsers, one per dialect file. */
int census_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err);
int braze_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err);
int blueconic_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err);
int itwin_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err);

/* Helpers for parsers: read a field of item i of the array named `list` with a path-shaped error
 * field ("list[i].key"). Same return convention as the input_* readers. */
int import_string(input_t *err, json_t *item, const char *list, int i, const char *key, size_t max, int required,
                  const char **out);
int import_time(input_t *err, json_t *item, const char *list, int i, const char *key, int required, int64_t *out);
int import_int(input_t *err, json_t *item, const char *list, int i, const char *key, int64_t min, int64_t max,
               int required, int64_t *out);
int import_bool(input_t *err, json_t *item, const char *list, int i, const char *key, int required, int *out);
/* Fails with the field "list[i].key" (or "list[i]" when key is NULL). Returns -1. */
int import_fail(input_t *err, const char *list, int i, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The array `key` of doc, with at most `max` items; -1 with err set when missing or not an array. */
json_t *import_array(input_t *err, json_t *doc, const char *key, size_t max);

enum { IMPORT_MAX_RUNS = 10000 };

#endif
