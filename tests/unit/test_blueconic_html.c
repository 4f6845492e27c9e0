/* Tests for the pure helpers of src/api/blueconic.c: HTML escaping, UTF-8 clipping, counts, states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/blueconic.h"

static void check_escape(const char *in, const char *want)
{
    buf_t b = BUF_INIT(1 << 16);
    assert_int_equal(blueconic_html_escape(&b, in, strlen(in)), 0);
    assert_string_equal(buf_str(&b), want);
    assert_int_equal(b.len, strlen(want));
    buf_release(&b);
}

static void test_escape_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"plain text", "plain text"},
        {"&", "&amp;"},
        {"<", "&lt;"},
        {">", "&gt;"},
        {"\"", "&quot;"},
        {"'", "&#39;"},
        {"<script>alert(\"x\")</script> & co", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"},
        {"&amp;", "&amp;amp;"}, /* already-escaped text is escaped again: it is text, not HTML */
        {"it's <b>", "it&#39;s &lt;b&gt;"},
        {"caf\xC3\xA9 \xE2\x86\x92 ok", "caf\xC3\xA9 \xE2\x86\x92 ok"}, /* UTF-8 passes through */
        {"a&&b", "a&amp;&amp;b"},
        {"<<>>", "&lt;&lt;&gt;&gt;"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_escape(cases[i].in, cases[i].want);
}

static void test_escape_appends_and_counts_bytes(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(64);
    assert_int_equal(buf_adds(&b, "<li>"), 0);
    assert_int_equal(blueconic_html_escape(&b, "a<b>c", 2), 0); /* only the first n bytes */
    assert_string_equal(buf_str(&b), "<li>a&lt;");
    const char nul[] = {'x', '\0', 'y'};
    assert_int_equal(blueconic_html_escape(&b, nul, 1), 0);
    assert_string_equal(buf_str(&b), "<li>a&lt;x");
    buf_release(&b);
}

static void test_escape_cap_leaves_buffer_unchanged(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(10);
    assert_int_equal(buf_adds(&b, "ab"), 0);
    /* "&&" escapes to 10 bytes: 2 + 10 > 10 */
    assert_int_equal(blueconic_html_escape(&b, "&&", 2), -1);
    assert_string_equal(buf_str(&b), "ab");
    assert_int_equal(b.len, 2);
    /* exactly at the cap is fine */
    assert_int_equal(blueconic_html_escape(&b, "<>", 2), 0);
    assert_string_equal(buf_str(&b), "ab&lt;&gt;");
    assert_int_equal(blueconic_html_escape(&b, "", 0), 0);
    assert_int_equal(blueconic_html_escape(&b, "x", 1), -1);
    assert_string_equal(buf_str(&b), "ab&lt;&gt;");
    buf_release(&b);
}

static void test_utf8_clip(void **state)
{
    (void)state;
    const char *s = "ab\xC3\xA9"
                    "d"; /* a b é(2 bytes) d */
    assert_int_equal(blueconic_utf8_clip(s, 5, 10), 5);
    assert_int_equal(blueconic_utf8_clip(s, 5, 5), 5);
    assert_int_equal(blueconic_utf8_clip(s, 5, 4), 4);
    assert_int_equal(blueconic_utf8_clip(s, 5, 3), 2); /* would cut é in two */
    assert_int_equal(blueconic_utf8_clip(s, 5, 2), 2);
    assert_int_equal(blueconic_utf8_clip(s, 5, 0), 0);
    const char *arrow = "\xE2\x86\x92x";
    assert_int_equal(blueconic_utf8_clip(arrow, 4, 1), 0);
    assert_int_equal(blueconic_utf8_clip(arrow, 4, 2), 0);
    assert_int_equal(blueconic_utf8_clip(arrow, 4, 3), 3);
}

static void test_format_count(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {7, "7"},
        {999, "999"},
        {1000, "1,000"},
        {199836, "199,836"},
        {1234567, "1,234,567"},
        {-1234, "-1,234"},
        {INT64_MAX, "9,223,372,036,854,775,807"},
        {INT64_MIN, "-9,223,372,036,854,775,808"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[BLUECONIC_COUNT_LEN];
        blueconic_format_count(cases[i].v, out);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_states(void **state)
{
    (void)state;
    static const struct {
        run_state_t s;
        run_result_t r;
        const char *want;
    } cases[] = {
        {RUN_QUEUED, RESULT_NONE, "STARTING"},           {RUN_WORKING, RESULT_NONE, "RUNNING"},
        {RUN_RETRYING, RESULT_NONE, "RUNNING"},          {RUN_FINISHED, RESULT_SUCCESS, "FINISHED"},
        {RUN_FINISHED, RESULT_PARTIAL, "FINISHED"},      {RUN_FINISHED, RESULT_ERROR, "FINISHED"},
        {RUN_FINISHED, RESULT_CONFIG_ERROR, "FINISHED"}, {RUN_FINISHED, RESULT_TIMED_OUT, "FINISHED"},
        {RUN_FINISHED, RESULT_CANCELED, "STOPPED"},      {RUN_FINISHED, RESULT_SKIPPED, "FINISHED"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(blueconic_state(cases[i].s, cases[i].r), cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_appends_and_counts_bytes),
        cmocka_unit_test(test_escape_cap_leaves_buffer_unchanged),
        cmocka_unit_test(test_utf8_clip),
        cmocka_unit_test(test_format_count),
        cmocka_unit_test(test_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
