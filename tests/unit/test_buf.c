/* Tests for src/util/buf.c: the capped, always NUL-terminated byte buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void test_empty(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(16);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 16);
    assert_string_equal(buf_str(&b), "");
    buf_reset(&b); /* reset and release of a never-used buffer are fine */
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
    assert_null(b.data);
    assert_string_equal(buf_str(&b), "");
}

static void test_add_and_grow(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(1 << 20);
    assert_int_equal(buf_adds(&b, "hello"), 0);
    assert_int_equal(buf_add(&b, ", world", 7), 0);
    assert_int_equal(b.len, 12);
    assert_string_equal(buf_str(&b), "hello, world");
    assert_int_equal(buf_adds(&b, ""), 0);
    assert_int_equal(buf_add(&b, "ignored", 0), 0);
    assert_int_equal(b.len, 12);
    assert_string_equal(buf_str(&b), "hello, world");

    /* grow well past the first allocation, one byte at a time and in blocks */
    buf_reset(&b);
    char expect[10000];
    for (size_t i = 0; i < sizeof(expect); i++) {
        char c = (char)('a' + i % 26);
        expect[i] = c;
        assert_int_equal(buf_add(&b, &c, 1), 0);
        assert_int_equal(b.len, i + 1);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_memory_equal(b.data, expect, sizeof(expect));
    assert_true(b.alloc > b.len);
    assert_int_equal(buf_add(&b, expect, sizeof(expect)), 0);
    assert_int_equal(b.len, 2 * sizeof(expect));
    assert_memory_equal(b.data + sizeof(expect), expect, sizeof(expect));
    assert_int_equal(strlen(buf_str(&b)), 2 * sizeof(expect));
    buf_release(&b);
}

static void test_binary_bytes(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(64);
    assert_int_equal(buf_add(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    buf_release(&b);
}

/* The cap, and the sticky failure past it: a refused append empties the buffer and every later
 * append fails too, so a document is never stored or sent with its middle missing. */
static void test_cap_add(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(5);
    assert_int_equal(buf_adds(&b, "hel"), 0);
    assert_int_equal(buf_adds(&b, "lo"), 0); /* exactly the cap */
    assert_int_equal(b.len, 5);
    assert_string_equal(buf_str(&b), "hello");
    assert_false(buf_failed(&b));
    assert_int_equal(buf_add(&b, "", 0), 0); /* adding nothing never exceeds the cap */
    assert_int_equal(buf_add(&b, "!", 1), -1);
    assert_true(buf_failed(&b));
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    /* sticky: appends that would fit fail as well, and add nothing */
    assert_int_equal(buf_add(&b, "", 0), -1);
    assert_int_equal(buf_adds(&b, "x"), -1);
    assert_int_equal(buf_addf(&b, "%d", 1), -1);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");

    /* after a reset the whole cap is available again */
    buf_reset(&b);
    assert_false(buf_failed(&b));
    assert_int_equal(b.cap, 5);
    assert_int_equal(buf_adds(&b, "world"), 0);
    assert_string_equal(buf_str(&b), "world");
    buf_release(&b);

    /* absurd sizes are refused before any copy */
    buf_t a = BUF_INIT(5);
    assert_int_equal(buf_add(&a, "x", SIZE_MAX), -1);
    assert_true(buf_failed(&a));
    buf_release(&a);
    assert_false(buf_failed(&a)); /* a released buffer is usable again */
    assert_int_equal(buf_add(&a, "x", SIZE_MAX - 2), -1);
    buf_release(&a);

    /* a cap of zero takes nothing but the empty string */
    buf_t z = BUF_INIT(0);
    assert_int_equal(buf_adds(&z, ""), 0);
    assert_string_equal(buf_str(&z), "");
    assert_int_equal(buf_adds(&z, "x"), -1);
    assert_null(z.data);
    assert_string_equal(buf_str(&z), "");
    buf_release(&z);
}

/* The defect this guards against: a JSON document whose one long member was refused, and whose
 * closing bytes were then accepted, came out as well-formed-looking but cut text. */
static void test_failure_never_cuts_a_document(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(32);
    char big[64];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_adds(&b, "{\"detail\":\"");
    buf_adds(&b, big);   /* refused: past the cap */
    buf_adds(&b, "\"}"); /* would fit on its own, must not be taken */
    assert_true(buf_failed(&b));
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

static void test_cap_large_first_add(void **state)
{
    (void)state;
    /* the first add is refused before anything is allocated */
    buf_t b = BUF_INIT(1000);
    char big[1001];
    memset(big, 'x', sizeof(big));
    assert_int_equal(buf_add(&b, big, sizeof(big)), -1);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_reset(&b);
    assert_int_equal(buf_add(&b, big, 1000), 0);
    assert_int_equal(b.len, 1000);
    assert_memory_equal(b.data, big, 1000);
    assert_int_equal(b.data[1000], '\0');
    buf_release(&b);
}

static void test_addf(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(4096);
    assert_int_equal(buf_addf(&b, "%d-%s-%lld-%%-%c", 42, "x", (long long)INT64_MIN, 'z'), 0);
    assert_string_equal(buf_str(&b), "42-x--9223372036854775808-%-z");
    assert_int_equal(b.len, strlen("42-x--9223372036854775808-%-z"));
    assert_int_equal(buf_addf(&b, "%s", ""), 0);
    assert_int_equal(b.len, strlen("42-x--9223372036854775808-%-z"));
    buf_reset(&b);

    /* longer than the first allocation: the formatted text must be complete */
    assert_int_equal(buf_addf(&b, "[%0700d]", 7), 0);
    assert_int_equal(b.len, 702);
    assert_int_equal(b.data[0], '[');
    assert_int_equal(b.data[699], '0');
    assert_int_equal(b.data[700], '7');
    assert_int_equal(b.data[701], ']');
    assert_int_equal(b.data[702], '\0');

    /* appends after existing content */
    buf_reset(&b);
    assert_int_equal(buf_adds(&b, "a="), 0);
    assert_int_equal(buf_addf(&b, "%u;", 1u), 0);
    assert_int_equal(buf_addf(&b, "b=%.3s;", "abcdef"), 0);
    assert_string_equal(buf_str(&b), "a=1;b=abc;");
    buf_release(&b);
}

static void test_addf_cap(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(10);
    assert_int_equal(buf_addf(&b, "%s", "12345"), 0);
    assert_int_equal(buf_addf(&b, "%05d", 6789), 0); /* exactly the cap */
    assert_string_equal(buf_str(&b), "1234506789");
    assert_int_equal(buf_addf(&b, "%c", 'x'), -1);
    assert_true(buf_failed(&b));
    assert_int_equal(buf_addf(&b, "%s", ""), -1); /* sticky */
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);

    /* refused on a fresh buffer: still empty, nothing allocated */
    buf_t f = BUF_INIT(3);
    assert_int_equal(buf_addf(&f, "%s", "abcd"), -1);
    assert_null(f.data);
    assert_string_equal(buf_str(&f), "");
    buf_release(&f);
}

static int vaddf_wrapper(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vaddf_wrapper(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static void test_vaddf(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(8);
    assert_int_equal(vaddf_wrapper(&b, "%s=%d", "k", 7), 0);
    assert_string_equal(buf_str(&b), "k=7");
    assert_int_equal(vaddf_wrapper(&b, "%s", "123456"), -1);
    assert_true(buf_failed(&b));
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

static void test_reset_release(void **state)
{
    (void)state;
    buf_t b = BUF_INIT(1024);
    assert_int_equal(buf_adds(&b, "some text"), 0);
    size_t alloc = b.alloc;
    const char *data = b.data;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.alloc, alloc); /* reset keeps the allocation */
    assert_ptr_equal(b.data, data);
    assert_int_equal(buf_adds(&b, "again"), 0);
    assert_string_equal(buf_str(&b), "again");
    buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_string_equal(buf_str(&b), "");
    /* a released buffer can be used again, with the same cap */
    assert_int_equal(b.cap, 1024);
    assert_int_equal(buf_adds(&b, "reused"), 0);
    assert_string_equal(buf_str(&b), "reused");
    buf_release(&b);
    buf_release(&b); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_add_and_grow),
        cmocka_unit_test(test_binary_bytes),
        cmocka_unit_test(test_cap_add),
        cmocka_unit_test(test_failure_never_cuts_a_document),
        cmocka_unit_test(test_cap_large_first_add),
        cmocka_unit_test(test_addf),
        cmocka_unit_test(test_addf_cap),
        cmocka_unit_test(test_vaddf),
        cmocka_unit_test(test_reset_release),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
