/* JSON body field readers with precise errors. */
#include "api/input.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/timeutil.h"
#include "util/utf8.h"

void input_init(input_t *in, json_t *obj)
{
    memset(in, 0, sizeof(*in));
    in->obj = obj;
}

int input_fail(input_t *in, const char *code, const char *field, const char *fmt, ...)
{
    in->code = code;
    in->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->message, sizeof(in->message), fmt, ap);
    va_end(ap);
    return -1;
}

int input_adopt(input_t *parent, const input_t *child, const char *prefix)
{
    parent->code = child->code;
    snprintf(parent->message, sizeof(parent->message), "%.32s: %.200s", prefix, child->message);
    snprintf(parent->field_buf, sizeof(parent->field_buf), "%s%s%.64s", prefix, child->field ? "." : "",
             child->field ? child->field : "");
    parent->field = parent->field_buf;
    return -1;
}

int input_known(input_t *in, const char *const *allowed)
{
    return input_known2(in, allowed, NULL);
}

static int listed(const char *const *list, const char *key)
{
    for (const char *const *a = list; a != NULL && *a != NULL; a++)
        if (strcmp(*a, key) == 0)
            return 1;
    return 0;
}

int input_known2(input_t *in, const char *const *allowed, const char *const *more)
{
    const char *key;
    json_t *v;
    json_object_foreach(in->obj, key, v)
    {
        if (!listed(allowed, key) && !listed(more, key)) {
            /* the key is caller text: report it bounded */
            snprintf(in->field_buf, sizeof(in->field_buf), "%.64s", key);
            return input_fail(in, "unknown_field", in->field_buf, "unknown field \"%.64s\"", key);
        }
    }
    return 0;
}

/* Fetches key: 1 present (and not null unless null is passed through), 0 absent, -1 null when
 * not nullable or missing when required. */
static int get(input_t *in, const char *key, int required, int nullable, json_t **v)
{
    *v = json_object_get(in->obj, key);
    if (*v == NULL || (json_is_null(*v) && nullable)) {
        if (*v == NULL && required)
            return input_fail(in, "missing_field", key, "%s is required", key);
        return 0;
    }
    if (json_is_null(*v))
        return input_fail(in, "invalid_field", key, "%s cannot be null", key);
    return 1;
}

int input_string(input_t *in, const char *key, size_t max, int required, int nullable, const char **out)
{
    json_t *v;
    int rc = get(in, key, required, nullable, &v);
    if (rc <= 0) {
        if (rc == 0 && v != NULL)
            *out = NULL;
        return rc;
    }
    if (!json_is_string(v))
        return input_fail(in, "invalid_field", key, "%s must be a string", key);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', len) != NULL)
        return input_fail(in, "invalid_field", key, "%s must not contain NUL characters", key);
    if (required && len == 0)
        return input_fail(in, "invalid_field", key, "%s must not be empty", key);
    /* Limits count characters (UTF-8 code points), as a user counts them; jansson has checked
     * that the string is valid UTF-8. */
    if (utf8_chars(s) > max)
        return input_fail(in, "invalid_field", key, "%s is longer than %zu characters", key, max);
    *out = s;
    return 1;
}

int input_int(input_t *in, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_t *v;
    int rc = get(in, key, 0, 0, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v))
        return input_fail(in, "invalid_field", key, "%s must be an integer", key);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return input_fail(in, "invalid_field", key, "%s must be from %lld to %lld", key, (long long)min,
                          (long long)max);
    *out = n;
    return 1;
}

int input_bool(input_t *in, const char *key, int *out)
{
    json_t *v;
    int rc = get(in, key, 0, 0, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return input_fail(in, "invalid_field", key, "%s must be true or false", key);
    *out = json_is_true(v);
    return 1;
}

int input_time(input_t *in, const char *key, int nullable, int64_t *out)
{
    json_t *v;
    int rc = get(in, key, 0, nullable, &v);
    if (rc <= 0) {
        if (rc == 0 && v != NULL)
            *out = 0;
        return rc == 0 && v != NULL ? 1 : rc;
    }
    int64_t ms;
    if (!json_is_string(v) || time_parse_iso(json_string_value(v), &ms) != 0 || ms <= 0)
        return input_fail(in, "invalid_field", key, "%s must be an ISO 8601 time such as 2026-01-31T12:00:00.000Z",
                          key);
    *out = ms;
    return 1;
}

int input_enum(input_t *in, const char *key, int (*parse)(const char *), const char *expected, int *out)
{
    json_t *v;
    int rc = get(in, key, 0, 0, &v);
    if (rc <= 0)
        return rc;
    int e = json_is_string(v) ? parse(json_string_value(v)) : -1;
    if (e < 0)
        return input_fail(in, "invalid_field", key, "%s must be one of %s", key, expected);
    *out = e;
    return 1;
}

int input_object(input_t *in, const char *key, json_t **out)
{
    json_t *v;
    *out = NULL;
    int rc = get(in, key, 0, 1, &v);
    if (rc <= 0)
        return rc;
    if (!json_is_object(v))
        return input_fail(in, "invalid_field", key, "%s must be an object", key);
    *out = v;
    return 1;
}

int input_counters(input_t *in, const char *key, int64_t counters[CTR_COUNT], unsigned *mask)
{
    json_t *obj;
    int rc = input_object(in, key, &obj);
    if (rc <= 0)
        return rc;
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        int c = counter_parse(name);
        if (c < 0)
            return input_fail(in, "unknown_field", key, "%s has an unknown counter \"%.64s\"", key, name);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return input_fail(in, "invalid_field", counter_name((counter_t)c), "%s.%s must be an integer of at least 0",
                              key, name);
        counters[c] = json_integer_value(v);
        *mask |= 1u << (8 + c);
    }
    return 1;
}
