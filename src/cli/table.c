/* Plain-text tables: cells are copied into the table's arena and measured when printed. */
#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

struct table {
    int ncols;
    size_t nrows, alloc_rows; /* rows, not counting the header; slots in `rows` */
    char ***rows;             /* rows[0] is the header; each row holds ncols cells */
    size_t *max_width;
    table_align_t *align;
    arena_t arena; /* owns every cell and row */
};

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, one column wide */

table_t *table_new(int ncols, const char *const headers[])
{
    table_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->ncols = ncols;
    t->arena = (arena_t)ARENA_INIT;
    t->max_width = arena_alloc(&t->arena, (size_t)ncols * sizeof(*t->max_width));
    t->align = arena_alloc(&t->arena, (size_t)ncols * sizeof(*t->align));
    t->alloc_rows = 16;
    t->rows = calloc(t->alloc_rows, sizeof(*t->rows));
    if (t->rows == NULL)
        abort();
    t->rows[0] = arena_alloc(&t->arena, (size_t)ncols * sizeof(char *));
    for (int i = 0; i < ncols; i++)
        t->rows[0][i] = arena_strdup(&t->arena, headers[i]);
    return t;
}

void table_free(table_t *t)
{
    if (t == NULL)
        return;
    arena_release(&t->arena);
    free(t->rows);
    free(t);
}

void table_column(table_t *t, int col, size_t max_width, table_align_t align)
{
    if (col < 0 || col >= t->ncols)
        return;
    t->max_width[col] = max_width;
    t->align[col] = align;
}

/* A copy of s with every C0/C1 control character (and DEL) replaced by '?': table cells come
 * from users and must not move the cursor or start a terminal escape sequence. */
static char *copy_printable(arena_t *a, const char *s)
{
    if (s == NULL || *s == '\0')
        s = "-";
    size_t n = strlen(s);
    char *p = arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f) {
            p[i] = '?';
        } else if (c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] >= 0x80 && (unsigned char)p[i + 1] <= 0x9f) {
            /* U+0080..U+009F (C1 controls, e.g. CSI): two bytes become "??" */
            p[i] = '?';
            p[i + 1] = '?';
            i++;
        }
    }
    return p;
}

int table_add_row(table_t *t, const char *const cells[])
{
    if (t->nrows >= TABLE_MAX_ROWS)
        return -1;
    if (t->nrows + 1 >= t->alloc_rows) {
        size_t alloc = t->alloc_rows * 2;
        char ***rows = realloc(t->rows, alloc * sizeof(*rows));
        if (rows == NULL)
            return -1;
        t->rows = rows;
        t->alloc_rows = alloc;
    }
    char **row = arena_alloc(&t->arena, (size_t)t->ncols * sizeof(char *));
    for (int i = 0; i < t->ncols; i++)
        row[i] = copy_printable(&t->arena, cells[i]);
    t->rows[++t->nrows] = row;
    return 0;
}

size_t table_rows(const table_t *t)
{
    return t->nrows;
}

/* Display width of UTF-8 text: its code points (bytes that do not continue a sequence). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Bytes taken by the first `chars` code points of s. */
static size_t prefix_bytes(const char *s, size_t chars)
{
    size_t i = 0;
    while (s[i] != '\0') {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (chars == 0)
                break;
            chars--;
        }
        i++;
    }
    return i;
}

static size_t shown_width(const char *s, size_t max)
{
    size_t w = text_width(s);
    return max != 0 && w > max ? max : w;
}

static void put_spaces(FILE *out, size_t n)
{
    while (n-- > 0)
        fputc(' ', out);
}

static void put_cell(FILE *out, const char *s, size_t colwidth, size_t max, table_align_t align, int last)
{
    size_t w = text_width(s), shown = w, nbytes = strlen(s);
    int cut = max != 0 && w > max;
    if (cut) {
        shown = max;
        nbytes = prefix_bytes(s, max - 1);
    }
    size_t pad = colwidth > shown ? colwidth - shown : 0;
    if (align == TABLE_RIGHT)
        put_spaces(out, pad);
    fwrite(s, 1, nbytes, out);
    if (cut)
        fputs(ellipsis, out);
    if (align == TABLE_LEFT && !last)
        put_spaces(out, pad);
}

void table_print(const table_t *t, FILE *out)
{
    size_t *width = calloc((size_t)t->ncols, sizeof(*width));
    if (width == NULL)
        abort();
    for (size_t r = 0; r <= t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            size_t w = shown_width(t->rows[r][c], t->max_width[c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c > 0)
                fputs("  ", out);
            put_cell(out, t->rows[r][c], width[c], t->max_width[c], t->align[c], c == t->ncols - 1);
        }
        fputc('\n', out);
    }
    free(width);
}
