/* Tests for src/util/ids.c: UUIDs, tokens, SHA-256, base64url and strict integer parsing. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "util/ids.h"

enum { MANY = 2000 };

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* ---- random ---- */

static void test_random(void **state)
{
    (void)state;
    unsigned char a[64], b[64];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ids_random(a, sizeof(a));
    ids_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    static const unsigned char zero[64];
    assert_memory_not_equal(a, zero, sizeof(a));
    ids_random(a, 0); /* no bytes: nothing to do, must not fail */

    unsigned char big[100000]; /* more than one getrandom() call may return */
    memset(big, 0, sizeof(big));
    ids_random(big, sizeof(big));
    int zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        zeros += big[i] == 0;
    assert_in_range(zeros, 100, 1000); /* about 390 expected */
}

/* ---- UUIDs ---- */

static void test_uuid_v4_format(void **state)
{
    (void)state;
    static char uuids[MANY][IDS_UUID_LEN];
    for (int i = 0; i < MANY; i++) {
        char *u = uuids[i];
        memset(u, 'x', IDS_UUID_LEN);
        ids_uuid_v4(u);
        assert_int_equal(strlen(u), 36);
        for (int j = 0; j < 36; j++) {
            if (j == 8 || j == 13 || j == 18 || j == 23)
                assert_int_equal(u[j], '-');
            else
                assert_non_null(strchr("0123456789abcdef", u[j]));
        }
        assert_int_equal(u[14], '4');              /* version 4 */
        assert_non_null(memchr("89ab", u[19], 4)); /* RFC 4122 variant */
        assert_int_equal(ids_is_uuid(u), 1);
    }
    qsort(uuids, MANY, IDS_UUID_LEN, cmp_str);
    for (int i = 1; i < MANY; i++)
        assert_string_not_equal(uuids[i - 1], uuids[i]);
}

static const struct {
    const char *s;
    int want;
} is_uuid_cases[] = {
    {"123e4567-e89b-12d3-a456-426614174000", 1},
    {"123E4567-E89B-12D3-A456-426614174000", 1},
    {"123e4567-E89B-12d3-A456-426614174000", 1},
    {"00000000-0000-0000-0000-000000000000", 1},
    {"ffffffff-ffff-ffff-ffff-ffffffffffff", 1},
    {"", 0},
    {"123e4567", 0},
    {"123e4567-e89b-12d3-a456-42661417400", 0},   /* 35 characters */
    {"123e4567-e89b-12d3-a456-4266141740000", 0}, /* 37 characters */
    {"123e4567-e89b-12d3-a456-426614174000 ", 0},
    {" 123e4567-e89b-12d3-a456-426614174000", 0},
    {"123e4567e89b12d3a456426614174000", 0},     /* no dashes */
    {"123e4567-e89b12d3-a456-426614174000-", 0}, /* dash moved */
    {"123e456-7e89b-12d3-a456-426614174000", 0},
    {"123e4567_e89b_12d3_a456_426614174000", 0},
    {"123e4567-e89b-12d3-a456-42661417400g", 0},
    {"g23e4567-e89b-12d3-a456-426614174000", 0},
    {"123e4567-e89b-12d3-a456-4266141740-0", 0},
    {"{123e4567-e89b-12d3-a456-426614174000}", 0},
    {"urn:uuid:123e4567-e89b-12d3-a456-426614174000", 0},
    {"123e4567-e89b-12d3-a456-426614174000\n", 0},
    {"------------------------------------", 0},
};

static void test_is_uuid_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(is_uuid_cases) / sizeof(is_uuid_cases[0]); i++) {
        int got = ids_is_uuid(is_uuid_cases[i].s);
        if (got != is_uuid_cases[i].want) {
            print_error("ids_is_uuid(\"%s\") = %d, want %d\n", is_uuid_cases[i].s, got, is_uuid_cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Every spelling of a UUID normalises to the lower-case one that is stored; anything else is
 * refused. */
static void test_uuid_normalize(void **state)
{
    (void)state;
    char out[IDS_UUID_LEN];
    assert_int_equal(ids_uuid_normalize("123E4567-E89B-12D3-A456-42661417400F", out), 0);
    assert_string_equal(out, "123e4567-e89b-12d3-a456-42661417400f");
    assert_int_equal(ids_uuid_normalize("123e4567-E89b-12d3-a456-426614174000", out), 0);
    assert_string_equal(out, "123e4567-e89b-12d3-a456-426614174000");
    for (size_t i = 0; i < sizeof(is_uuid_cases) / sizeof(is_uuid_cases[0]); i++) {
        int rc = ids_uuid_normalize(is_uuid_cases[i].s, out);
        assert_int_equal(rc, is_uuid_cases[i].want ? 0 : -1);
        if (rc == 0) {
            assert_int_equal(strlen(out), 36);
            assert_int_equal(strcasecmp(out, is_uuid_cases[i].s), 0);
            for (int k = 0; k < 36; k++)
                assert_false(isupper((unsigned char)out[k]));
        } else {
            assert_string_equal(out, "");
        }
    }
}

/* ---- tokens ---- */

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void test_token_format_and_uniqueness(void **state)
{
    (void)state;
    static char tokens[MANY][IDS_TOKEN_LEN];
    int seen[256] = {0};
    for (int i = 0; i < MANY; i++) {
        char *t = tokens[i];
        memset(t, 'x', IDS_TOKEN_LEN);
        ids_token(t);
        assert_int_equal(strlen(t), IDS_TOKEN_LEN - 1);
        assert_int_equal(strlen(t), 43);
        assert_memory_equal(t, "sr_", 3);
        for (int j = 3; j < 43; j++) {
            assert_non_null(memchr(base62, t[j], 62));
            seen[(unsigned char)t[j]]++;
        }
    }
    /* 80,000 characters: every one of the 62 is expected about 1,290 times. A character that
     * never or rarely appears means a broken alphabet or a biased choice. */
    for (int c = 0; c < 62; c++)
        assert_in_range(seen[(unsigned char)base62[c]], 900, 1700);
    qsort(tokens, MANY, IDS_TOKEN_LEN, cmp_str);
    for (int i = 1; i < MANY; i++)
        assert_string_not_equal(tokens[i - 1], tokens[i]);
}

/* ---- SHA-256 ---- */

static void test_sha256_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *hex;
    } cases[] = {
        {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"\0", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
        {"abcdef", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}, /* only n bytes */
        {"sr_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcd", 43,
         "a494bd50fd7b807d4a393ef677c13208c8308884608bcd9e07382ed58524bdfd"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[IDS_SHA256_HEX_LEN];
        memset(out, 'x', sizeof(out));
        ids_sha256_hex(cases[i].in, cases[i].n, out);
        assert_string_equal(out, cases[i].hex);
    }

    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    char out[IDS_SHA256_HEX_LEN];
    ids_sha256_hex(million, 1000000, out);
    assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* ---- base64url ---- */

static void test_b64url_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *b64;
    } cases[] = {
        {"", 0, ""},
        {"f", 1, "Zg"},
        {"fo", 2, "Zm8"},
        {"foo", 3, "Zm9v"},
        {"foob", 4, "Zm9vYg"},
        {"fooba", 5, "Zm9vYmE"},
        {"foobar", 6, "Zm9vYmFy"},
        {"\xfb\xff", 2, "-_8"},
        {"\xff\xff\xff", 3, "____"},
        {"\xfb\xef\xbe", 3, "----"},
        {"\0", 1, "AA"},
        {"\0\0", 2, "AAA"},
        {"\0\0\0", 3, "AAAA"},
        {"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10, "AAECAwQFBgcICQ"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char enc[64];
        memset(enc, 'x', sizeof(enc));
        size_t len = ids_b64url_encode(cases[i].in, cases[i].n, enc);
        assert_int_equal(len, strlen(cases[i].b64));
        assert_string_equal(enc, cases[i].b64);

        unsigned char dec[64];
        long n = ids_b64url_decode(cases[i].b64, strlen(cases[i].b64), dec, sizeof(dec));
        assert_int_equal(n, (long)cases[i].n);
        assert_memory_equal(dec, cases[i].in, cases[i].n);
    }
}

static void test_b64url_round_trip(void **state)
{
    (void)state;
    unsigned char in[200], dec[200];
    char enc[4 * ((200 + 2) / 3) + 1];
    for (size_t n = 0; n <= sizeof(in); n++) {
        for (int rep = 0; rep < 5; rep++) {
            ids_random(in, n);
            size_t len = ids_b64url_encode(in, n, enc);
            assert_int_equal(len, (4 * n + 2) / 3); /* no padding */
            assert_int_equal(strlen(enc), len);
            assert_null(strpbrk(enc, "+/="));
            long m = ids_b64url_decode(enc, len, dec, n); /* exactly enough room */
            assert_int_equal(m, (long)n);
            assert_memory_equal(dec, in, n);
            if (n > 0) /* one byte short of room */
                assert_int_equal(ids_b64url_decode(enc, len, dec, n - 1), -1);
        }
    }
    /* every single byte value and every 2-byte prefix pattern */
    for (int b = 0; b < 256; b++) {
        unsigned char two[2] = {(unsigned char)b, (unsigned char)(255 - b)};
        for (size_t n = 1; n <= 2; n++) {
            size_t len = ids_b64url_encode(two, n, enc);
            assert_int_equal(ids_b64url_decode(enc, len, dec, sizeof(dec)), (long)n);
            assert_memory_equal(dec, two, n);
        }
    }
}

static void test_b64url_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"Z", 1}, /* a length of 4k+1 cannot be produced by the encoder */
        {"Zm9vY", 5},
        {"Zm9vYmFyZ", 9},
        {"Zg==", 4}, /* padding is not part of the unpadded form */
        {"Zm8=", 4},
        {"Zg=", 3},
        {"+/8", 3}, /* standard alphabet, not url */
        {"Zm+v", 4},
        {"Zm/v", 4},
        {"Zm9v ", 5},
        {" Zm9v", 5},
        {"Zm 9v", 5},
        {"Zm9v\n", 5},
        {"Zm.v", 4},
        {"Zm9v\0Zm9", 8}, /* a NUL inside the given length */
        {"\0\0\0\0", 4},
        {"Zm\xff"
         "v",
         4}, /* a byte outside ASCII */
        /* non-canonical: leftover bits must be zero so each byte string has one encoding */
        {"Zh", 2}, /* 'f' is "Zg"; 'h' sets a leftover bit */
        {"Zv", 2},
        {"Z_", 2},
        {"Zm9", 3}, /* "fo" is "Zm8" */
        {"Zm-", 3},
        {"AB", 2},
        {"AAB", 3},
        {"__", 2},
        {"___", 3},
        {"Zm9vYh", 6},
        {"Zm9vYmF", 7},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char dec[64];
        long n = ids_b64url_decode(bad[i].s, bad[i].n, dec, sizeof(dec));
        if (n != -1)
            fail_msg("ids_b64url_decode(\"%.*s\") = %ld, want -1", (int)bad[i].n, bad[i].s, n);
    }
    /* decode of a prefix: only n characters are read */
    unsigned char dec[8];
    assert_int_equal(ids_b64url_decode("Zm9v!!!!", 4, dec, sizeof(dec)), 3);
    assert_memory_equal(dec, "foo", 3);
    assert_int_equal(ids_b64url_decode("", 0, dec, 0), 0);
    assert_int_equal(ids_b64url_decode("Zg", 2, dec, 0), -1);
}

/* ---- ids_parse_i64 ---- */

static const struct {
    const char *s;
    size_t n; /* 0 = strlen(s) */
    int64_t min, max;
    int rc;
    int64_t want;
} parse_cases[] = {
    {"0", 0, INT64_MIN, INT64_MAX, 0, 0},
    {"-0", 0, INT64_MIN, INT64_MAX, 0, 0},
    {"42", 0, INT64_MIN, INT64_MAX, 0, 42},
    {"-42", 0, INT64_MIN, INT64_MAX, 0, -42},
    {"1634698267546", 0, INT64_MIN, INT64_MAX, 0, 1634698267546},
    {"9223372036854775807", 0, INT64_MIN, INT64_MAX, 0, INT64_MAX},
    {"-9223372036854775808", 0, INT64_MIN, INT64_MAX, 0, INT64_MIN},
    /* overflow */
    {"9223372036854775808", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"-9223372036854775809", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"99999999999999999999", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"-99999999999999999999", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1234567890123456789012345678901234567890", 0, INT64_MIN, INT64_MAX, -1, 0},
    /* bounds are inclusive */
    {"1", 0, 1, 100, 0, 1},
    {"100", 0, 1, 100, 0, 100},
    {"0", 0, 1, 100, -1, 0},
    {"101", 0, 1, 100, -1, 0},
    {"-1", 0, 0, INT64_MAX, -1, 0},
    {"-1", 0, -1, -1, 0, -1},
    {"9223372036854775807", 0, 0, INT64_MAX - 1, -1, 0},
    {"-9223372036854775808", 0, INT64_MIN + 1, 0, -1, 0},
    /* garbage */
    {"", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"-", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"+1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {" 1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1 ", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"\t1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1\n", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1a", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"a1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"0x10", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1.0", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1e3", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1,000", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"--1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"-+1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"- 1", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"1-", 0, INT64_MIN, INT64_MAX, -1, 0},
    {"abc", 0, INT64_MIN, INT64_MAX, -1, 0},
    /* only s[0..n) is read */
    {"123abc", 3, INT64_MIN, INT64_MAX, 0, 123},
    {"-7,8", 2, INT64_MIN, INT64_MAX, 0, -7},
    {"123abc", 4, INT64_MIN, INT64_MAX, -1, 0},
    /* a NUL inside s[0..n) is not a digit: "all of s[0..n)" must be the number */
    {"12\0", 3, INT64_MIN, INT64_MAX, -1, 0},
    {"\0", 1, INT64_MIN, INT64_MAX, -1, 0},
    {"-\0", 2, INT64_MIN, INT64_MAX, -1, 0},
};

static void test_parse_i64_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        size_t n = parse_cases[i].n ? parse_cases[i].n : strlen(parse_cases[i].s);
        int64_t out = 4242;
        int rc = ids_parse_i64(parse_cases[i].s, n, parse_cases[i].min, parse_cases[i].max, &out);
        int bad = rc != parse_cases[i].rc || (rc == 0 && out != parse_cases[i].want);
        if (bad) {
            print_error("ids_parse_i64(\"%.*s\", %zu, [%lld, %lld]) = %d (%lld), want %d (%lld)\n", (int)n,
                        parse_cases[i].s, n, (long long)parse_cases[i].min, (long long)parse_cases[i].max, rc,
                        (long long)out, parse_cases[i].rc, (long long)parse_cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_uuid_v7(void **state)
{
    (void)state;
    char a[IDS_UUID_LEN], b[IDS_UUID_LEN];
    ids_uuid_v7(a);
    for (int i = 0; i < 1000; i++) {
        ids_uuid_v7(b);
        assert_true(ids_is_uuid(b));
        assert_int_equal(b[14], '7');           /* version 7 */
        assert_non_null(strchr("89ab", b[19])); /* RFC 9562 variant */
        assert_true(memcmp(a, b, 13) <= 0);     /* the millisecond prefix never goes back */
        memcpy(a, b, IDS_UUID_LEN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v7),           cmocka_unit_test(test_random),
        cmocka_unit_test(test_uuid_v4_format),    cmocka_unit_test(test_is_uuid_table),
        cmocka_unit_test(test_uuid_normalize),    cmocka_unit_test(test_token_format_and_uniqueness),
        cmocka_unit_test(test_sha256_vectors),    cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_b64url_round_trip), cmocka_unit_test(test_b64url_rejects),
        cmocka_unit_test(test_parse_i64_table),
    };
    return cmocka_run_group_tests_name("ids", tests, NULL, NULL);
}
