/* Command, schedule and limits of a connection: validation and rendering. */
#include "api/runconfig.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "model/cron.h"
#include "store/store.h"
#include "util/tz.h"

enum {
    ARGV_MAX = 256,
    ARG_MAX_CHARS = 4096,
    ENV_MAX = 256,
    TIMEOUT_MAX_S = 7 * 86400,
    RETRY_MAX_ATTEMPTS = 100,
    BACKOFF_MAX_S = 86400,
    LOG_MIN_BYTES = 1024,
    LOG_MAX_BYTES = 64 * 1024 * 1024,
};

const char *const runconfig_fields[] = {"command",       "workdir",  "env",
                                        "schedule",      "timezone", "timeout_seconds",
                                        "retry",         "catchup",  "starting_deadline_seconds",
                                        "log_max_bytes", NULL};

static int has(const input_t *in, const char *key)
{
    return json_object_get(in->obj, key) != NULL;
}

/* command: null, or an array of 1..ARGV_MAX non-empty strings; kept as compact JSON text. */
static int read_command(input_t *in, connection_t *out, arena_t *a)
{
    json_t *v = json_object_get(in->obj, "command");
    if (json_is_null(v)) {
        out->command_json = NULL;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > ARGV_MAX)
        return input_fail(in, "invalid_field", "command",
                          "command must be an array of 1 to %d strings (the argv; no shell unless you write "
                          "[\"sh\", \"-c\", \"...\"]) or null",
                          ARGV_MAX);
    size_t i;
    json_t *arg;
    json_array_foreach(v, i, arg)
    {
        if (!json_is_string(arg) || json_string_length(arg) == 0 || json_string_length(arg) > ARG_MAX_CHARS ||
            memchr(json_string_value(arg), '\0', json_string_length(arg)) != NULL)
            return input_fail(in, "invalid_field", "command",
                              "command[%zu] must be a non-empty string of at most %d "
                              "bytes without NUL",
                              i, ARG_MAX_CHARS);
    }
    char *text = json_dumps(v, JSON_COMPACT);
    out->command_json = arena_strdup(a, text);
    free(text);
    return 0;
}

static int valid_env_name(const char *k)
{
    if (!(isalpha((unsigned char)*k) || *k == '_'))
        return 0;
    for (; *k; k++)
        if (!(isalnum((unsigned char)*k) || *k == '_'))
            return 0;
    return 1;
}

static int read_env(input_t *in, connection_t *out, arena_t *a)
{
    json_t *v = json_object_get(in->obj, "env");
    if (json_is_null(v)) {
        out->env_json = NULL;
        return 0;
    }
    if (!json_is_object(v) || json_object_size(v) > ENV_MAX)
        return input_fail(in, "invalid_field", "env", "env must be an object of at most %d NAME: \"value\" pairs",
                          ENV_MAX);
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!valid_env_name(k) || strlen(k) > 128)
            return input_fail(in, "invalid_field", "env", "env has an invalid variable name \"%.64s\"", k);
        if (!json_is_string(val) || json_string_length(val) > ARG_MAX_CHARS ||
            memchr(json_string_value(val), '\0', json_string_length(val)) != NULL)
            return input_fail(in, "invalid_field", "env", "env.%.64s must be a string without NUL", k);
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    out->env_json = arena_strdup(a, text);
    free(text);
    return 0;
}

static int read_schedule(input_t *in, connection_t *out, unsigned *mask)
{
    const char *s = NULL;
    int rc, catchup;
    int64_t n;
    if ((rc = input_string(in, "schedule", IN_NAME_MAX, 0, 1, &s)) < 0)
        return -1;
    if (rc == 1) {
        cron_spec_t spec;
        char err[160];
        if (cron_parse(s, &spec, err, sizeof(err)) != 0)
            return input_fail(in, "invalid_field", "schedule", "schedule is not a cron schedule: %s", err);
        out->schedule = s;
    } else if (has(in, "schedule")) {
        out->schedule = NULL;
    }
    if (has(in, "schedule"))
        *mask |= CONN_F_SCHEDULE;
    if ((rc = input_string(in, "timezone", IN_NAME_MAX, 0, 1, &s)) < 0)
        return -1;
    if (rc == 1) {
        char err[160];
        tz_t *tz = tz_load(s, err, sizeof(err));
        if (tz == NULL)
            return input_fail(in, "invalid_field", "timezone", "timezone: %s", err);
        tz_free(tz);
        out->timezone = s;
    } else if (has(in, "timezone")) {
        out->timezone = NULL;
    }
    if (has(in, "timezone"))
        *mask |= CONN_F_TIMEZONE;
    if ((rc = input_enum(in, "catchup", catchup_parse, "latest, none", &catchup)) < 0)
        return -1;
    if (rc == 1) {
        out->catchup = (catchup_policy_t)catchup;
        *mask |= CONN_F_CATCHUP;
    }
    if ((rc = input_int(in, "starting_deadline_seconds", 0, 366LL * 86400, &n)) < 0)
        return -1;
    if (rc == 1) {
        out->starting_deadline_s = n;
        *mask |= CONN_F_DEADLINE;
    }
    return 0;
}

static int read_limits(input_t *in, connection_t *out, unsigned *mask)
{
    int64_t n;
    int rc;
    json_t *retry;
    if ((rc = input_int(in, "timeout_seconds", 0, TIMEOUT_MAX_S, &n)) < 0)
        return -1;
    if (rc == 1) {
        out->timeout_s = n;
        *mask |= CONN_F_TIMEOUT;
    }
    if ((rc = input_int(in, "log_max_bytes", LOG_MIN_BYTES, LOG_MAX_BYTES, &n)) < 0)
        return -1;
    if (rc == 1) {
        out->log_max_bytes = n;
        *mask |= CONN_F_LOG_MAX;
    }
    if (input_object(in, "retry", &retry) < 0)
        return -1;
    if (retry != NULL) {
        static const char *const fields[] = {"max_attempts", "backoff_seconds", NULL};
        input_t rin;
        input_init(&rin, retry);
        if (input_known(&rin, fields) < 0 || (rc = input_int(&rin, "max_attempts", 1, RETRY_MAX_ATTEMPTS, &n)) < 0)
            return input_adopt(in, &rin, "retry");
        if (rc == 1) {
            out->retry_max = n - 1;
            *mask |= CONN_F_RETRY_MAX;
        }
        if ((rc = input_int(&rin, "backoff_seconds", 1, BACKOFF_MAX_S, &n)) < 0)
            return input_adopt(in, &rin, "retry");
        if (rc == 1) {
            out->retry_backoff_s = n;
            *mask |= CONN_F_RETRY_BACKOFF;
        }
    }
    return 0;
}

int runconfig_read(input_t *in, int create, connection_t *out, unsigned *mask, arena_t *a)
{
    if (create) {
        out->retry_backoff_s = 30;
        out->log_max_bytes = STORE_LOG_DEFAULT_BYTES;
        out->catchup = CATCHUP_LATEST;
    }
    if (has(in, "command") && read_command(in, out, a) < 0)
        return -1;
    if (has(in, "command"))
        *mask |= CONN_F_COMMAND;
    if (has(in, "env") && read_env(in, out, a) < 0)
        return -1;
    if (has(in, "env"))
        *mask |= CONN_F_ENV;
    if (has(in, "workdir")) {
        int rc = input_string(in, "workdir", ARG_MAX_CHARS, 0, 1, &out->workdir);
        if (rc < 0)
            return -1;
        if (rc == 0)
            out->workdir = NULL;
        if (out->workdir != NULL && out->workdir[0] != '/')
            return input_fail(in, "invalid_field", "workdir", "workdir must be an absolute path");
        *mask |= CONN_F_WORKDIR;
    }
    if (read_schedule(in, out, mask) < 0 || read_limits(in, out, mask) < 0)
        return -1;
    return 0;
}

void runconfig_render(json_t *o, const connection_t *cn)
{
    json_t *cmd = cn->command_json ? json_loads(cn->command_json, 0, NULL) : NULL;
    json_t *env = cn->env_json ? json_loads(cn->env_json, 0, NULL) : NULL;
    json_object_set_new(o, "command", cmd ? cmd : json_null());
    json_object_set_new(o, "workdir", render_str(cn->workdir));
    json_object_set_new(o, "env", env ? env : json_null());
    json_object_set_new(o, "schedule", render_str(cn->schedule));
    json_object_set_new(o, "timezone", render_str(cn->timezone ? cn->timezone : (cn->schedule ? "UTC" : NULL)));
    json_object_set_new(o, "catchup", json_string(catchup_name(cn->catchup)));
    json_object_set_new(o, "starting_deadline_seconds", json_integer(cn->starting_deadline_s));
    json_object_set_new(o, "timeout_seconds", json_integer(cn->timeout_s));
    json_object_set_new(o, "retry",
                        json_pack("{s:I, s:I}", "max_attempts", (json_int_t)cn->retry_max + 1, "backoff_seconds",
                                  (json_int_t)cn->retry_backoff_s));
    json_object_set_new(o, "log_max_bytes", json_integer(cn->log_max_bytes));
    json_object_set_new(o, "next_run_at", cn->schedule ? render_time(cn->next_fire_at) : json_null());
}
