/* Tests for src/util/arena.c: the bump allocator. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/arena.h"

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void test_alloc_zeroed_aligned(void **state)
{
    (void)state;
    arena_t a = ARENA_INIT;
    static const size_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 1000, 4096, 16383, 16384, 16385, 100000};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            unsigned char *p = arena_alloc(&a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
            assert_true(all_zero(p, sizes[i]));
            memset(p, 0xAB, sizes[i]); /* dirty it: the next round must still get zeroed memory */
        }
        arena_release(&a);
        assert_null(a.head);
    }
}

/* Many allocations of mixed sizes must not overlap: fill each with its own pattern and check
 * every one afterwards (ASan in the SAN=1 build also catches writes past a chunk). */
static void test_no_overlap(void **state)
{
    (void)state;
    enum { N = 3000 };
    arena_t a = ARENA_INIT;
    static unsigned char *ptrs[N];
    static size_t lens[N];
    for (int i = 0; i < N; i++) {
        lens[i] = (size_t)(i * 7919) % 700 + 1;
        if (i % 500 == 0)
            lens[i] = 20000 + (size_t)i; /* bigger than a chunk */
        ptrs[i] = arena_alloc(&a, lens[i]);
        memset(ptrs[i], i & 0xff, lens[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < lens[i]; j++)
            if (ptrs[i][j] != (unsigned char)(i & 0xff))
                fail_msg("allocation %d byte %zu overwritten", i, j);
    arena_release(&a);
}

static void test_strdup(void **state)
{
    (void)state;
    arena_t a = ARENA_INIT;
    char src[] = "hello";
    char *s = arena_strdup(&a, src);
    assert_non_null(s);
    assert_ptr_not_equal(s, src);
    assert_string_equal(s, "hello");
    src[0] = 'j'; /* a copy, not a reference */
    assert_string_equal(s, "hello");

    assert_string_equal(arena_strdup(&a, ""), "");
    assert_null(arena_strdup(&a, NULL));
    assert_null(arena_strndup(&a, NULL, 5));

    char *n = arena_strndup(&a, "hello world", 5);
    assert_string_equal(n, "hello");
    char *z = arena_strndup(&a, "abc", 0);
    assert_string_equal(z, "");
    /* exactly n bytes are copied, NULs included, and a NUL is added after them */
    char *bin = arena_strndup(&a, "a\0b", 3);
    assert_memory_equal(bin, "a\0b\0", 4);

    char big[30000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *d = arena_strdup(&a, big);
    assert_int_equal(strlen(d), sizeof(big) - 1);
    assert_string_equal(d, big);
    arena_release(&a);
}

static void test_release_and_reuse(void **state)
{
    (void)state;
    arena_t a = ARENA_INIT;
    arena_release(&a); /* releasing an empty arena is fine */
    assert_null(a.head);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++) {
            char *s = arena_strdup(&a, "a string that is not very short");
            assert_string_equal(s, "a string that is not very short");
        }
        assert_non_null(a.head);
        arena_release(&a);
        assert_null(a.head);
    }
    arena_release(&a); /* twice is harmless */
}

/* A request whose size cannot be represented once rounded up must abort ("aborts on
 * out-of-memory"), never return a block smaller than asked for. Run in a child process. */
static void test_huge_alloc_aborts(void **state)
{
    (void)state;
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 8};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(SIGABRT, SIG_DFL);
            arena_t a = ARENA_INIT;
            void *p = arena_alloc(&a, huge[i]);
            (void)p;
            _exit(0); /* returned: the caller now holds a block far smaller than it asked for */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
            fail_msg("arena_alloc(SIZE_MAX - %zu) returned instead of aborting", SIZE_MAX - huge[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_zeroed_aligned),
        cmocka_unit_test(test_no_overlap),
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_release_and_reuse),
        cmocka_unit_test(test_huge_alloc_aborts),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
