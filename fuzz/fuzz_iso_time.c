/* Fuzzes time_parse_iso (every time a client or a vendor document sends) and time_format_iso.
 * Properties: a parsed time within years 0000..9999 formats and re-parses to the same
 * millisecond; any int64 formats to the 24-character form, which parses back to it (clamped to
 * that range). */
#include "fuzz.h"
#include "util/timeutil.h"

#define ISO_MIN_MS INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define ISO_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static void round_trip(int64_t ms)
{
    char out[TIME_ISO_LEN];
    time_format_iso(ms, out);
    FUZZ_CHECK(strlen(out) == TIME_ISO_LEN - 1 && out[TIME_ISO_LEN - 2] == 'Z');
    int64_t back = 0;
    FUZZ_CHECK(time_parse_iso(out, &back) == 0);
    int64_t clamped = ms < ISO_MIN_MS ? ISO_MIN_MS : ms > ISO_MAX_MS ? ISO_MAX_MS : ms;
    if (back != clamped) {
        fprintf(stderr, "%lld formats as %s, which parses to %lld\n", (long long)ms, out, (long long)back);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    int64_t ms = 0;
    if (time_parse_iso(s, &ms) == 0 && ms >= ISO_MIN_MS && ms <= ISO_MAX_MS)
        round_trip(ms);
    free(s);

    if (size >= 8) { /* the first 8 bytes as an instant */
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | data[i];
        round_trip((int64_t)u);
        round_trip((int64_t)(u % (uint64_t)(ISO_MAX_MS - ISO_MIN_MS + 1)) + ISO_MIN_MS);
    }
    return 0;
}
