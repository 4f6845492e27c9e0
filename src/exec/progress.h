/* The progress protocol: JSON lines a command writes on its progress pipe (fd 3), each one
 * object with one or more of:
 *   {"step": "Loading data into destination service"}
 *   {"counters": {"records_processed": 1200, ...}}      (Census counter names, integers >= 0)
 *   {"watermark": "2026-11-20T10:00:00Z"}                (ISO 8601)
 *   {"message": "..."}
 *   {"job": {"name": "extract", "state": "working"|"finished", "result": ..., "connector_type": ..., "phase": ...}}
 *   {"task": {"job": "extract", "source_file_id": "f1", "state": ..., "result": ..., "retry_attempts": 0,
 *             "error": {...}, "report": {...}}}
 * Jobs are named by `name` within a run (the first mention creates the job), tasks by (job,
 * source_file_id). A line that is not such an object is rejected with a reason, never fatal. */
#ifndef SYNCRUN_EXEC_PROGRESS_H
#define SYNCRUN_EXEC_PROGRESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/run.h"
#include "util/arena.h"

enum { PROGRESS_LINE_MAX = 64 * 1024 };

typedef struct progress_update {
    unsigned mask; /* RUN_F_STEP, RUN_F_WATERMARK, RUN_F_MESSAGE, RUN_F_COUNTER0 << c (store/store.h) */
    const char *step, *message;
    int64_t watermark;
    int64_t counters[CTR_COUNT];
    json_t *job;  /* the "job" object (borrowed from `doc`), or NULL */
    json_t *task; /* the "task" object, or NULL */
    json_t *doc;  /* the whole parsed line; release with progress_update_release */
} progress_update_t;

/* Parses one line (without its newline; need not be NUL-terminated). Returns 0 with *out filled:
 * its strings and job/task point into out->doc, valid until progress_update_release. Or -1 with a
 * short reason in err ("counters: unknown counter 'rows'") and *out zeroed (nothing to release).
 * Strict: unknown keys, wrong types, strings over their limits (step, job/task names 200
 * characters; message, texts 4096), a finished job/task without a result are all errors. An empty
 * or blank line is an error too ("empty line"): callers may choose to skip those. */
int progress_parse_line(const char *line, size_t len, progress_update_t *out, char *err, size_t errlen);
void progress_update_release(progress_update_t *u);

/* Splits a byte stream into lines: feed what a read returned; `on_line` gets each complete line
 * (without "\n" or a "\r\n"; empty lines too). A line longer than PROGRESS_LINE_MAX is reported
 * once, as soon as it passes the limit, with its first PROGRESS_LINE_MAX bytes and too_long = 1;
 * the rest of it up to the next newline is discarded. The buffer never holds more than
 * PROGRESS_LINE_MAX + 1 bytes. A zeroed struct is ready to use. */
typedef struct line_splitter {
    char *buf;
    size_t len, cap;
    int overflow; /* the current line went past the limit */
} line_splitter_t;

void line_splitter_feed(line_splitter_t *ls, const char *data, size_t n,
                        void (*on_line)(void *ctx, const char *line, size_t len, int too_long), void *ctx);
/* Delivers a last line without a newline, at EOF. */
void line_splitter_finish(line_splitter_t *ls, void (*on_line)(void *ctx, const char *line, size_t len, int too_long),
                          void *ctx);
void line_splitter_release(line_splitter_t *ls);

/* Keeps the last `cap` bytes of a stream (the run log's tail). */
typedef struct tail_buffer {
    char *data;
    size_t len, cap;
    uint64_t total; /* bytes seen, including those dropped */
} tail_buffer_t;

/* Allocates the cap bytes at once (a ring: no copying as the stream goes on). */
void tail_buffer_init(tail_buffer_t *t, size_t cap);
void tail_buffer_add(tail_buffer_t *t, const char *data, size_t n);
/* The last `lines` lines of what is kept, as a new heap string (free()); NULL only when out of
 * memory. A final newline ends the last line; once the stream went past `cap`, the first line kept
 * may be cut. */
char *tail_buffer_last_lines(const tail_buffer_t *t, int lines);
/* The error detail of a failed run, made from its output's tail by the runner and `syncrun exec`
 * alike: the last `lines` lines, of which at most RUN_DETAIL_MAX characters (the end kept), with
 * every malformed UTF-8 sequence and NUL byte replaced by U+FFFD. A new heap string (free());
 * NULL only when out of memory. */
char *tail_buffer_error_detail(const tail_buffer_t *t, int lines);
void tail_buffer_release(tail_buffer_t *t);

#endif
