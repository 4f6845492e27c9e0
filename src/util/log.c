/* stderr logger; one write(2) per line so lines from threads do not interleave. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "util/timeutil.h"

void log_msg(const char *level, const char *fmt, ...)
{
    char line[2048];
    char ts[TIME_ISO_LEN];
    time_format_iso(time_now_ms(), ts);
    int n = snprintf(line, sizeof(line), "%s %s ", ts, level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
