/* Quantiles estimated from a histogram (pure): what the rollups' duration buckets say about the
 * median or the 95th percentile, without the individual values. */
#ifndef SYNCRUN_MODEL_QUANTILE_H
#define SYNCRUN_MODEL_QUANTILE_H

#include <stdint.h>

/* The q-quantile (0 <= q <= 1) of nle + 1 buckets: bucket i < nle holds counts[i] values in
 * (le[i-1], le[i]] (le[-1] = 0; le ascending, positive), bucket nle the counts[nle] values above
 * le[nle-1], whose sum is sums_inf. Interpolated linearly inside the bucket the rank falls in, as
 * Prometheus' histogram_quantile does: the estimate lies within that bucket's bounds, which is its
 * error bound. In the last (unbounded) bucket, the mean of its values (at least its lower bound).
 * Returns the estimate rounded to an integer, or -1 when the buckets hold no value. */
int64_t quantile_estimate(const int64_t *le, int nle, const int64_t *counts, int64_t sums_inf, double q);

#endif
