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

/* Parses one line (without its newline). Returns 0, or -1 with the reason in err. */
int progress_parse_line(const char *line, size_t len, progress_update_t *out, char *err, size_t errlen);
void progress_update_release(progress_update_t *u);

/* Splits a byte stream into lines: feed what a read returned; `on_line` gets each complete line
 * (without "\n"); lines longer than PROGRESS_LINE_MAX are cut and reported as too long. */
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

void tail_buffer_init(tail_buffer_t *t, size_t cap);
void tail_buffer_add(tail_buffer_t *t, const char *data, size_t n);
/* The last `lines` lines of what is kept, as a new heap string (free()). */
char *tail_buffer_last_lines(const tail_buffer_t *t, int lines);
void tail_buffer_release(tail_buffer_t *t);

#endif
