/* The web dashboard (issue 13): its files, embedded in the binary at build time (the Makefile lists
 * them as prerequisites of this object; uPlot comes from web/node_modules, which
 * scripts/web-deps.sh fills), served at / and /ui/<file> without a key: the page signs in to the
 * native API itself, with the key the user gives it. Every answer carries a strict
 * Content-Security-Policy (nothing inline, nothing from another host) and an ETag (a hash of the
 * file). The page (index.html) is answered with Cache-Control: no-cache, so a browser revalidates
 * it and gets 304 while the binary is the same; it names the other files by versioned URLs
 * (/ui/app.js?v=<hash>, rewritten once at start), which are answered as immutable, so a load of
 * the page asks for nothing else again until the binary changes. A file asked for without its
 * current version (or with an old one) gets no-cache, like the page. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "util/buf.h"
#include "util/embed.h"

EMBED_FILE(web_index_html, "web/index.html");
EMBED_FILE(web_app_js, "web/app.js");
EMBED_FILE(web_app_css, "web/app.css");
EMBED_FILE(web_uplot_js, "web/node_modules/uplot/dist/uPlot.iife.min.js");
EMBED_FILE(web_uplot_css, "web/node_modules/uplot/dist/uPlot.min.css");

typedef struct web_asset {
    const char *name; /* under /ui/ */
    const char *type;
    const char *data;
    const uint64_t *size;
    char etag[24]; /* "\"<16 hex digits>\"", set once (web_init) */
} web_asset_t;

/* index.html as served: the embedded file with each "/ui/<file>" of another asset made
 * "/ui/<file>?v=<hash>" (web_init); the embedded file itself if that could not be built. */
static buf_t web_index_versioned = BUF_INIT(256 * 1024);
static uint64_t web_index_versioned_size;

static web_asset_t web_assets[] = {
    {"index.html", "text/html; charset=utf-8", web_index_html, &web_index_html_size, ""},
    {"app.js", "text/javascript; charset=utf-8", web_app_js, &web_app_js_size, ""},
    {"app.css", "text/css; charset=utf-8", web_app_css, &web_app_css_size, ""},
    {"uplot.js", "text/javascript; charset=utf-8", web_uplot_js, &web_uplot_js_size, ""},
    {"uplot.css", "text/css; charset=utf-8", web_uplot_css, &web_uplot_css_size, ""},
};
enum { WEB_ASSET_COUNT = sizeof(web_assets) / sizeof(web_assets[0]) };

/* uPlot sizes its elements through element.style (CSSOM), which style-src does not govern; no
 * inline <style> or style="" attribute is needed. */
static const char web_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                              "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
                              "frame-ancestors 'none'";

static pthread_once_t web_once = PTHREAD_ONCE_INIT;

static void web_hash(web_asset_t *a)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: a version tag, not a security check */
    for (uint64_t k = 0; k < *a->size; k++)
        h = (h ^ (unsigned char)a->data[k]) * 1099511628211ULL;
    snprintf(a->etag, sizeof(a->etag), "\"%016llx\"", (unsigned long long)h);
}

/* The version of an asset in its URL: its ETag without the quotes. */
static void web_version(const web_asset_t *a, char out[20])
{
    snprintf(out, 20, "%.16s", a->etag + 1);
}

static void web_init(void)
{
    for (size_t i = 1; i < WEB_ASSET_COUNT; i++)
        web_hash(&web_assets[i]);
    /* the page with versioned references: "/ui/app.js" -> "/ui/app.js?v=<hash>" */
    buf_t *b = &web_index_versioned;
    const char *p = web_assets[0].data, *end = p + *web_assets[0].size;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL) {
            buf_add(b, p, (size_t)(end - p));
            break;
        }
        buf_add(b, p, (size_t)(q - p) + 1);
        p = q + 1;
        for (size_t i = 1; i < WEB_ASSET_COUNT; i++) {
            char ref[64], v[20];
            int n = snprintf(ref, sizeof(ref), "/ui/%s\"", web_assets[i].name);
            if (n <= 0 || (size_t)n >= sizeof(ref) || (size_t)(end - p) < (size_t)n || memcmp(p, ref, (size_t)n) != 0)
                continue;
            web_version(&web_assets[i], v);
            buf_add(b, p, (size_t)n - 1);
            buf_addf(b, "?v=%s\"", v);
            p += n;
            break;
        }
    }
    if (!buf_failed(b) && b->len > 0) {
        web_index_versioned_size = b->len;
        web_assets[0].data = b->data;
        web_assets[0].size = &web_index_versioned_size;
    }
    web_hash(&web_assets[0]);
}

static int web_send(http_ctx_t *c, const web_asset_t *a)
{
    http_add_header(c, "content-security-policy", web_csp);
    http_add_header(c, "x-content-type-options", "nosniff");
    http_add_header(c, "referrer-policy", "no-referrer");
    char v[20];
    web_version(a, v);
    const char *qv = a == &web_assets[0] ? NULL : http_query(c, "v");
    http_add_header(c, "cache-control",
                    qv != NULL && strcmp(qv, v) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
    http_add_header(c, "etag", a->etag);
    const char *inm = http_header(c, "if-none-match");
    if (inm != NULL && strstr(inm, a->etag) != NULL)
        return http_send_raw(c, 304, NULL, "", 0);
    return http_send_raw(c, 200, a->type, a->data, (size_t)*a->size);
}

int web_index(http_ctx_t *c)
{
    pthread_once(&web_once, web_init);
    return web_send(c, &web_assets[0]);
}

int web_file(http_ctx_t *c)
{
    pthread_once(&web_once, web_init);
    for (size_t i = 0; i < WEB_ASSET_COUNT; i++)
        if (strcmp(c->params[0], web_assets[i].name) == 0)
            return web_send(c, &web_assets[i]);
    return http_error(c, 404, "not_found", "no such dashboard file", NULL);
}
