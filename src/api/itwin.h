/* What the iTwin dialect's files share: itwin.c (run history) and itwin_runs.c (run creation and
 * the connection routes). */
#ifndef SYNCRUN_API_ITWIN_H
#define SYNCRUN_API_ITWIN_H

#include "http/http.h"
#include "util/ids.h"

/* 1 when the request came through a storageconnections route, 0 for manifestconnections: both
 * address the same connections; only names in links and errors differ. */
int itwin_is_storage(http_ctx_t *c);
/* Parses path parameter 0 (a connection UUID, any case) into uuid. Returns 1 when it is malformed
 * (and puts "connectionId" in bad, the targets of a 422), 0 otherwise. */
int itwin_connection_param(http_ctx_t *c, char *uuid, char *bad, size_t badlen);
/* Loads the connection with this UUID; otherwise answers 404 (Manifest- or StorageConnectionNotFound)
 * or the store error and returns -1. */
int itwin_load_connection(http_ctx_t *c, const char *uuid, connection_t *cn);
/* The absolute URL of `path` ("/{connectionId}/runs/...") under the collection the request
 * addressed (.../imodels/manifestconnections or storageconnections), with the scheme and host
 * the client used (http_scheme, http_host). In the request's arena. */
char *itwin_href(http_ctx_t *c, const char *path);

#endif
