/* Page number -> run_count range. */
#include "model/paging.h"

void paging_window(int64_t total, int64_t page, int64_t per_page, int asc, page_window_t *w)
{
    if (page < 1)
        page = 1;
    if (total < 0)
        total = 0;
    w->page = page;
    /* written so that no intermediate value can overflow */
    w->last_page = total == 0 ? 1 : total / per_page + (total % per_page != 0);
    w->prev_page = page > 1 ? (page - 1 <= w->last_page ? page - 1 : w->last_page) : 0;
    w->next_page = page < w->last_page ? page + 1 : 0;
    /* Guard against overflow for absurd page numbers: anything past the end is empty. */
    if (page > w->last_page) {
        w->lo = 1;
        w->hi = 0;
        return;
    }
    int64_t first = (page - 1) * per_page; /* records before this page */
    if (asc) {
        w->lo = first + 1;
        w->hi = first + per_page < total ? first + per_page : total;
    } else {
        w->hi = total - first;
        w->lo = w->hi - per_page + 1 > 1 ? w->hi - per_page + 1 : 1;
    }
}
