/* Fuzzes the progress protocol a command writes on fd 3: line_splitter_feed cuts the byte
 * stream into lines, progress_parse_line parses each. The stream is fed twice, in one piece and
 * in random chunks (seeded from the input), and both must give the same lines: no line longer
 * than PROGRESS_LINE_MAX, none holding a newline, a cut line flagged too_long. When the first
 * byte is odd the rest is repeated past 64 KiB, so the splitter's limit is reached too. */
#include "exec/progress.h"
#include "fuzz.h"
#include "store/store.h"

typedef struct lines {
    unsigned char *buf; /* per line: 8 bytes length, 1 byte too_long, the bytes */
    size_t len, cap;
    int parse; /* also parse each line */
} lines_t;

static void lines_add(lines_t *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->len + n)
            cap *= 2;
        l->buf = realloc(l->buf, cap);
        if (l->buf == NULL)
            abort();
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void parse_one(const char *line, size_t len)
{
    progress_update_t u;
    char err[256];
    err[0] = '\0';
    if (progress_parse_line(line, len, &u, err, sizeof(err)) == 0) {
        FUZZ_CHECK(u.doc != NULL);
        FUZZ_CHECK(!(u.mask & RUN_F_STEP) || (u.step != NULL && utf8_chars(u.step) <= 200));
        FUZZ_CHECK(!(u.mask & RUN_F_MESSAGE) || (u.message != NULL && utf8_chars(u.message) <= 4096));
        for (int c = 0; c < CTR_COUNT; c++)
            FUZZ_CHECK(!(u.mask & (RUN_F_COUNTER0 << c)) || u.counters[c] >= 0);
        progress_update_release(&u);
        FUZZ_CHECK(u.doc == NULL);
    } else {
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
        FUZZ_CHECK(u.doc == NULL && u.mask == 0);
    }
}

static void on_line(void *ctx, const char *line, size_t len, int too_long)
{
    lines_t *l = ctx;
    FUZZ_CHECK(len <= PROGRESS_LINE_MAX);
    FUZZ_CHECK(memchr(line, '\n', len) == NULL);
    FUZZ_CHECK(!too_long || len == PROGRESS_LINE_MAX);
    uint64_t n = len;
    unsigned char flag = (unsigned char)too_long;
    lines_add(l, &n, sizeof(n));
    lines_add(l, &flag, 1);
    lines_add(l, line, len);
    if (l->parse && !too_long)
        parse_one(line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int amplify = data[0] & 1;
    const char *stream = (const char *)data + 1;
    size_t n = size - 1;
    char *big = NULL;
    if (amplify && n > 0) { /* repeat the payload past the line limit */
        size_t reps = (PROGRESS_LINE_MAX + 512) / n + 2, total = reps * n;
        big = malloc(total);
        if (big == NULL)
            abort();
        for (size_t i = 0; i < reps; i++)
            memcpy(big + i * n, stream, n);
        stream = big;
        n = total;
    }

    if (!amplify) /* the whole input as one line, newlines and all */
        parse_one(stream, n);

    lines_t whole = {.parse = !amplify}, chunked = {0}; /* parse short lines only: it is the slow part */
    line_splitter_t ls = {0};
    line_splitter_feed(&ls, stream, n, on_line, &whole);
    FUZZ_CHECK(ls.cap <= PROGRESS_LINE_MAX + 1);
    line_splitter_finish(&ls, on_line, &whole);
    line_splitter_release(&ls);

    uint64_t seed = fuzz_hash(data, size);
    size_t maxchunk = 1 + (size_t)(fuzz_rand(&seed) % (amplify ? 8192 : 64));
    for (size_t off = 0; off < n;) {
        size_t k = 1 + (size_t)(fuzz_rand(&seed) % maxchunk);
        if (k > n - off)
            k = n - off;
        line_splitter_feed(&ls, stream + off, k, on_line, &chunked);
        FUZZ_CHECK(ls.cap <= PROGRESS_LINE_MAX + 1 && ls.len <= ls.cap);
        off += k;
    }
    line_splitter_finish(&ls, on_line, &chunked);
    line_splitter_release(&ls);

    FUZZ_CHECK(whole.len == chunked.len && (whole.len == 0 || memcmp(whole.buf, chunked.buf, whole.len) == 0));
    free(whole.buf);
    free(chunked.buf);
    free(big);
    return 0;
}
