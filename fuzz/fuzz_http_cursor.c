/* Fuzzes Braze's signed cursors (job_sync_status and the integrations list) through the real server
 * (harness.h). Bit 1 of the first byte picks the list. With bit 0 clear, the rest is the cursor
 * text as a client would send it (percent-encoded into the query): everything but this server's
 * own cursors must be refused 400. With it set, the rest is the cursor's signed fields (version,
 * direction, owner id, position; zero-padded to 18 bytes), signed here with the database's secret
 * as api/braze.c signs them, so the checks behind the signature and the paging from any position
 * are reached: a signed cursor for another owner, version or direction is refused 400, any other
 * is answered 200. */
#include "api/braze.c"

#include "fuzz.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 512)
        return -1;
    harness_init();
    int integrations = (data[0] & 2) != 0;
    char query[2048];
    size_t used = 0;
    if (data[0] & 1) {
        unsigned char raw[BRAZE_CURSOR_RAW] = {0};
        memcpy(raw, data + 1, size - 1 < BRAZE_CURSOR_BODY ? size - 1 : BRAZE_CURSOR_BODY);
        FUZZ_CHECK(braze_cursor_tag(harness_store(), integrations ? braze_integrations_label : braze_runs_label, raw,
                                    raw + BRAZE_CURSOR_BODY) == 0);
        char text[BRAZE_CURSOR_LEN + 1];
        ids_b64url_encode(raw, sizeof(raw), text);
        harness_percent_encode(query, sizeof(query), &used, (const uint8_t *)text, strlen(text));
    } else {
        harness_percent_encode(query, sizeof(query), &used, data + 1, size - 1);
    }
    char req[4096];
    int n =
        snprintf(req, sizeof(req), "GET %s?cursor=%s HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer @TOKEN@\r\n\r\n",
                 integrations ? "/cdi/integrations" : "/cdi/integrations/@CONNUUID@/job_sync_status", query);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(req));
    size_t len;
    char *expanded = harness_expand((const uint8_t *)req, (size_t)n, &len);
    if (harness_exchange(expanded, len) == 1) {
        int st = harness_last_status();
        FUZZ_CHECK(st == 200 || st == 400);
    }
    free(expanded);
    return 0;
}
