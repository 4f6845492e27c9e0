/* Pagination arithmetic, shared by the page-numbered dialects. Because run_count is a gapless
 * per-connection sequence (1..total), a page maps to a run_count range without scanning. */
#ifndef SYNCRUN_MODEL_PAGING_H
#define SYNCRUN_MODEL_PAGING_H

#include <stdint.h>

typedef struct page_window {
    int64_t page;      /* the page answered (>= 1) */
    int64_t last_page; /* the last page with records; 1 when there are none */
    int64_t prev_page; /* 0 = none */
    int64_t next_page; /* 0 = none */
    int64_t lo, hi;    /* run_count range of the page, inclusive; lo > hi when the page is empty */
} page_window_t;

/* Computes the window of `page` (0 means 1) of `per_page` (>= 1) runs out of `total`, ordered by
 * run_count ascending (asc != 0) or descending. A page past the end is empty. */
void paging_window(int64_t total, int64_t page, int64_t per_page, int asc, page_window_t *w);

#endif
