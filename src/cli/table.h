/* Aligned plain-text tables for the CLI, in the manner of `gh run list`: a header row, columns
 * padded to their widest cell and separated by two spaces, over-long cells cut with "…". */
#ifndef SYNCRUN_CLI_TABLE_H
#define SYNCRUN_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct table table_t;

typedef enum table_align { TABLE_LEFT, TABLE_RIGHT } table_align_t;

/* At most this many rows (besides the header); table_add_row refuses more. */
enum { TABLE_MAX_ROWS = 100000 };

/* A table of ncols (>= 1) columns titled by headers[0..ncols), which are copied. Aborts on
 * out-of-memory, like the arena. Free it with table_free. */
table_t *table_new(int ncols, const char *const headers[]);
void table_free(table_t *t);

/* Sets how column col is shown: cells wider than max_width characters (0 = no limit) are cut
 * to max_width, the last one being "…"; numbers read best aligned TABLE_RIGHT. */
void table_column(table_t *t, int col, size_t max_width, table_align_t align);

/* Appends a row of ncols cells, copied into the table; NULL or "" shows as "-". Control
 * characters (including a newline or a terminal escape) show as "?". Returns 0, or -1 past
 * TABLE_MAX_ROWS rows or on out-of-memory. */
int table_add_row(table_t *t, const char *const cells[]);

/* Number of rows added (the header not counted). */
size_t table_rows(const table_t *t);

/* Writes the header and the rows to out. Widths count UTF-8 code points, so a column holding
 * East Asian wide characters may look misaligned; no line has trailing spaces. */
void table_print(const table_t *t, FILE *out);

#endif
