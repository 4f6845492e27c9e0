/* Quantile estimates from histogram buckets. */
#include "model/quantile.h"

#include <math.h>

int64_t quantile_estimate(const int64_t *le, int nle, const int64_t *counts, int64_t sums_inf, double q)
{
    int64_t total = 0;
    for (int i = 0; i <= nle; i++)
        total += counts[i] > 0 ? counts[i] : 0;
    if (total == 0 || nle < 1)
        return -1;
    if (!(q >= 0)) /* also NaN */
        q = 0;
    if (q > 1)
        q = 1;
    const double rank = q * (double)total;
    int64_t below = 0;
    for (int i = 0; i < nle; i++) {
        int64_t c = counts[i] > 0 ? counts[i] : 0;
        if (c > 0 && (double)(below + c) >= rank) {
            double lo = i > 0 ? (double)le[i - 1] : 0, hi = (double)le[i];
            double frac = (rank - (double)below) / (double)c;
            if (frac < 0)
                frac = 0;
            return (int64_t)llround(lo + (hi - lo) * frac);
        }
        below += c;
    }
    /* the rank falls in the unbounded bucket */
    double mean = (double)sums_inf / (double)counts[nle];
    double lo = (double)le[nle - 1];
    return (int64_t)llround(mean > lo ? mean : lo);
}
