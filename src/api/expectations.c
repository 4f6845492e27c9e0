/* Expectations of a connection: validation and rendering (the checks are model/expect.c's). */
#include "api/expectations.h"

#include <stddef.h>

#include "api/render.h"
#include "model/cron.h"
#include "model/expect.h"
#include "store/store.h"
#include "util/tz.h"

static const char *const expect_members[] = {"schedule",
                                             "timezone",
                                             "interval_seconds",
                                             "grace_seconds",
                                             "min_duration_seconds",
                                             "max_duration_seconds",
                                             "watermark_stall_runs",
                                             "watermark_max_age_seconds",
                                             NULL};

/* The numeric members: null or 0 turns one off. */
static const struct {
    const char *key;
    int64_t max;
    unsigned flag;
    size_t off;
} numbers[] = {
    {"interval_seconds", EXPECT_INTERVAL_MAX_S, CONN_F_EXPECT_INTERVAL, offsetof(connection_t, expect_interval_s)},
    {"grace_seconds", EXPECT_GRACE_MAX_S, CONN_F_EXPECT_GRACE, offsetof(connection_t, expect_grace_s)},
    {"min_duration_seconds", EXPECT_DURATION_MAX_S, CONN_F_MIN_DURATION, offsetof(connection_t, min_duration_s)},
    {"max_duration_seconds", EXPECT_DURATION_MAX_S, CONN_F_MAX_DURATION, offsetof(connection_t, max_duration_s)},
    {"watermark_stall_runs", EXPECT_STALL_RUNS_MAX, CONN_F_WM_STALL_RUNS, offsetof(connection_t, wm_stall_runs)},
    {"watermark_max_age_seconds", EXPECT_AGE_MAX_S, CONN_F_WM_MAX_AGE, offsetof(connection_t, wm_max_age_s)},
};
#define NNUMBERS (sizeof(numbers) / sizeof(numbers[0]))

static int64_t *number_at(connection_t *cn, size_t i)
{
    return (int64_t *)((char *)cn + numbers[i].off);
}

static int64_t number_of(const connection_t *cn, size_t i)
{
    return *(const int64_t *)((const char *)cn + numbers[i].off);
}

static int read_members(input_t *in, connection_t *out, unsigned *mask, const connection_t *cur)
{
    const char *s = NULL;
    int rc;
    char err[160];
    if (input_known(in, expect_members) < 0)
        return -1;
    if ((rc = input_string(in, "schedule", IN_NAME_MAX, 0, 1, &s)) < 0)
        return -1;
    if (json_object_get(in->obj, "schedule") != NULL) {
        cron_spec_t spec;
        if (rc == 1 && cron_parse(s, &spec, err, sizeof(err)) != 0)
            return input_fail(in, "invalid_field", "schedule", "schedule is not a cron schedule: %s", err);
        out->expect_schedule = rc == 1 ? s : NULL;
        *mask |= CONN_F_EXPECT_SCHEDULE;
    }
    if ((rc = input_string(in, "timezone", IN_NAME_MAX, 0, 1, &s)) < 0)
        return -1;
    if (json_object_get(in->obj, "timezone") != NULL) {
        if (rc == 1) {
            tz_t *tz = tz_load(s, err, sizeof(err));
            if (tz == NULL)
                return input_fail(in, "invalid_field", "timezone", "timezone: %s", err);
            tz_free(tz);
        }
        out->expect_timezone = rc == 1 ? s : NULL;
        *mask |= CONN_F_EXPECT_TIMEZONE;
    }
    for (size_t i = 0; i < NNUMBERS; i++) {
        json_t *v = json_object_get(in->obj, numbers[i].key);
        int64_t n = 0;
        if (v == NULL)
            continue;
        if (!json_is_null(v) && input_int(in, numbers[i].key, 0, numbers[i].max, &n) < 0)
            return -1;
        *number_at(out, i) = n;
        *mask |= numbers[i].flag;
    }
    if ((*mask & CONN_F_EXPECT_SCHEDULE) && out->expect_schedule != NULL && (*mask & CONN_F_EXPECT_INTERVAL) &&
        out->expect_interval_s > 0)
        return input_fail(in, "invalid_field", "interval_seconds",
                          "give schedule or interval_seconds, not both (one replaces the other)");
    /* one replaces the other */
    if ((*mask & CONN_F_EXPECT_SCHEDULE) && out->expect_schedule != NULL) {
        out->expect_interval_s = 0;
        *mask |= CONN_F_EXPECT_INTERVAL;
    }
    if ((*mask & CONN_F_EXPECT_INTERVAL) && out->expect_interval_s > 0) {
        out->expect_schedule = NULL;
        *mask |= CONN_F_EXPECT_SCHEDULE;
    }
    /* the bounds as they will be: what was sent over what the connection has */
    int64_t min = (*mask & CONN_F_MIN_DURATION) || cur == NULL ? out->min_duration_s : cur->min_duration_s;
    int64_t max = (*mask & CONN_F_MAX_DURATION) || cur == NULL ? out->max_duration_s : cur->max_duration_s;
    if (min > 0 && max > 0 && min > max)
        return input_fail(in, "invalid_field", "min_duration_seconds",
                          "min_duration_seconds must not be above max_duration_seconds");
    return 0;
}

int expectations_read(input_t *in, connection_t *out, unsigned *mask, const connection_t *cur)
{
    json_t *v = json_object_get(in->obj, "expect");
    if (v == NULL)
        return 0;
    if (json_is_null(v)) { /* off, all of it */
        out->expect_schedule = out->expect_timezone = NULL;
        for (size_t i = 0; i < NNUMBERS; i++) {
            *number_at(out, i) = 0;
            *mask |= numbers[i].flag;
        }
        *mask |= CONN_F_EXPECT_SCHEDULE | CONN_F_EXPECT_TIMEZONE;
        return 0;
    }
    if (!json_is_object(v))
        return input_fail(in, "invalid_field", "expect", "expect must be an object or null");
    input_t ein;
    input_init(&ein, v);
    if (read_members(&ein, out, mask, cur) < 0)
        return input_adopt(in, &ein, "expect");
    return 0;
}

void expectations_render(json_t *o, const connection_t *cn)
{
    json_t *e = json_object();
    json_object_set_new(e, "schedule", render_str(cn->expect_schedule));
    json_object_set_new(e, "timezone", render_str(cn->expect_timezone));
    for (size_t i = 0; i < NNUMBERS; i++)
        json_object_set_new(e, numbers[i].key, json_integer(number_of(cn, i)));
    json_object_set_new(o, "expect", e);
    json_object_set_new(o, "expected_by", render_time(cn->late_since ? 0 : cn->expected_by));
    json_object_set_new(o, "late", json_boolean(cn->late_since != 0));
    json_object_set_new(o, "late_since", render_time(cn->late_since));
}
