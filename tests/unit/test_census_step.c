/* Tests for src/model/census_step.c: any step text shows as one of seed 003's current_step values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/census_step.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *in, *want;
} cases[] = {
    /* no step */
    {NULL, NULL},
    {"", NULL},
    /* Census's own texts are themselves, whatever their case (seed 001 writes "Running Sync") */
    {"Running Sync", "Running sync"},
    {"running sync", "Running sync"},
    {"Checking for columns to remove from the sync", "Checking for columns to remove from the sync"},
    {"UNLOADING DATA FROM WAREHOUSE", "Unloading data from warehouse"},
    {"Committing sync to warehouse", "Committing sync to warehouse"},
    /* keywords, the specific rules first */
    {"removing stale columns", "Checking for columns to remove from the sync"},
    {"create missing fields", "Checking for fields to create in destination"},
    {"commit watermark to warehouse", "Committing sync to warehouse"},
    {"commit batch 3", "Committing data to destination service"},
    {"validating mapping", "Checking source and destination configuration"},
    {"config check", "Checking source and destination configuration"},
    {"extracting rows from snowflake", "Unloading data from warehouse"},
    {"Reading source", "Unloading data from warehouse"},
    {"loading", "Loading data into destination service"},
    {"sending batch 4 of 9", "Loading data into destination service"},
    {"upsert contacts", "Loading data into destination service"},
    /* nothing Census names: the generic step */
    {"step 7", "Running sync"},
    {"héllo wörld", "Running sync"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        const char *got = census_step_name(cases[i].in);
        if (cases[i].want == NULL) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        }
    }
}

/* Whatever comes in, what goes out is one of the seed's texts (the same pointer). */
static void test_only_seed_values(void **state)
{
    (void)state;
    static const char *const inputs[] = {"a", "commit", "COLUMN", "x remov", "load warehouse", "??", "Running"};
    for (size_t i = 0; i < COUNT(inputs); i++) {
        const char *got = census_step_name(inputs[i]);
        int found = 0;
        for (size_t k = 0; census_steps[k] != NULL; k++)
            found |= got == census_steps[k];
        assert_true(found);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_only_seed_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
