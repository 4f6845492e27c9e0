/* Tests of src/api/input.c: each field reader accepts what the API documents and refuses the rest
 * with the field named and a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/input.h"
#include "store/store.h"

/* Parses body (a JSON object literal) into in; the caller decrefs in->obj. */
static void load(input_t *in, const char *body)
{
    json_error_t err;
    json_t *j = json_loads(body, JSON_ALLOW_NUL, &err); /* so the readers' own NUL check is tested */
    assert_non_null(j);
    input_init(in, j);
}

static void test_string_table(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        size_t max;
        int required, nullable;
        int want_rc;
        const char *want_value, *want_code;
    } rows[] = {
        {"{\"s\":\"abc\"}", 10, 0, 0, 1, "abc", NULL},
        {"{}", 10, 0, 0, 0, NULL, NULL},
        {"{}", 10, 1, 0, -1, NULL, "missing_field"},
        {"{\"s\":null}", 10, 0, 1, 0, NULL, NULL},
        {"{\"s\":null}", 10, 0, 0, -1, NULL, "invalid_field"},
        {"{\"s\":5}", 10, 0, 0, -1, NULL, "invalid_field"},
        {"{\"s\":\"\"}", 10, 1, 0, -1, NULL, "invalid_field"},
        {"{\"s\":\"\"}", 10, 0, 0, 1, "", NULL},
        {"{\"s\":\"0123456789\"}", 10, 0, 0, 1, "0123456789", NULL},
        {"{\"s\":\"0123456789a\"}", 10, 0, 0, -1, NULL, "invalid_field"},
        /* limits count characters: ten two-byte characters fit in 10 */
        {"{\"s\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", 10, 0, 0, 1, NULL, NULL},
        {"{\"s\":\"a\\u0000b\"}", 10, 0, 0, -1, NULL, "invalid_field"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        input_t in;
        const char *v = NULL;
        load(&in, rows[i].body);
        int rc = input_string(&in, "s", rows[i].max, rows[i].required, rows[i].nullable, &v);
        if (rc != rows[i].want_rc)
            fail_msg("row %zu (%s): rc %d, want %d", i, rows[i].body, rc, rows[i].want_rc);
        if (rows[i].want_value != NULL)
            assert_string_equal(v, rows[i].want_value);
        if (rows[i].want_code != NULL) {
            assert_string_equal(in.code, rows[i].want_code);
            assert_string_equal(in.field, "s");
            assert_true(strlen(in.message) > 0);
        }
        json_decref(in.obj);
    }
}

static void test_int_bool_time(void **state)
{
    (void)state;
    input_t in;
    int64_t n = 0, t = 0;
    int b = 0;
    load(&in, "{\"n\":5,\"big\":11,\"f\":1.5,\"s\":\"5\",\"b\":true,\"nb\":1,\"t\":\"2021-10-20T02:51:07.546Z\","
              "\"bad_t\":\"yesterday\",\"null_t\":null}");
    assert_int_equal(input_int(&in, "n", 0, 10, &n), 1);
    assert_int_equal(n, 5);
    assert_int_equal(input_int(&in, "big", 0, 10, &n), -1);
    assert_string_equal(in.field, "big");
    assert_int_equal(input_int(&in, "f", 0, 10, &n), -1);
    assert_int_equal(input_int(&in, "s", 0, 10, &n), -1);
    assert_int_equal(input_int(&in, "absent", 0, 10, &n), 0);
    assert_int_equal(input_bool(&in, "b", &b), 1);
    assert_true(b);
    assert_int_equal(input_bool(&in, "nb", &b), -1);
    assert_int_equal(input_time(&in, "t", 0, &t), 1);
    assert_int_equal(t, 1634698267546);
    assert_int_equal(input_time(&in, "bad_t", 0, &t), -1);
    assert_string_equal(in.field, "bad_t");
    t = 42;
    assert_int_equal(input_time(&in, "null_t", 1, &t), 1); /* null clears */
    assert_int_equal(t, 0);
    json_decref(in.obj);
}

static void test_known_and_adopt(void **state)
{
    (void)state;
    static const char *const allowed[] = {"a", "b", NULL};
    static const char *const more[] = {"c", NULL};
    input_t in, child;
    load(&in, "{\"a\":1,\"c\":2}");
    assert_int_equal(input_known(&in, allowed), -1);
    assert_string_equal(in.code, "unknown_field");
    assert_string_equal(in.field, "c");
    assert_int_equal(input_known2(&in, allowed, more), 0);
    json_decref(in.obj);

    load(&in, "{}");
    load(&child, "{\"tag\":7}");
    const char *s;
    assert_int_equal(input_string(&child, "tag", 10, 0, 0, &s), -1);
    assert_int_equal(input_adopt(&in, &child, "trigger"), -1);
    assert_string_equal(in.field, "trigger.tag");
    assert_non_null(strstr(in.message, "trigger"));
    json_decref(in.obj);
    json_decref(child.obj);
}

static void test_enum_and_counters(void **state)
{
    (void)state;
    input_t in;
    int v = -1;
    int64_t counters[CTR_COUNT] = {0};
    unsigned mask = 0;
    load(&in,
         "{\"state\":\"working\",\"bad\":\"sleeping\",\"counters\":{\"records_failed\":3,\"records_processed\":10}}");
    assert_int_equal(input_enum(&in, "state", run_state_parse, "queued, working", &v), 1);
    assert_int_equal(v, RUN_WORKING);
    assert_int_equal(input_enum(&in, "bad", run_state_parse, "queued, working", &v), -1);
    assert_non_null(strstr(in.message, "queued, working"));
    assert_int_equal(input_counters(&in, "counters", counters, &mask), 1);
    assert_int_equal(counters[CTR_RECORDS_FAILED], 3);
    assert_int_equal(counters[CTR_RECORDS_PROCESSED], 10);
    assert_int_equal(mask, (RUN_F_COUNTER0 << CTR_RECORDS_FAILED) | (RUN_F_COUNTER0 << CTR_RECORDS_PROCESSED));
    json_decref(in.obj);

    static const char *const bad[] = {
        "{\"counters\":{\"rows\":1}}",             /* unknown counter */
        "{\"counters\":{\"records_failed\":-1}}",  /* negative */
        "{\"counters\":{\"records_failed\":1.5}}", /* not an integer */
        "{\"counters\":[1]}",                      /* not an object */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load(&in, bad[i]);
        mask = 0;
        if (input_counters(&in, "counters", counters, &mask) != -1)
            fail_msg("%s was accepted", bad[i]);
        assert_int_equal(mask, 0);
        json_decref(in.obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_table),
        cmocka_unit_test(test_int_bool_time),
        cmocka_unit_test(test_known_and_adopt),
        cmocka_unit_test(test_enum_and_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
