/* Tests for src/util/utf8.c and the UTF-8 guarantee of src/util/jsonw.c: whatever bytes a string
 * holds, jw_str writes valid JSON text, byte for byte what jansson writes when the string is valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/jsonw.h"
#include "util/utf8.h"

static void test_seq_len(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n, want;
    } cases[] = {
        {"a", 1, 1},
        {"\x00", 1, 1},
        {"\xC3\xA9", 2, 2},         /* é */
        {"\xC3", 1, 0},             /* cut short */
        {"\xC0\xAF", 2, 0},         /* overlong '/' */
        {"\xC1\xBF", 2, 0},         /* overlong */
        {"\xE0\x80\xAF", 3, 0},     /* overlong */
        {"\xE0\xA0\x80", 3, 3},     /* U+0800 */
        {"\xED\x9F\xBF", 3, 3},     /* U+D7FF */
        {"\xED\xA0\x80", 3, 0},     /* surrogate U+D800 */
        {"\xEF\xBF\xBD", 3, 3},     /* U+FFFD */
        {"\xF0\x8F\xBF\xBF", 4, 0}, /* overlong */
        {"\xF0\x9F\x98\x80", 4, 4}, /* U+1F600 */
        {"\xF4\x8F\xBF\xBF", 4, 4}, /* U+10FFFF */
        {"\xF4\x90\x80\x80", 4, 0}, /* past U+10FFFF */
        {"\xF5\x80\x80\x80", 4, 0},
        {"\x80", 1, 0},         /* stray continuation */
        {"\xE2\x82", 2, 0},     /* cut short */
        {"\xE2\x28\xA1", 3, 0}, /* bad continuation */
        {"\xF0\x9F\x98", 3, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(utf8_seq_len((const unsigned char *)cases[i].s, cases[i].n), cases[i].want);
    assert_int_equal(utf8_chars("a\xC3\xA9\xF0\x9F\x98\x80"), 3);
}

static void test_repair_tail(void **state)
{
    (void)state;
    char *r = utf8_repair_tail("a\xFF"
                               "b\x00"
                               "c",
                               5, 0);
    assert_string_equal(r, "a\xEF\xBF\xBD"
                           "b\xEF\xBF\xBD"
                           "c");
    free(r);
    r = utf8_repair_tail("abcdef", 6, 2);
    assert_string_equal(r, "ef");
    free(r);
    r = utf8_repair_tail("\xC3\xA9\xC3\xA9\xC3\xA9", 6, 2);
    assert_string_equal(r, "\xC3\xA9\xC3\xA9");
    free(r);
    r = utf8_repair_tail("", 0, 10);
    assert_string_equal(r, "");
    free(r);
}

/* jw_str's output parses, equals jansson's for valid strings, and replaces each bad byte. */
static void test_jw_str_always_valid(void **state)
{
    (void)state;
    static const char *const valid[] = {"", "plain", "quote \" back \\ nl \n tab \t ctl \x01\x1f del \x7f",
                                        "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\xEF\xBF\xBD"};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        buf_t b = BUF_INIT(1 << 16);
        jw_str(&b, valid[i]);
        json_t *j = json_string(valid[i]);
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(buf_str(&b), want);
        free(want);
        json_decref(j);
        buf_release(&b);
    }
    static const struct {
        const char *in, *want;
    } bad[] = {
        {"\xFF", "\"\xEF\xBF\xBD\""},
        {"a\xC3", "\"a\xEF\xBF\xBD\""},
        {"\xE2\x82x", "\"\xEF\xBF\xBD\xEF\xBF\xBDx\""},
        {"\xED\xA0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"\xC0\xAF\n", "\"\xEF\xBF\xBD\xEF\xBF\xBD\\n\""},
        {"\xF0\x9F\x98", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_t b = BUF_INIT(1 << 16);
        jw_str(&b, bad[i].in);
        assert_string_equal(buf_str(&b), bad[i].want);
        json_error_t err;
        json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY, &err);
        assert_non_null(j);
        json_decref(j);
        buf_release(&b);
    }
    /* every single byte value, and every pair: the output always parses */
    for (unsigned x = 1; x < 256; x++) {
        for (unsigned y = 0; y < 256; y++) {
            char s[3] = {(char)x, (char)y, 0};
            buf_t b = BUF_INIT(64);
            jw_str(&b, s);
            json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
            assert_non_null(j);
            json_decref(j);
            buf_release(&b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_len),
        cmocka_unit_test(test_repair_tail),
        cmocka_unit_test(test_jw_str_always_valid),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
