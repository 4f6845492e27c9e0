/* The progress protocol (JSON lines on fd 3): a strict parser for one line, a bounded line
 * splitter for the pipe's byte stream, and a tail buffer for the run log. */
#include "exec/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/timeutil.h"
#include "util/utf8.h"

/* Limits of string fields, in characters (UTF-8 code points), as the native API's. */
enum { PG_NAME_MAX = RUN_NAME_MAX, PG_TEXT_MAX = RUN_TEXT_MAX, PG_RETRIES_MAX = 1000000 };

/* Unknown keys are caller text: quote at most this many bytes of one. */
#define KEY_FMT "'%.64s'"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A string field of at most max characters; `where` names it in errors ("step", "job.name"). */
static int check_string(json_t *v, const char *where, size_t max, int nonempty, char *err, size_t errlen)
{
    if (!json_is_string(v))
        return fail(err, errlen, "%s: expected a string", where);
    const char *s = json_string_value(v);
    if (nonempty && s[0] == '\0')
        return fail(err, errlen, "%s: must not be empty", where);
    if (utf8_chars(s) > max)
        return fail(err, errlen, "%s: longer than %zu characters", where, max);
    return 0;
}

static int check_int(json_t *v, const char *where, int64_t min, int64_t max, char *err, size_t errlen)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return fail(err, errlen, "%s: expected an integer from %lld to %lld", where, (long long)min, (long long)max);
    return 0;
}

static int in_list(const char *key, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strcmp(key, *names) == 0)
            return 1;
    return 0;
}

static int check_known(json_t *obj, const char *where, const char *const *names, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!in_list(key, names))
            return fail(err, errlen, "%s: unknown key " KEY_FMT, where, key);
    }
    return 0;
}

/* state (queued | working | finished) and result of a job or task: a finished unit needs a
 * result, an unfinished one has none. */
static int check_unit_state(json_t *obj, const char *where, char *err, size_t errlen)
{
    json_t *sv = json_object_get(obj, "state"), *rv = json_object_get(obj, "result");
    int st = -1;
    if (sv != NULL) {
        st = json_is_string(sv) ? run_state_parse(json_string_value(sv)) : -1;
        if (st < 0 || st == RUN_RETRYING)
            return fail(err, errlen, "%s.state: expected queued, working or finished", where);
    }
    if (rv != NULL) {
        int r = json_is_string(rv) ? run_result_parse(json_string_value(rv)) : -1;
        if (r <= RESULT_NONE)
            return fail(err, errlen,
                        "%s.result: expected success, partial, error, config_error, timed_out, canceled or skipped",
                        where);
        if (st != RUN_FINISHED)
            return fail(err, errlen, "%s.result: only allowed with state finished", where);
    }
    if (st == RUN_FINISHED && rv == NULL)
        return fail(err, errlen, "%s: state finished needs a result", where);
    return 0;
}

static int check_job(json_t *job, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "state", "result", "connector_type", "phase", NULL};
    if (!json_is_object(job))
        return fail(err, errlen, "job: expected an object");
    if (check_known(job, "job", keys, err, errlen) < 0)
        return -1;
    json_t *name = json_object_get(job, "name");
    if (name == NULL)
        return fail(err, errlen, "job: missing name");
    if (check_string(name, "job.name", PG_NAME_MAX, 1, err, errlen) < 0)
        return -1;
    json_t *v;
    if ((v = json_object_get(job, "connector_type")) != NULL &&
        check_string(v, "job.connector_type", PG_NAME_MAX, 0, err, errlen) < 0)
        return -1;
    if ((v = json_object_get(job, "phase")) != NULL && check_string(v, "job.phase", PG_NAME_MAX, 0, err, errlen) < 0)
        return -1;
    return check_unit_state(job, "job", err, errlen);
}

/* The iTwin task-error object, as the native API accepts it. */
static int check_task_error(json_t *e, char *err, size_t errlen)
{
    char where[48];
    if (!json_is_object(e))
        return fail(err, errlen, "task.error: expected an object");
    if (check_known(e, "task.error", task_error_fields, err, errlen) < 0)
        return -1;
    for (const char *const *k = task_error_text_fields; *k != NULL; k++) {
        json_t *v = json_object_get(e, *k);
        snprintf(where, sizeof(where), "task.error.%s", *k);
        if (v != NULL && check_string(v, where, PG_TEXT_MAX, 0, err, errlen) < 0)
            return -1;
    }
    json_t *v = json_object_get(e, "canUserFix");
    if (v != NULL && !json_is_boolean(v))
        return fail(err, errlen, "task.error.canUserFix: expected true or false");
    v = json_object_get(e, "bridgeExitCode");
    if (v != NULL && check_int(v, "task.error.bridgeExitCode", INT32_MIN, INT32_MAX, err, errlen) < 0)
        return -1;
    return 0;
}

static int check_task_report(json_t *r, char *err, size_t errlen)
{
    static const char *const keys[] = {"message", "suggested_action", "errors", "warnings", "other", NULL};
    static const char *const counts[] = {"errors", "warnings", "other", NULL};
    char where[48];
    if (!json_is_object(r))
        return fail(err, errlen, "task.report: expected an object");
    if (check_known(r, "task.report", keys, err, errlen) < 0)
        return -1;
    json_t *v = json_object_get(r, "message");
    if (v != NULL && check_string(v, "task.report.message", PG_TEXT_MAX, 0, err, errlen) < 0)
        return -1;
    v = json_object_get(r, "suggested_action");
    if (v != NULL && (!json_is_string(v) || !in_list(json_string_value(v), report_suggested_actions)))
        return fail(err, errlen, "task.report.suggested_action: expected Error, Warning or Info");
    for (const char *const *k = counts; *k != NULL; k++) {
        snprintf(where, sizeof(where), "task.report.%s", *k);
        if ((v = json_object_get(r, *k)) != NULL && check_int(v, where, 0, INT64_MAX, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int check_task(json_t *task, char *err, size_t errlen)
{
    static const char *const keys[] = {"job",   "source_file_id", "state", "result", "retry_attempts",
                                       "error", "report",         NULL};
    if (!json_is_object(task))
        return fail(err, errlen, "task: expected an object");
    if (check_known(task, "task", keys, err, errlen) < 0)
        return -1;
    json_t *v;
    if ((v = json_object_get(task, "job")) == NULL)
        return fail(err, errlen, "task: missing job");
    if (check_string(v, "task.job", PG_NAME_MAX, 1, err, errlen) < 0)
        return -1;
    if ((v = json_object_get(task, "source_file_id")) == NULL)
        return fail(err, errlen, "task: missing source_file_id");
    if (check_string(v, "task.source_file_id", PG_NAME_MAX, 1, err, errlen) < 0)
        return -1;
    if ((v = json_object_get(task, "retry_attempts")) != NULL &&
        check_int(v, "task.retry_attempts", 0, PG_RETRIES_MAX, err, errlen) < 0)
        return -1;
    if ((v = json_object_get(task, "error")) != NULL && check_task_error(v, err, errlen) < 0)
        return -1;
    if ((v = json_object_get(task, "report")) != NULL && check_task_report(v, err, errlen) < 0)
        return -1;
    return check_unit_state(task, "task", err, errlen);
}

static int parse_counters(json_t *obj, progress_update_t *u, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return fail(err, errlen, "counters: expected an object of counter names to integers");
    json_object_foreach(obj, key, v)
    {
        int c = counter_parse(key);
        if (c < 0)
            return fail(err, errlen, "counters: unknown counter " KEY_FMT, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return fail(err, errlen, "counters.%s: expected an integer >= 0", key);
        u->counters[c] = json_integer_value(v);
        u->mask |= (unsigned)RUN_F_COUNTER0 << c;
    }
    return 0;
}

static int parse_fields(json_t *doc, progress_update_t *u, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    if (!json_is_object(doc))
        return fail(err, errlen, "expected a JSON object");
    if (json_object_size(doc) == 0)
        return fail(err, errlen, "empty object: expected step, counters, watermark, message, job or task");
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "step") == 0) {
            if (check_string(v, "step", PG_NAME_MAX, 0, err, errlen) < 0)
                return -1;
            u->step = json_string_value(v);
            u->mask |= RUN_F_STEP;
        } else if (strcmp(key, "counters") == 0) {
            if (parse_counters(v, u, err, errlen) < 0)
                return -1;
        } else if (strcmp(key, "watermark") == 0) {
            if (!json_is_string(v) || time_parse_iso(json_string_value(v), &u->watermark) != 0)
                return fail(err, errlen, "watermark: expected an ISO 8601 time such as 2026-11-20T10:00:00Z");
            u->mask |= RUN_F_WATERMARK;
        } else if (strcmp(key, "message") == 0) {
            if (check_string(v, "message", PG_TEXT_MAX, 0, err, errlen) < 0)
                return -1;
            u->message = json_string_value(v);
            u->mask |= RUN_F_MESSAGE;
        } else if (strcmp(key, "job") == 0) {
            if (check_job(v, err, errlen) < 0)
                return -1;
            u->job = v;
        } else if (strcmp(key, "task") == 0) {
            if (check_task(v, err, errlen) < 0)
                return -1;
            u->task = v;
        } else {
            return fail(err, errlen, "unknown key " KEY_FMT, key);
        }
    }
    return 0;
}

int progress_parse_line(const char *line, size_t len, progress_update_t *out, char *err, size_t errlen)
{
    json_error_t je;
    memset(out, 0, sizeof(*out));
    if (len > PROGRESS_LINE_MAX)
        return fail(err, errlen, "line longer than %d bytes", PROGRESS_LINE_MAX);
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return fail(err, errlen, "empty line");
    json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (doc == NULL)
        return fail(err, errlen, "invalid JSON at column %d: %s", je.column, je.text);
    out->doc = doc;
    if (parse_fields(doc, out, err, errlen) < 0) {
        progress_update_release(out);
        return -1;
    }
    return 0;
}

void progress_update_release(progress_update_t *u)
{
    json_decref(u->doc);
    memset(u, 0, sizeof(*u));
}

/* ---- line splitter ----------------------------------------------------------------------- */

/* The buffer holds at most PROGRESS_LINE_MAX + 1 bytes: a line of the maximum length may still be
 * followed by the '\r' of a CRLF. */
enum { SPLIT_CAP = PROGRESS_LINE_MAX + 1 };

typedef void (*on_line_fn)(void *ctx, const char *line, size_t len, int too_long);

static void deliver(const char *line, size_t len, on_line_fn on_line, void *ctx)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > PROGRESS_LINE_MAX)
        on_line(ctx, line, PROGRESS_LINE_MAX, 1);
    else
        on_line(ctx, line, len, 0);
}

/* Appends to the partial line; returns -1 if the buffer cannot grow (memory). */
static int split_append(line_splitter_t *ls, const char *data, size_t n)
{
    if (ls->len + n > ls->cap) {
        size_t cap = ls->cap ? ls->cap : 256;
        while (cap < ls->len + n)
            cap *= 2;
        if (cap > SPLIT_CAP)
            cap = SPLIT_CAP;
        char *b = realloc(ls->buf, cap);
        if (b == NULL)
            return -1;
        ls->buf = b;
        ls->cap = cap;
    }
    memcpy(ls->buf + ls->len, data, n);
    ls->len += n;
    return 0;
}

void line_splitter_feed(line_splitter_t *ls, const char *data, size_t n, on_line_fn on_line, void *ctx)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t seg = nl != NULL ? (size_t)(nl - data) : n; /* bytes before the newline */
        size_t used = nl != NULL ? seg + 1 : n;
        if (ls->overflow) {
            /* discarding the rest of a line already reported as too long */
        } else if (ls->len == 0 && nl != NULL) {
            deliver(data, seg, on_line, ctx); /* a whole line in this chunk: no copy */
        } else {
            size_t room = SPLIT_CAP - ls->len;
            size_t take = seg < room ? seg : room;
            if (split_append(ls, data, take) != 0 || take < seg) {
                /* Past the limit (or out of memory): report what is kept, cut. */
                on_line(ctx, ls->buf, ls->len < PROGRESS_LINE_MAX ? ls->len : PROGRESS_LINE_MAX, 1);
                ls->len = 0;
                ls->overflow = 1;
            } else if (nl != NULL) {
                deliver(ls->buf, ls->len, on_line, ctx);
                ls->len = 0;
            }
        }
        if (nl != NULL)
            ls->overflow = 0;
        data += used;
        n -= used;
    }
}

void line_splitter_finish(line_splitter_t *ls, on_line_fn on_line, void *ctx)
{
    if (!ls->overflow && ls->len > 0)
        deliver(ls->buf, ls->len, on_line, ctx);
    ls->len = 0;
    ls->overflow = 0;
}

void line_splitter_release(line_splitter_t *ls)
{
    free(ls->buf);
    memset(ls, 0, sizeof(*ls));
}

/* ---- tail buffer --------------------------------------------------------------------------- */

/* A ring: byte number `total` of the stream goes to data[total % cap]; the kept bytes are the
 * last `len` of them. */
void tail_buffer_init(tail_buffer_t *t, size_t cap)
{
    t->data = cap > 0 ? malloc(cap) : NULL;
    t->cap = t->data != NULL ? cap : 0;
    t->len = 0;
    t->total = 0;
}

void tail_buffer_add(tail_buffer_t *t, const char *data, size_t n)
{
    if (n == 0)
        return;
    if (t->cap == 0) {
        t->total += n;
        return;
    }
    if (n > t->cap) { /* only the last cap bytes can survive */
        t->total += n - t->cap;
        data += n - t->cap;
        n = t->cap;
    }
    size_t pos = (size_t)(t->total % t->cap);
    size_t first = t->cap - pos < n ? t->cap - pos : n;
    memcpy(t->data + pos, data, first);
    memcpy(t->data, data + first, n - first);
    t->total += n;
    t->len = t->len + n < t->cap ? t->len + n : t->cap;
}

/* tail_buffer_last_lines, also giving the length (the text may hold NUL bytes). */
static char *tail_copy_last_lines(const tail_buffer_t *t, int lines, size_t *out_len)
{
    size_t len = t->len;
    char *lin = malloc(len + 1);
    if (lin == NULL)
        return NULL;
    if (len > 0) {
        size_t start = (size_t)((t->total - len) % t->cap);
        size_t first = t->cap - start < len ? t->cap - start : len;
        memcpy(lin, t->data + start, first);
        memcpy(lin + first, t->data, len - first);
    }
    lin[len] = '\0';
    *out_len = 0;
    if (lines <= 0) {
        lin[0] = '\0';
        return lin;
    }
    /* The final newline ends the last line; it does not start an empty one. */
    size_t end = len > 0 && lin[len - 1] == '\n' ? len - 1 : len, from = 0;
    int seen = 0;
    for (size_t i = end; i > 0; i--) {
        if (lin[i - 1] == '\n' && ++seen == lines) {
            from = i;
            break;
        }
    }
    if (from > 0)
        memmove(lin, lin + from, len - from + 1);
    *out_len = len - from;
    return lin;
}

char *tail_buffer_last_lines(const tail_buffer_t *t, int lines)
{
    size_t n;
    return tail_copy_last_lines(t, lines, &n);
}

char *tail_buffer_error_detail(const tail_buffer_t *t, int lines)
{
    size_t n;
    char *lin = tail_copy_last_lines(t, lines, &n);
    if (lin == NULL)
        return NULL;
    const char *s = lin;
    /* Where the ring dropped the stream's start, the first kept bytes may be the end of a
     * character: they are not part of the text. */
    if (t->total > t->len)
        for (int i = 0; i < 3 && n > 0 && ((unsigned char)*s & 0xC0) == 0x80; i++, n--)
            s++;
    char *detail = utf8_repair_tail(s, n, RUN_DETAIL_MAX);
    free(lin);
    return detail;
}

void tail_buffer_release(tail_buffer_t *t)
{
    free(t->data);
    memset(t, 0, sizeof(*t));
}
