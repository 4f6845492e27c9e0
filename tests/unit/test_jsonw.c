/* Tests for jw_canonical (src/util/jsonw.c): a text it accepts is copied into answers instead of
 * being parsed and dumped, so for each one jansson's json_dumps(json_loads(s), JSON_COMPACT) must
 * give s back, byte for byte; what it refuses is parsed and dumped as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/jsonw.h"

/* 1 when jansson reads s and writes it back unchanged. */
static int jansson_round_trip(const char *s)
{
    json_t *v = json_loads(s, 0, NULL);
    char *out = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    int same = out != NULL && strcmp(out, s) == 0;
    free(out);
    json_decref(v);
    return same;
}

static void test_canonical(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"{}", '{'},
        {"[]", '['},
        {"{\"errorCode\":\"FILE_LOCKED\",\"description\":\"locked\",\"canUserFix\":true}", '{'},
        {"{\"bridgeExitCode\":-3,\"a\":[1,0,null,false,{}],\"b\":{\"c\":[]}}", '{'},
        {"{\"s\":\"caf\xC3\xA9 \xF0\x9F\x9A\x80 \\\"q\\\" \\\\ \\n\\t\\b\\f\\r \\u001F \\u0001\"}", '{'},
        {"[1,2]", '['},
        {"{\"n\":123456789012345678}", '{'},
        /* refused: not as jansson writes it, or not what json_loads reads */
        {"", 0},
        {"\"s\"", 0},
        {"1", 0},
        {"{ }", 0},
        {"{\"a\": 1}", 0},
        {"{\"a\":1} ", 0},
        {"{\"a\":1.5}", 0},
        {"{\"a\":1e3}", 0},
        {"{\"a\":-0}", 0},
        {"{\"a\":01}", 0},
        {"{\"a\":1234567890123456789}", 0},
        {"{\"a\":\"\\u00e9\"}", 0},
        {"{\"a\":\"\\u001f\"}", 0},
        {"{\"a\":\"\\u000A\"}", 0},
        {"{\"a\":\"\\u0000\"}", 0},
        {"{\"a\":\"\\/\"}", 0},
        {"{\"a\":\"\t\"}", 0},
        {"{\"a\":\"\xC3\"}", 0},
        {"{\"a\":\"\xED\xA0\x80\"}", 0},
        {"{\"a\":1,\"a\":2}", 0},
        {"{\"a\":1,}", 0},
        {"{\"a\":1", 0},
        {"{\"a\"}", 0},
        {"[1,]", 0},
        {"[tru]", 0},
        {"not json", 0},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0}, /* 34 deep */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = jw_canonical(cases[i].s);
        if (got != cases[i].want)
            fail_msg("jw_canonical(%s) = %d, want %d", cases[i].s, got, cases[i].want);
        if (got != 0)
            assert_true(jansson_round_trip(cases[i].s));
    }
    assert_int_equal(jw_canonical(NULL), 0);
}

/* Every text the writers store (json_dumps of what they validated) is accepted as it is. */
static void test_dumps_are_canonical(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"errorCode\": \"E\", \"description\": \"caf\\u00e9 \\u0007 \\/ \\u2028\", \"canUserFix\": false,"
        " \"bridgeExitCode\": 2147483647, \"x\": [1, {\"y\": null}]}",
        "[\"\\u001f\\u007f\\b\", -9223372036854775]",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *v = json_loads(docs[i], 0, NULL);
        assert_non_null(v);
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        assert_non_null(text);
        assert_int_not_equal(jw_canonical(text), 0);
        assert_true(jansson_round_trip(text));
        free(text);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_dumps_are_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
