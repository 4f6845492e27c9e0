/* Tests for webhooks' pure parts: the Standard Webhooks signature (src/exec/webhook.c), the address
 * classifier and URL check (src/util/netaddr.c), the retry schedule (src/model/webhook.c) and the
 * standard base64 and secrets (src/util/ids.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exec/webhook.h"
#include "model/webhook.h"
#include "util/ids.h"
#include "util/netaddr.h"

/* The example of the Standard Webhooks specification (and of its reference libraries' tests). */
static void test_sign_spec_vector(void **state)
{
    (void)state;
    const char *body = "{\"test\": 2432232314}";
    char sig[WEBHOOK_SIGNATURE_LEN];
    assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                  body, strlen(body), sig),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* any change of id, time or body changes it */
    assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
                                  body, strlen(body), sig),
                     0);
    assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_sign_refuses_bad_secrets(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIGNATURE_LEN];
    assert_int_equal(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "x", 1, sig), -1);
    assert_int_equal(webhook_sign("whsec_", "m", 1, "x", 1, sig), -1);
    assert_int_equal(webhook_sign("whsec_***", "m", 1, "x", 1, sig), -1);
}

static void test_secret_format(void **state)
{
    (void)state;
    char a[IDS_WHSEC_LEN], b[IDS_WHSEC_LEN];
    unsigned char key[64];
    ids_webhook_secret(a);
    ids_webhook_secret(b);
    assert_int_equal(strlen(a), IDS_WHSEC_LEN - 1);
    assert_memory_equal(a, "whsec_", 6);
    assert_string_not_equal(a, b);
    assert_int_equal(ids_b64_decode(a + 6, strlen(a + 6), key, sizeof(key)), 32);
}

static void test_b64_round_trip_and_rejects(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{"", ""},
                                           {"f", "Zg=="},
                                           {"fo", "Zm8="},
                                           {"foo", "Zm9v"},
                                           {"foob", "Zm9vYg=="},
                                           {"fooba", "Zm9vYmE="},
                                           {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char enc[32], dec[32];
        ids_b64_encode(cases[i][0], strlen(cases[i][0]), enc);
        assert_string_equal(enc, cases[i][1]);
        long n = ids_b64_decode(cases[i][1], strlen(cases[i][1]), dec, sizeof(dec));
        assert_int_equal(n, (long)strlen(cases[i][0]));
        assert_memory_equal(dec, cases[i][0], (size_t)n);
    }
    char out[8];
    assert_int_equal(ids_b64_decode("Zm9v", 4, out, 2), -1);  /* does not fit */
    assert_int_equal(ids_b64_decode("Zm9v!", 5, out, 8), -1); /* not base64 */
    assert_int_equal(ids_b64_decode("Z", 1, out, 8), -1);     /* not a length base64 makes */
    assert_int_equal(ids_b64_decode("Zm9vYg", 6, out, 8), 4); /* padding optional */
}

static void test_address_classifier(void **state)
{
    (void)state;
    static const struct {
        const char *addr, *why; /* why: NULL = public */
    } cases[] = {
        {"8.8.8.8", NULL},
        {"93.184.215.14", NULL},
        {"127.0.0.1", "loopback"},
        {"127.255.255.254", "loopback"},
        {"10.0.0.1", "private"},
        {"172.16.0.1", "private"},
        {"172.31.255.255", "private"},
        {"172.32.0.1", NULL},
        {"192.168.1.1", "private"},
        {"169.254.169.254", "link-local"},
        {"100.64.0.1", "carrier-grade NAT"},
        {"100.127.255.255", "carrier-grade NAT"},
        {"100.128.0.1", NULL},
        {"0.0.0.0", "unspecified"},
        {"224.0.0.1", "multicast"},
        {"255.255.255.255", "reserved"},
        {"::", "unspecified"},
        {"::1", "loopback"},
        {"[::1]", "loopback"},
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:10.1.2.3", "private"},
        {"::ffff:169.254.169.254", "link-local"},
        {"::ffff:8.8.8.8", NULL},
        {"::127.0.0.1", "loopback"},
        {"64:ff9b::10.0.0.1", "private"},
        {"2002:0a00:0001::1", "private"}, /* 6to4 of 10.0.0.1 */
        {"fc00::1", "unique-local"},
        {"fd12:3456::1", "unique-local"},
        {"fe80::1", "link-local"},
        {"febf::1", "link-local"},
        {"ff02::1", "multicast"},
        {"2001:db8::1", "reserved"},
        {"2001:4860:4860::8888", NULL},
        {"2606:4700::1111", NULL},
        {"localhost", "not an address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = netaddr_refusal_text(cases[i].addr);
        if (cases[i].why == NULL) {
            if (got != NULL)
                fail_msg("%s: refused as %s, expected public", cases[i].addr, got);
        } else if (got == NULL || strcmp(got, cases[i].why) != 0) {
            fail_msg("%s: %s, expected %s", cases[i].addr, got ? got : "public", cases[i].why);
        }
    }
    /* the sockaddr form (what the delivery's socket callback sees) */
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
    assert_string_equal(netaddr_refusal((struct sockaddr *)&in6, sizeof(in6)), "loopback");
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "1.1.1.1", &in4.sin_addr);
    assert_null(netaddr_refusal((struct sockaddr *)&in4, sizeof(in4)));
    assert_string_equal(netaddr_refusal((struct sockaddr *)&in4, 2), "not an address");
}

static void test_url_check(void **state)
{
    (void)state;
    char why[300];
    static const char *const refused[] = {
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "example.com/x",
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://a b/",
        "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (netaddr_check_url(refused[i], 2048, 0, why, sizeof(why)) == 0)
            fail_msg("%s was accepted", refused[i]);
    assert_int_equal(netaddr_check_url("https://93.184.215.14/hook?a=1", 2048, 0, why, sizeof(why)), 0);
    assert_int_equal(netaddr_check_url("http://[2606:4700::1111]/", 2048, 0, why, sizeof(why)), 0);
    /* allowed private targets still need http(s) */
    assert_int_equal(netaddr_check_url("http://127.0.0.1:9/x", 2048, 1, why, sizeof(why)), 0);
    assert_int_equal(netaddr_check_url("gopher://127.0.0.1/", 2048, 1, why, sizeof(why)), -1);
    assert_int_equal(netaddr_check_url("http://93.184.215.14/aaaa", 20, 0, why, sizeof(why)), -1);
}

static void test_retry_schedule(void **state)
{
    (void)state;
    webhook_retry_t p = {5000, 3600000, 3 * 86400000LL, 10};
    /* the upper bound doubles from base to cap; full jitter draws below it */
    assert_int_equal(webhook_retry_next(&p, 1, 0, 1000, 0.9999999999), 1000 + 5000);
    assert_int_equal(webhook_retry_next(&p, 2, 0, 1000, 0.9999999999), 1000 + 10000);
    assert_int_equal(webhook_retry_next(&p, 4, 0, 1000, 0.9999999999), 1000 + 40000);
    assert_int_equal(webhook_retry_next(&p, 9, 0, 1000, 0.9999999999), 1000 + 1280000);
    p.max_attempts = 100;
    assert_int_equal(webhook_retry_next(&p, 30, 0, 1000, 0.9999999999), 1000 + 3600000); /* capped */
    assert_int_equal(webhook_retry_next(&p, 1, 0, 1000, 0.0), 1000 + 1);                 /* at least 1 ms */
    int64_t mid = webhook_retry_next(&p, 3, 0, 1000, 0.5);
    assert_true(mid > 1000 && mid <= 1000 + 20000);
    /* given up: out of attempts, or past the window */
    p.max_attempts = 10;
    assert_int_equal(webhook_retry_next(&p, 10, 0, 1000, 0.5), 0);
    assert_int_equal(webhook_retry_next(&p, 3, 0, 3 * 86400000LL - 10, 0.9999999999), 0);
    assert_int_not_equal(webhook_retry_next(&p, 3, 0, 3 * 86400000LL - 30000, 0.9999999999), 0);
}

static void test_event_and_status_names(void **state)
{
    (void)state;
    assert_true(webhook_event_known("run.failed"));
    assert_true(webhook_event_known("watermark.backwards"));
    assert_false(webhook_event_known("webhook.test"));
    assert_false(webhook_event_known("run.fail"));
    for (int s = 0; s < DELIVERY_STATUS_COUNT; s++)
        assert_int_equal(delivery_status_parse(delivery_status_name((delivery_status_t)s)), s);
    assert_int_equal(delivery_status_parse("lost"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_spec_vector),   cmocka_unit_test(test_sign_refuses_bad_secrets),
        cmocka_unit_test(test_secret_format),      cmocka_unit_test(test_b64_round_trip_and_rejects),
        cmocka_unit_test(test_address_classifier), cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_retry_schedule),     cmocka_unit_test(test_event_and_status_names),
    };
    return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
