/* Tests for src/model/census_run.c: Census's rendering of a run, pinned byte for byte. The store
 * keeps these bytes for every finished run (migration 18): when one of these tests has to change,
 * bump CENSUS_RUN_FORMAT and add a migration that queues the finished runs again (census_run.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/census_run.h"

static void check(const run_t *r, const char *want)
{
    buf_t b = BUF_INIT(1 << 20);
    census_run_write(&b, r);
    assert_false(buf_failed(&b));
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
}

static run_t base_run(void)
{
    run_t r;
    memset(&r, 0, sizeof(r));
    r.id = 42;
    r.connection_id = 7;
    r.created_at = 1704067200000; /* 2024-01-01T00:00:00Z */
    r.updated_at = 1704067260123;
    r.scheduled_at = 1704067200000;
    r.trigger_tag = "API";
    r.trigger_detail = "Triggered by \"ops\"";
    return r;
}

static void test_completed_run(void **state)
{
    (void)state;
    run_t r = base_run();
    r.state = RUN_FINISHED;
    r.result = RESULT_SUCCESS;
    r.completed_at = 1704067260123;
    r.full_sync = 1;
    for (int i = 0; i < CTR_COUNT; i++)
        r.counters[i] = 100 + i;
    check(&r, "{\"id\":42,\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-01-01T00:01:00.123Z"
              "\",\"completed_at\":\"2024-01-01T00:01:00.123Z\",\"error_code\":null,\"error_message\":null,\"er"
              "ror_detail\":null,\"status\":\"completed\",\"sync_id\":7,\"source_record_count\":100,\"records_f"
              "ailed\":106,\"source_record_updates\":101,\"source_record_deletes\":102,\"source_record_invalids"
              "\":103,\"records_invalid\":103,\"records_processed\":104,\"records_updated\":105,\"scheduled_exe"
              "cution_time\":\"2024-01-01T00:00:00.000Z\",\"full_sync\":true,\"sync_trigger_reason\":{\"ui_tag"
              "\":\"API\",\"ui_detail\":\"Triggered by \\\"ops\\\"\"},\"canceled\":false,\"current_step\":null}");
}

static void test_failed_run_without_an_error_of_its_own(void **state)
{
    (void)state;
    run_t r = base_run();
    r.state = RUN_FINISHED;
    r.result = RESULT_CANCELED;
    r.completed_at = 1704067260123;
    r.message = "replaced by a newer run";
    check(&r, "{\"id\":42,\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-01-01T00:01:00.123Z"
              "\",\"completed_at\":\"2024-01-01T00:01:00.123Z\",\"error_code\":\"canceled\",\"error_message\":"
              "\"The sync run was canceled: replaced by a newer run\",\"error_detail\":null,\"status\":\"failed"
              "\",\"sync_id\":7,\"source_record_count\":0,\"records_failed\":0,\"source_record_updates\":0,\"so"
              "urce_record_deletes\":0,\"source_record_invalids\":0,\"records_invalid\":0,\"records_processed\""
              ":0,\"records_updated\":0,\"scheduled_execution_time\":\"2024-01-01T00:00:00.000Z\",\"full_sync\""
              ":false,\"sync_trigger_reason\":{\"ui_tag\":\"API\",\"ui_detail\":\"Triggered by \\\"ops\\\"\"},"
              "\"canceled\":true,\"current_step\":null}");
}

static void test_live_run_with_an_error_and_a_step(void **state)
{
    (void)state;
    run_t r = base_run();
    r.state = RUN_WORKING;
    r.current_step = "extracting rows from snowflake";
    r.error_code = "E1";
    r.error_message = "line\nbreak \xc3\xa9";
    r.error_detail = "tab\there";
    check(&r, "{\"id\":42,\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-01-01T00:01:00.123Z"
              "\",\"completed_at\":null,\"error_code\":\"E1\",\"error_message\":\"line\\nbreak é\",\"error_deta"
              "il\":\"tab\\there\",\"status\":\"working\",\"sync_id\":7,\"source_record_count\":0,\"records_fai"
              "led\":0,\"source_record_updates\":0,\"source_record_deletes\":0,\"source_record_invalids\":0,\"r"
              "ecords_invalid\":0,\"records_processed\":0,\"records_updated\":0,\"scheduled_execution_time\":\""
              "2024-01-01T00:00:00.000Z\",\"full_sync\":false,\"sync_trigger_reason\":{\"ui_tag\":\"API\",\"ui_"
              "detail\":\"Triggered by \\\"ops\\\"\"},\"canceled\":false,\"current_step\":\"Unloading data from"
              " warehouse\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_run),
        cmocka_unit_test(test_failed_run_without_an_error_of_its_own),
        cmocka_unit_test(test_live_run_with_an_error_and_a_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
