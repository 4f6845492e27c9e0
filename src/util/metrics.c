/* Prometheus text exposition helpers and atomic histograms. */
#include "util/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void metrics_hist_observe(metrics_hist_t *h, const double *le, int nle, double scale, double v)
{
    int i = 0;
    while (i < nle && v > le[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, (uint64_t)llround(v > 0 ? v * scale : 0), memory_order_relaxed);
}

void metrics_head(buf_t *b, const char *name, const char *type, const char *help)
{
    buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(buf_t *b, const char *name, const char *labels, double value)
{
    if (labels != NULL && labels[0] != '\0')
        buf_addf(b, "%s{%s} %.15g\n", name, labels, value);
    else
        buf_addf(b, "%s %.15g\n", name, value);
}

void metrics_hist_write(buf_t *b, const char *name, const char *labels, const metrics_hist_t *h, const double *le,
                        int nle, double scale)
{
    const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
    const char *lab = labels != NULL ? labels : "";
    uint64_t cum = 0;
    for (int i = 0; i <= nle; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < nle)
            buf_addf(b, "%s_bucket{%s%sle=\"%.15g\"} %llu\n", name, lab, sep, le[i], (unsigned long long)cum);
        else
            buf_addf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab, sep, (unsigned long long)cum);
    }
    double sum = (double)atomic_load_explicit(&h->sum, memory_order_relaxed) / scale;
    if (lab[0] != '\0') {
        buf_addf(b, "%s_sum{%s} %.15g\n%s_count{%s} %llu\n", name, lab, sum, name, lab, (unsigned long long)cum);
    } else {
        buf_addf(b, "%s_sum %.15g\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
    }
}

void metrics_label(buf_t *b, const char *key, const char *value)
{
    if (b->len > 0 && !buf_failed(b))
        buf_add(b, ",", 1);
    buf_addf(b, "%s=\"", key);
    const char *run = value;
    for (const char *p = value; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (esc == NULL)
            continue;
        buf_add(b, run, (size_t)(p - run));
        buf_adds(b, esc);
        run = p + 1;
    }
    buf_adds(b, run);
    buf_add(b, "\"", 1);
}
