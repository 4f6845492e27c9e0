/* The import endpoint and the helpers the dialects' parsers share. */
#include "api/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "util/timeutil.h"

static const import_format_t formats[] = {
    {"census", census_import_parse},
    {"itwin", itwin_import_parse},
    {"braze", braze_import_parse},
    {"blueconic", blueconic_import_parse},
    /* the other dialects' parsers are registered here as they land */
};

const import_format_t *import_format_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

const char *import_format_names(void)
{
    return "census, braze, blueconic, itwin";
}

int import_fail(input_t *err, const char *list, int i, const char *key, const char *fmt, ...)
{
    if (key != NULL)
        snprintf(err->field_buf, sizeof(err->field_buf), "%s[%d].%.40s", list, i, key);
    else
        snprintf(err->field_buf, sizeof(err->field_buf), "%s[%d]", list, i);
    err->field = err->field_buf;
    err->code = "invalid_field";
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err->message, sizeof(err->message), "%.60s: %.180s", err->field_buf, msg);
    return -1;
}

/* The member `key` of item: 1 present, 0 absent or null (allowed unless required), -1 error. */
static int member(input_t *err, json_t *item, const char *list, int i, const char *key, int required, json_t **v)
{
    *v = json_object_get(item, key);
    if (*v == NULL || json_is_null(*v)) {
        if (required)
            return import_fail(err, list, i, key, "is required");
        return 0;
    }
    return 1;
}

int import_string(input_t *err, json_t *item, const char *list, int i, const char *key, size_t max, int required,
                  const char **out)
{
    json_t *v;
    int rc = member(err, item, list, i, key, required, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)) != NULL)
        return import_fail(err, list, i, key, "must be a string");
    if (json_string_length(v) > max)
        return import_fail(err, list, i, key, "is longer than %zu bytes", max);
    *out = json_string_value(v);
    return 1;
}

int import_time(input_t *err, json_t *item, const char *list, int i, const char *key, int required, int64_t *out)
{
    json_t *v;
    int rc = member(err, item, list, i, key, required, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v) || time_parse_iso(json_string_value(v), out) != 0 || *out <= 0)
        return import_fail(err, list, i, key, "must be an ISO 8601 time such as 2021-10-20T02:51:07.546Z");
    return 1;
}

int import_int(input_t *err, json_t *item, const char *list, int i, const char *key, int64_t min, int64_t max,
               int required, int64_t *out)
{
    json_t *v;
    int rc = member(err, item, list, i, key, required, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return import_fail(err, list, i, key, "must be an integer from %lld to %lld", (long long)min, (long long)max);
    *out = json_integer_value(v);
    return 1;
}

int import_bool(input_t *err, json_t *item, const char *list, int i, const char *key, int required, int *out)
{
    json_t *v;
    int rc = member(err, item, list, i, key, required, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return import_fail(err, list, i, key, "must be true or false");
    *out = json_is_true(v);
    return 1;
}

json_t *import_array(input_t *err, json_t *doc, const char *key, size_t max)
{
    json_t *v = json_object_get(doc, key);
    if (!json_is_array(v)) {
        input_fail(err, v == NULL ? "missing_field" : "invalid_field", key, "%s must be an array of runs", key);
        return NULL;
    }
    if (json_array_size(v) > max) {
        input_fail(err, "invalid_field", key, "%s has more than %zu runs; import them in parts", key, max);
        return NULL;
    }
    return v;
}

static void on_imported(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err != STORE_OK) {
        if (w->err == STORE_BAD_STATE)
            http_error(c, 422, "invalid_field", "a run of the document has inconsistent fields", w->err_field);
        else
            api_store_error(c, w->err, w->err_field);
        return;
    }
    http_send_json(c, 200,
                   json_pack("{s:s, s:i, s:i}", "format", (const char *)data, "imported", w->imported, "existing",
                             w->import_existing));
}

int native_run_import(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    const char *fname = http_query(c, "format");
    const import_format_t *f = import_format_find(fname);
    if (f == NULL) {
        char msg[128];
        snprintf(msg, sizeof(msg), "format must be one of %s", import_format_names());
        return http_error(c, 400, fname ? "invalid_query" : "missing_query", msg, "format");
    }
    json_t *doc = http_body_json(c, 0);
    if (doc == NULL)
        return 0;
    input_t err;
    input_init(&err, doc);
    store_write_t *w = http_write_new(c);
    w->op = OP_RUN_IMPORT;
    w->workspace_id = c->key.workspace_id;
    w->id = cn.id;
    if (f->parse(doc, &c->arena, &w->imports, &w->nimports, &err) != 0) {
        http_error(c, 422, err.code ? err.code : "invalid_field", err.message, err.field);
        json_decref(doc);
        return 0;
    }
    return http_write_submit(c, w, on_imported, (void *)f->name, doc);
}
