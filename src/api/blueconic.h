/* BlueConic dialect: the pure helpers of api/blueconic.c, exposed for unit tests (HTML escaping
 * of user text in run messages, number formatting, the state mapping). */
#ifndef SYNCRUN_API_BLUECONIC_H
#define SYNCRUN_API_BLUECONIC_H

#include <stddef.h>
#include <stdint.h>

#include "model/run.h"
#include "util/buf.h"

/* Appends s[0..n) to b with &, <, >, " and ' replaced by &amp; &lt; &gt; &quot; &#39;. Returns 0, or
 * -1 when the escaped text does not fit under b's cap (b is then unchanged). */
int blueconic_html_escape(buf_t *b, const char *s, size_t n);

/* The length of the longest prefix of s[0..n) that is at most max bytes and does not end inside a
 * UTF-8 sequence. */
size_t blueconic_utf8_clip(const char *s, size_t n, size_t max);

enum { BLUECONIC_COUNT_LEN = 32 };
/* v in decimal with thousands separators, as BlueConic's messages show counts ("199,836"). */
void blueconic_format_count(int64_t v, char out[BLUECONIC_COUNT_LEN]);

/* An API key as an OAuth client (POST /rest/v2/oauth/token): client_id is this prefix and the key's
 * id ("syncrun-key-12"), client_secret the key's token. */
#define BLUECONIC_CLIENT_ID_PREFIX "syncrun-key-"

/* BlueConic `state` of a canonical run: STARTING, RUNNING, FINISHED or STOPPED. */
const char *blueconic_state(run_state_t s, run_result_t r);

#endif
