/* Tests for src/model/census_schedule.c: cron schedules as Census's schedule fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/census_schedule.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *cron, *tz;
    const char *frequency, *day;
    int hour, minute;
    int expression; /* cron_expression is the text */
} cases[] = {
    {NULL, NULL, "never", NULL, -1, -1, 0},
    {"7 * * * *", NULL, "hourly", NULL, -1, 7, 0},
    {"@hourly", NULL, "hourly", NULL, -1, 0, 0},
    {"*/15 * * * *", NULL, "quarter_hourly", NULL, -1, -1, 0},
    {"0,15,30,45 * * * *", "UTC", "quarter_hourly", NULL, -1, -1, 0},
    {"30 2 * * *", NULL, "daily", NULL, 2, 30, 0},
    {"@daily", "Etc/UTC", "daily", NULL, 0, 0, 0},
    {"5 4 * * 3", NULL, "weekly", "Wednesday", 4, 5, 0},
    {"5 4 * * sun", NULL, "weekly", "Sunday", 4, 5, 0},
    {"0 0 * * 7", NULL, "weekly", "Sunday", 0, 0, 0},
    {"@weekly", NULL, "weekly", "Sunday", 0, 0, 0},
    /* not one of Census's frequencies: the expression as written */
    {"*/5 * * * *", NULL, "expression", NULL, -1, -1, 1},
    {"0 */4 * * *", NULL, "expression", NULL, -1, -1, 1},
    {"0 9 * * 1-5", NULL, "expression", NULL, -1, -1, 1},
    {"0 0 1 * *", NULL, "expression", NULL, -1, -1, 1},
    {"0 0 * 6 *", NULL, "expression", NULL, -1, -1, 1},
    {"* * * * *", NULL, "expression", NULL, -1, -1, 1},
    /* Census's frequencies are in UTC: another zone keeps the expression */
    {"30 2 * * *", "Europe/Paris", "expression", NULL, -1, -1, 1},
    /* unreadable: as written */
    {"not cron", NULL, "expression", NULL, -1, -1, 1},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        census_schedule_t s;
        census_schedule_of(cases[i].cron, cases[i].tz, &s);
        assert_string_equal(s.frequency, cases[i].frequency);
        if (cases[i].day == NULL)
            assert_null(s.day);
        else
            assert_string_equal(s.day, cases[i].day);
        assert_int_equal(s.hour, cases[i].hour);
        assert_int_equal(s.minute, cases[i].minute);
        if (cases[i].expression)
            assert_ptr_equal(s.cron, cases[i].cron);
        else
            assert_null(s.cron);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
