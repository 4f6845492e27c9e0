/* Tests for src/exec/progress.c: the progress-line parser, the line splitter, the tail buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/progress.h"
#include "store/store.h"

#define CTR(c) ((unsigned)RUN_F_COUNTER0 << (c))

/* ---- progress_parse_line: a table of lines and what they give ------------------------------ */

static const struct {
    const char *line;
    unsigned mask;   /* expected mask when ok */
    int job, task;   /* a job / task object expected */
    const char *err; /* NULL: must parse; else a substring the error must contain */
} cases[] = {
    {"{\"step\":\"Loading data into destination service\"}", RUN_F_STEP, 0, 0, NULL},
    {"  {\"step\":\"\"}  ", RUN_F_STEP, 0, 0, NULL},
    {"{\"counters\":{\"records_processed\":1200}}", CTR(CTR_RECORDS_PROCESSED), 0, 0, NULL},
    {"{\"counters\":{\"source_record_count\":0,\"records_failed\":9223372036854775807}}",
     CTR(CTR_SOURCE_RECORD_COUNT) | CTR(CTR_RECORDS_FAILED), 0, 0, NULL},
    {"{\"counters\":{}}", 0, 0, 0, NULL},
    {"{\"watermark\":\"2026-11-20T10:00:00Z\"}", RUN_F_WATERMARK, 0, 0, NULL},
    {"{\"watermark\":\"2026-11-20T12:00:00.5+02:00\"}", RUN_F_WATERMARK, 0, 0, NULL},
    {"{\"message\":\"héllo\"}", RUN_F_MESSAGE, 0, 0, NULL},
    {"{\"step\":\"s\",\"message\":\"m\",\"watermark\":\"2020-01-01T00:00:00Z\",\"counters\":{\"records_updated\":3}}",
     RUN_F_STEP | RUN_F_MESSAGE | RUN_F_WATERMARK | CTR(CTR_RECORDS_UPDATED), 0, 0, NULL},
    {"{\"job\":{\"name\":\"extract\"}}", 0, 1, 0, NULL},
    {"{\"job\":{\"name\":\"extract\",\"state\":\"working\",\"connector_type\":\"MSTeams\",\"phase\":\"p1\"}}", 0, 1, 0,
     NULL},
    {"{\"job\":{\"name\":\"extract\",\"state\":\"finished\",\"result\":\"partial\"}}", 0, 1, 0, NULL},
    {"{\"task\":{\"job\":\"extract\",\"source_file_id\":\"f1\",\"state\":\"queued\",\"retry_attempts\":0}}", 0, 0, 1,
     NULL},
    {"{\"task\":{\"job\":\"x\",\"source_file_id\":\"f1\",\"state\":\"finished\",\"result\":\"error\","
     "\"error\":{\"errorCode\":\"E1\",\"canUserFix\":true,\"bridgeExitCode\":-3},"
     "\"report\":{\"message\":\"m\",\"suggested_action\":\"Warning\",\"errors\":1,\"warnings\":2,\"other\":0}}}",
     0, 0, 1, NULL},
    {"{\"step\":\"s\",\"job\":{\"name\":\"j\"},\"task\":{\"job\":\"j\",\"source_file_id\":\"f\"}}", RUN_F_STEP, 1, 1,
     NULL},

    /* not an object / not JSON */
    {"", 0, 0, 0, "empty line"},
    {"  \t ", 0, 0, 0, "empty line"},
    {"not json", 0, 0, 0, "invalid JSON"},
    {"{\"step\":\"x\"", 0, 0, 0, "invalid JSON"},
    {"{\"step\":\"x\"} {}", 0, 0, 0, "invalid JSON"},
    {"[1,2]", 0, 0, 0, "expected a JSON object"},
    {"\"step\"", 0, 0, 0, "expected a JSON object"},
    {"{}", 0, 0, 0, "empty object"},
    {"{\"step\":\"a\",\"step\":\"b\"}", 0, 0, 0, "duplicate"},
    {"{\"stage\":\"x\"}", 0, 0, 0, "unknown key 'stage'"},
    /* step */
    {"{\"step\":3}", 0, 0, 0, "step: expected a string"},
    {"{\"step\":null}", 0, 0, 0, "step: expected a string"},
    {"{\"step\":\"a\\u0000b\"}", 0, 0, 0, "invalid JSON"},
    /* counters */
    {"{\"counters\":[]}", 0, 0, 0, "counters: expected an object"},
    {"{\"counters\":{\"rows\":1}}", 0, 0, 0, "unknown counter 'rows'"},
    {"{\"counters\":{\"records_processed\":-1}}", 0, 0, 0, "counters.records_processed: expected an integer >= 0"},
    {"{\"counters\":{\"records_processed\":1.0}}", 0, 0, 0, "counters.records_processed"},
    {"{\"counters\":{\"records_processed\":\"5\"}}", 0, 0, 0, "counters.records_processed"},
    {"{\"counters\":{\"records_processed\":99999999999999999999}}", 0, 0, 0, "invalid JSON"},
    /* watermark */
    {"{\"watermark\":\"yesterday\"}", 0, 0, 0, "watermark: expected an ISO 8601 time"},
    {"{\"watermark\":\"2026-02-30T00:00:00Z\"}", 0, 0, 0, "watermark"},
    {"{\"watermark\":1700000000}", 0, 0, 0, "watermark"},
    /* message */
    {"{\"message\":false}", 0, 0, 0, "message: expected a string"},
    /* job */
    {"{\"job\":\"extract\"}", 0, 0, 0, "job: expected an object"},
    {"{\"job\":{}}", 0, 0, 0, "job: missing name"},
    {"{\"job\":{\"name\":\"\"}}", 0, 0, 0, "job.name: must not be empty"},
    {"{\"job\":{\"name\":7}}", 0, 0, 0, "job.name: expected a string"},
    {"{\"job\":{\"name\":\"j\",\"colour\":1}}", 0, 0, 0, "job: unknown key 'colour'"},
    {"{\"job\":{\"name\":\"j\",\"state\":\"done\"}}", 0, 0, 0, "job.state: expected queued, working or finished"},
    {"{\"job\":{\"name\":\"j\",\"state\":\"retrying\"}}", 0, 0, 0, "job.state"},
    {"{\"job\":{\"name\":\"j\",\"state\":\"finished\"}}", 0, 0, 0, "job: state finished needs a result"},
    {"{\"job\":{\"name\":\"j\",\"state\":\"working\",\"result\":\"success\"}}", 0, 0, 0,
     "job.result: only allowed with state finished"},
    {"{\"job\":{\"name\":\"j\",\"state\":\"finished\",\"result\":\"great\"}}", 0, 0, 0, "job.result: expected success"},
    {"{\"job\":{\"name\":\"j\",\"phase\":[]}}", 0, 0, 0, "job.phase: expected a string"},
    /* task */
    {"{\"task\":{\"source_file_id\":\"f\"}}", 0, 0, 0, "task: missing job"},
    {"{\"task\":{\"job\":\"j\"}}", 0, 0, 0, "task: missing source_file_id"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":1}}", 0, 0, 0, "task.source_file_id: expected a string"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"retry_attempts\":-1}}", 0, 0, 0, "task.retry_attempts"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"state\":\"finished\"}}", 0, 0, 0,
     "task: state finished needs a result"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"error\":{\"bogus\":1}}}", 0, 0, 0,
     "task.error: unknown key 'bogus'"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"error\":{\"canUserFix\":1}}}", 0, 0, 0,
     "task.error.canUserFix"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"report\":{\"suggested_action\":\"Panic\"}}}", 0, 0, 0,
     "task.report.suggested_action"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"report\":{\"errors\":-2}}}", 0, 0, 0, "task.report.errors"},
    {"{\"task\":{\"job\":\"j\",\"source_file_id\":\"f\",\"x\":1}}", 0, 0, 0, "task: unknown key 'x'"},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        progress_update_t u;
        char err[256] = "";
        int rc = progress_parse_line(cases[i].line, strlen(cases[i].line), &u, err, sizeof(err));
        if (cases[i].err == NULL) {
            if (rc != 0)
                fail_msg("line %zu %s: unexpected error: %s", i, cases[i].line, err);
            if (u.mask != cases[i].mask)
                fail_msg("line %zu %s: mask 0x%x, expected 0x%x", i, cases[i].line, u.mask, cases[i].mask);
            if ((u.job != NULL) != cases[i].job || (u.task != NULL) != cases[i].task)
                fail_msg("line %zu %s: job/task not as expected", i, cases[i].line);
            assert_non_null(u.doc);
            progress_update_release(&u);
            assert_null(u.doc);
        } else {
            if (rc != -1)
                fail_msg("line %zu %s: accepted, expected error containing '%s'", i, cases[i].line, cases[i].err);
            if (strstr(err, cases[i].err) == NULL)
                fail_msg("line %zu %s: error '%s' does not contain '%s'", i, cases[i].line, err, cases[i].err);
            assert_null(u.doc); /* nothing to release on failure */
            assert_int_equal(u.mask, 0);
        }
    }
}

static void test_parse_values(void **state)
{
    (void)state;
    const char *line = "{\"step\":\"Loading\",\"counters\":{\"records_processed\":1200,\"source_record_deletes\":7},"
                       "\"watermark\":\"2026-11-20T10:00:00.250Z\",\"message\":\"half way\","
                       "\"job\":{\"name\":\"extract\",\"state\":\"working\"}}";
    progress_update_t u;
    char err[128];
    assert_int_equal(progress_parse_line(line, strlen(line), &u, err, sizeof(err)), 0);
    assert_string_equal(u.step, "Loading");
    assert_string_equal(u.message, "half way");
    assert_int_equal(u.counters[CTR_RECORDS_PROCESSED], 1200);
    assert_int_equal(u.counters[CTR_SOURCE_RECORD_DELETES], 7);
    assert_int_equal(u.counters[CTR_RECORDS_FAILED], 0);
    assert_int_equal(u.watermark, INT64_C(1795168800250));
    assert_string_equal(json_string_value(json_object_get(u.job, "name")), "extract");
    assert_null(u.task);
    progress_update_release(&u);

    /* the length is honoured: no NUL terminator needed */
    const char buf[] = "{\"step\":\"a\"}garbage";
    assert_int_equal(progress_parse_line(buf, 12, &u, err, sizeof(err)), 0);
    assert_string_equal(u.step, "a");
    progress_update_release(&u);
}

static void test_parse_limits(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char line[N + 64];
    progress_update_t u;
    char err[128];
    const struct {
        const char *key;
        size_t max;
    } lims[] = {{"step", 200}, {"message", 4096}};
    for (size_t k = 0; k < 2; k++) {
        for (size_t n = lims[k].max; n <= lims[k].max + 1; n++) {
            int off = snprintf(line, sizeof(line), "{\"%s\":\"", lims[k].key);
            memset(line + off, 'x', n);
            snprintf(line + off + n, sizeof(line) - off - n, "\"}");
            int rc = progress_parse_line(line, strlen(line), &u, err, sizeof(err));
            if (n == lims[k].max) {
                assert_int_equal(rc, 0);
                progress_update_release(&u);
            } else {
                assert_int_equal(rc, -1);
                assert_non_null(strstr(err, "longer than"));
            }
        }
    }
    /* characters, not bytes: 200 two-byte characters are a valid step */
    int off = snprintf(line, sizeof(line), "{\"step\":\"");
    for (int i = 0; i < 200; i++) {
        line[off++] = (char)0xC3;
        line[off++] = (char)0xA9;
    }
    snprintf(line + off, sizeof(line) - off, "\"}");
    assert_int_equal(progress_parse_line(line, strlen(line), &u, err, sizeof(err)), 0);
    progress_update_release(&u);

    /* an unknown key is quoted bounded */
    off = snprintf(line, sizeof(line), "{\"");
    memset(line + off, 'k', 1000);
    snprintf(line + off + 1000, sizeof(line) - off - 1000, "\":1}");
    assert_int_equal(progress_parse_line(line, strlen(line), &u, err, sizeof(err)), -1);
    assert_true(strlen(err) < 100);

    /* a small err buffer is not overrun */
    char tiny[8];
    assert_int_equal(progress_parse_line("{}", 2, &u, tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* ---- line splitter ------------------------------------------------------------------------- */

typedef struct collected {
    int n;
    char *lines[16];
    size_t lens[16];
    int too_long[16];
} collected_t;

static void collect(void *ctx, const char *line, size_t len, int too_long)
{
    collected_t *c = ctx;
    assert_true(c->n < 16);
    assert_true(len <= PROGRESS_LINE_MAX);
    c->lines[c->n] = malloc(len + 1);
    memcpy(c->lines[c->n], line, len);
    c->lines[c->n][len] = '\0';
    c->lens[c->n] = len;
    c->too_long[c->n] = too_long;
    c->n++;
}

static void collected_release(collected_t *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->lines[i]);
    memset(c, 0, sizeof(*c));
}

/* Feeds `s` in chunks of `step` bytes (0: all at once), then finishes. */
static void split_all(const char *s, size_t len, size_t step, collected_t *c)
{
    line_splitter_t ls = {0};
    if (step == 0)
        step = len ? len : 1;
    for (size_t i = 0; i < len; i += step)
        line_splitter_feed(&ls, s + i, len - i < step ? len - i : step, collect, c);
    line_splitter_finish(&ls, collect, c);
    assert_true(ls.cap <= PROGRESS_LINE_MAX + 1);
    line_splitter_release(&ls);
}

static void test_splitter_chunks(void **state)
{
    (void)state;
    const char in[] = "one\r\ntwo\n\nthree\r\n\r\nfour without newline";
    const char *want[] = {"one", "two", "", "three", "", "four without newline"};
    for (size_t step = 0; step <= 7; step++) {
        collected_t c = {0};
        split_all(in, sizeof(in) - 1, step, &c);
        assert_int_equal(c.n, 6);
        for (int i = 0; i < 6; i++) {
            assert_string_equal(c.lines[i], want[i]);
            assert_int_equal(c.too_long[i], 0);
        }
        collected_release(&c);
    }
    /* a finish right after a newline delivers nothing more */
    collected_t c = {0};
    split_all("a\n", 2, 1, &c);
    assert_int_equal(c.n, 1);
    collected_release(&c);
}

static void test_splitter_too_long(void **state)
{
    (void)state;
    const size_t big = PROGRESS_LINE_MAX * 3 + 17;
    char *in = malloc(big + 64);
    for (int variant = 0; variant < 3; variant++) {
        size_t n = 0;
        memset(in, 'a', big);
        n = big;
        memcpy(in + n, "\n{\"step\":\"ok\"}\nlast", 19);
        n += 19;
        size_t steps[] = {0, 4096, 65537};
        collected_t c = {0};
        split_all(in, n, steps[variant], &c);
        assert_int_equal(c.n, 3);
        assert_int_equal(c.too_long[0], 1);
        assert_int_equal(c.lens[0], PROGRESS_LINE_MAX);
        assert_string_equal(c.lines[1], "{\"step\":\"ok\"}");
        assert_int_equal(c.too_long[1], 0);
        assert_string_equal(c.lines[2], "last");
        collected_release(&c);
    }
    /* exactly the limit is fine, also followed by CRLF; one more byte is too long */
    for (size_t extra = 0; extra <= 1; extra++) {
        for (int crlf = 0; crlf <= 1; crlf++) {
            size_t n = PROGRESS_LINE_MAX + extra;
            memset(in, 'b', n);
            if (crlf)
                in[n++] = '\r';
            in[n++] = '\n';
            size_t steps[] = {0, 1000, PROGRESS_LINE_MAX};
            for (int s = 0; s < 3; s++) {
                collected_t c = {0};
                split_all(in, n, steps[s], &c);
                assert_int_equal(c.n, 1);
                assert_int_equal(c.lens[0], PROGRESS_LINE_MAX);
                assert_int_equal(c.too_long[0], (int)extra);
                collected_release(&c);
            }
        }
    }
    /* an over-long line cut off by EOF is reported once */
    memset(in, 'c', PROGRESS_LINE_MAX + 10);
    collected_t c = {0};
    split_all(in, PROGRESS_LINE_MAX + 10, 100, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.too_long[0], 1);
    collected_release(&c);
    free(in);
}

/* Random lines in random chunks against a plain reference split (fixed seed: deterministic). */
typedef struct checker {
    const char *ref; /* the stream still to match */
    const char *end;
    int lines;
} checker_t;

static void check_line(void *ctx, const char *line, size_t len, int too_long)
{
    checker_t *k = ctx;
    const char *nl = memchr(k->ref, '\n', (size_t)(k->end - k->ref));
    const char *eol = nl != NULL ? nl : k->end;
    size_t want = (size_t)(eol - k->ref);
    if (want > 0 && k->ref[want - 1] == '\r')
        want--;
    int want_long = want > PROGRESS_LINE_MAX;
    if (want_long)
        want = PROGRESS_LINE_MAX;
    assert_int_equal(too_long, want_long);
    assert_int_equal(len, want);
    assert_memory_equal(line, k->ref, len);
    k->ref = nl != NULL ? nl + 1 : k->end;
    k->lines++;
}

static void test_splitter_random(void **state)
{
    (void)state;
    enum { SIZE = 1 << 20 };
    char *in = malloc(SIZE);
    unsigned seed = 12345;
    for (int round = 0; round < 20; round++) {
        size_t n = 0;
        while (n < SIZE - PROGRESS_LINE_MAX - 16) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 8) % 100;
            size_t len = r < 80 ? r : r < 95 ? (seed >> 4) % 5000 : PROGRESS_LINE_MAX - 2 + (seed >> 4) % 5;
            memset(in + n, 'a' + (int)(n % 26), len);
            n += len;
            if (r % 3 == 0)
                in[n++] = '\r';
            in[n++] = '\n';
        }
        if (round % 2) /* no newline at EOF */
            n--;
        checker_t k = {in, in + n, 0};
        line_splitter_t ls = {0};
        for (size_t i = 0; i < n;) {
            seed = seed * 1103515245u + 12345u;
            size_t chunk = 1 + (seed >> 8) % (round < 10 ? 64 : 100000);
            if (chunk > n - i)
                chunk = n - i;
            line_splitter_feed(&ls, in + i, chunk, check_line, &k);
            i += chunk;
        }
        line_splitter_finish(&ls, check_line, &k);
        line_splitter_release(&ls);
        assert_ptr_equal(k.ref, k.end);
        assert_true(k.lines > 100);
    }
    free(in);
}

/* ---- tail buffer --------------------------------------------------------------------------- */

static char *tail_all(const tail_buffer_t *t)
{
    return tail_buffer_last_lines(t, 1 << 30);
}

static void test_tail_wrap(void **state)
{
    (void)state;
    tail_buffer_t t;
    tail_buffer_init(&t, 10);
    char *s = tail_all(&t);
    assert_string_equal(s, "");
    free(s);

    tail_buffer_add(&t, "abcdef", 6);
    s = tail_all(&t);
    assert_string_equal(s, "abcdef");
    free(s);

    tail_buffer_add(&t, "ghij", 4); /* exactly full */
    assert_int_equal(t.len, 10);
    s = tail_all(&t);
    assert_string_equal(s, "abcdefghij");
    free(s);

    tail_buffer_add(&t, "klm", 3); /* wraps */
    s = tail_all(&t);
    assert_string_equal(s, "defghijklm");
    free(s);

    tail_buffer_add(&t, "0123456789ABCDE", 15); /* more than the cap at once */
    s = tail_all(&t);
    assert_string_equal(s, "56789ABCDE");
    free(s);
    assert_int_equal(t.total, 28);
    assert_int_equal(t.len, 10);

    /* byte by byte, compared with the end of the stream */
    tail_buffer_release(&t);
    tail_buffer_init(&t, 10);
    char stream[200];
    for (int i = 0; i < 200; i++) {
        stream[i] = (char)('a' + i % 26);
        tail_buffer_add(&t, &stream[i], 1);
        s = tail_all(&t);
        assert_int_equal(strlen(s), i + 1 < 10 ? i + 1 : 10);
        assert_memory_equal(s, stream + (i + 1 >= 10 ? i + 1 - 10 : 0), strlen(s));
        free(s);
    }
    tail_buffer_release(&t);

    /* a cap of 0 keeps nothing and counts */
    tail_buffer_init(&t, 0);
    tail_buffer_add(&t, "abc", 3);
    s = tail_all(&t);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(t.total, 3);
    tail_buffer_release(&t);
}

static void test_tail_last_lines(void **state)
{
    (void)state;
    tail_buffer_t t;
    tail_buffer_init(&t, 64);
    const char *log = "l1\nl2\nl3\nl4\n";
    tail_buffer_add(&t, log, strlen(log));
    const struct {
        int n;
        const char *want;
    } cases_[] = {{0, ""}, {-1, ""}, {1, "l4\n"}, {2, "l3\nl4\n"}, {4, "l1\nl2\nl3\nl4\n"}, {9, "l1\nl2\nl3\nl4\n"}};
    for (size_t i = 0; i < sizeof(cases_) / sizeof(cases_[0]); i++) {
        char *s = tail_buffer_last_lines(&t, cases_[i].n);
        assert_string_equal(s, cases_[i].want);
        free(s);
    }
    tail_buffer_add(&t, "partial", 7); /* a last line without its newline counts */
    char *s = tail_buffer_last_lines(&t, 2);
    assert_string_equal(s, "l4\npartial");
    free(s);
    tail_buffer_add(&t, "\n\n", 2); /* an empty line is a line */
    s = tail_buffer_last_lines(&t, 2);
    assert_string_equal(s, "partial\n\n");
    free(s);
    tail_buffer_release(&t);

    /* after wrapping: the cut first line is what is kept of it */
    tail_buffer_init(&t, 8);
    tail_buffer_add(&t, "first line\nab\ncd\n", 17);
    s = tail_buffer_last_lines(&t, 5);
    assert_string_equal(s, "e\nab\ncd\n");
    free(s);
    s = tail_buffer_last_lines(&t, 2);
    assert_string_equal(s, "ab\ncd\n");
    free(s);
    tail_buffer_release(&t);
}

/* The error detail of a failed run, as the runner and `syncrun exec` make it: valid UTF-8 whatever
 * the command wrote, and never longer than the API's limit (a long output used to be put in whole,
 * which made the finish event too large, and raw bytes made answers that do not parse). */
static void test_tail_error_detail(void **state)
{
    (void)state;
    tail_buffer_t t;
    tail_buffer_init(&t, 1 << 20);
    /* bad bytes and a NUL, among good text */
    const char out[] = "ok \xC3\xA9\n\xFF\xFE"
                       "raw\x00"
                       "nul \xF0\x9F\x98\x80 \xE2\x82\n";
    tail_buffer_add(&t, out, sizeof(out) - 1);
    char *d = tail_buffer_error_detail(&t, 20);
    assert_non_null(d);
    assert_string_equal(
        d, "ok \xC3\xA9\n\xEF\xBF\xBD\xEF\xBF\xBDraw\xEF\xBF\xBDnul \xF0\x9F\x98\x80 \xEF\xBF\xBD\xEF\xBF\xBD\n");
    free(d);
    d = tail_buffer_error_detail(&t, 1);
    assert_string_equal(d, "\xEF\xBF\xBD\xEF\xBF\xBDraw\xEF\xBF\xBDnul \xF0\x9F\x98\x80 \xEF\xBF\xBD\xEF\xBF\xBD\n");
    free(d);
    tail_buffer_release(&t);

    /* one huge line: only the last RUN_DETAIL_MAX characters are kept */
    tail_buffer_init(&t, 1 << 20);
    size_t n = 3 * RUN_DETAIL_MAX;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    tail_buffer_add(&t, big, n);
    d = tail_buffer_error_detail(&t, 20);
    assert_int_equal(strlen(d), RUN_DETAIL_MAX);
    assert_memory_equal(d, big + n - RUN_DETAIL_MAX, RUN_DETAIL_MAX);
    free(d);
    tail_buffer_release(&t);

    /* 4-byte characters: counted as characters, cut between them, never inside one */
    tail_buffer_init(&t, 1 << 20);
    for (size_t i = 0; i < RUN_DETAIL_MAX + 10; i++)
        tail_buffer_add(&t, "\xF0\x9F\x98\x80", 4);
    d = tail_buffer_error_detail(&t, 20);
    assert_int_equal(strlen(d), 4 * (size_t)RUN_DETAIL_MAX);
    assert_memory_equal(d, "\xF0\x9F\x98\x80", 4);
    free(d);
    tail_buffer_release(&t);

    /* the ring dropped the stream's start in the middle of a character: no replacement for it */
    tail_buffer_init(&t, 6);
    tail_buffer_add(&t,
                    "x\xF0\x9F\x98\x80"
                    "abc",
                    8); /* keeps \x98\x80abc */
    d = tail_buffer_error_detail(&t, 20);
    assert_string_equal(d, "abc");
    free(d);
    tail_buffer_release(&t);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),       cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_limits),      cmocka_unit_test(test_splitter_chunks),
        cmocka_unit_test(test_splitter_too_long), cmocka_unit_test(test_splitter_random),
        cmocka_unit_test(test_tail_wrap),         cmocka_unit_test(test_tail_last_lines),
        cmocka_unit_test(test_tail_error_detail),
    };
    return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
