/* Fuzzes tz_parse (TZif data, RFC 8536, and the POSIX TZ string of its footer) and the lookups
 * on what parses: tz_offset_at and tz_next_transition at a few instants, extreme ones included.
 * Properties: offsets stay in the range TZif and POSIX allow; a next transition is strictly
 * later, really changes the offset, and agrees with tz_offset_at on both sides of it. */
#include "fuzz.h"
#include "util/tz.h"

/* TZif types hold -25 h..+26 h (checked by the parser); a POSIX footer at most 24:59:59 plus an
 * hour of DST either way. */
#define OFF_LIMIT (26 * 3600 + 3600)

static void check_offset(const tz_t *tz, int64_t t)
{
    int32_t off = tz_offset_at(tz, t);
    FUZZ_CHECK(off >= -OFF_LIMIT && off <= OFF_LIMIT);
}

static void check_from(const tz_t *tz, int64_t t)
{
    check_offset(tz, t);
    for (int i = 0; i < 4; i++) {
        int64_t at;
        int32_t before, after;
        if (tz_next_transition(tz, t, &at, &before, &after) != 0)
            return;
        FUZZ_CHECK(at > t);
        FUZZ_CHECK(before != after);
        FUZZ_CHECK(tz_offset_at(tz, at - 1) == before);
        FUZZ_CHECK(tz_offset_at(tz, at) == after);
        t = at;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = '\0';
    tz_t *tz = tz_parse("Fuzz/Zone", data, size, err, sizeof(err));
    if (tz == NULL) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(strcmp(tz_name(tz), "Fuzz/Zone") == 0);
    static const int64_t instants[] = {
        INT64_MIN,
        INT64_MIN + 1,
        -(INT64_C(1) << 53) - 1,
        INT64_C(-2208988800), /* 1900 */
        -1,
        0,
        INT64_C(1711846800), /* 2024-03-31T01:00:00Z */
        INT64_C(1729990800),
        INT64_C(4102444800), /* 2100 */
        INT64_C(1) << 40,
        (INT64_C(1) << 53) + 1,
        INT64_MAX - 1,
        INT64_MAX,
    };
    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++)
        check_from(tz, instants[i]);
    uint64_t seed = fuzz_hash(data, size);
    for (int i = 0; i < 4; i++)
        check_from(tz, (int64_t)fuzz_rand(&seed));
    tz_free(tz);
    return 0;
}
