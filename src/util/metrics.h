/* Prometheus text exposition (version 0.0.4) helpers, and lock-free histograms for hot paths:
 * observing is a few relaxed atomic adds, rendering reads them without stopping the observers. */
#ifndef SYNCRUN_UTIL_METRICS_H
#define SYNCRUN_UTIL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

enum { METRICS_BUCKETS_MAX = 16 };

/* A histogram over fixed upper bounds (le, ascending; +Inf is implied). sum is kept in units of
 * 1/scale (e.g. microseconds for seconds, scale 1e6), so it stays an integer. Zeroed = empty. */
typedef struct metrics_hist {
    _Atomic uint64_t bucket[METRICS_BUCKETS_MAX + 1]; /* per bucket, not cumulative; last = +Inf */
    _Atomic uint64_t sum;
} metrics_hist_t;

void metrics_hist_observe(metrics_hist_t *h, const double *le, int nle, double scale, double v);

/* "# HELP name help\n# TYPE name type\n" */
void metrics_head(buf_t *b, const char *name, const char *type, const char *help);
/* One sample: name{labels} value, where labels is "" or `key="value",...` already escaped. */
void metrics_sample(buf_t *b, const char *name, const char *labels, double value);
/* The _bucket/_sum/_count samples of h (labels as above, le added). */
void metrics_hist_write(buf_t *b, const char *name, const char *labels, const metrics_hist_t *h, const double *le,
                        int nle, double scale);
/* Appends `key="value"` (value escaped: backslash, quote, newline) to a label list in b. */
void metrics_label(buf_t *b, const char *key, const char *value);

#endif
