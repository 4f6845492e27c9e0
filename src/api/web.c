/* The web dashboard (issue 13): its files, embedded in the binary at build time (the Makefile lists
 * them as prerequisites of this object; uPlot comes from web/node_modules, which
 * scripts/web-deps.sh fills), served at / and /ui/<file> without a key: the page signs in to the
 * native API itself, with the key the user gives it. Every answer carries a strict
 * Content-Security-Policy (nothing inline, nothing from another host), an ETag (a hash of the file)
 * and Cache-Control: no-cache, so a browser revalidates and gets 304 while the binary is the same. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
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

static void web_init(void)
{
    for (size_t i = 0; i < WEB_ASSET_COUNT; i++) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a: a version tag, not a security check */
        for (uint64_t k = 0; k < *web_assets[i].size; k++)
            h = (h ^ (unsigned char)web_assets[i].data[k]) * 1099511628211ULL;
        snprintf(web_assets[i].etag, sizeof(web_assets[i].etag), "\"%016llx\"", (unsigned long long)h);
    }
}

static int web_send(http_ctx_t *c, const web_asset_t *a)
{
    http_add_header(c, "content-security-policy", web_csp);
    http_add_header(c, "x-content-type-options", "nosniff");
    http_add_header(c, "referrer-policy", "no-referrer");
    http_add_header(c, "cache-control", "no-cache");
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
