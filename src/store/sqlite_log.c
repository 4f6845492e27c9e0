/* Run logs: the kept tail of a run's output, stored as a list of chunks (run_log_chunks) under a
 * header row (run_logs: bytes written in all, bytes kept, bytes of the oldest chunk skipped). An
 * append writes the bytes it appends and deletes the chunks that fall out of the cap; it never
 * rewrites the log, so its cost does not grow with the log. */
#include <string.h>

#include "store/policy.h"
#include "store/sqlite_int.h"
#include "util/log.h"

enum {
    LOG_CHUNK_MAX = 64 * 1024, /* a chunk holds at most this many bytes */
    LOG_CHUNK_SMALL = 4096,    /* small appends fill the newest chunk up to this size */
};

typedef struct log_head {
    int64_t total; /* bytes appended in all, kept or not */
    int64_t kept;  /* bytes kept: the chunks' bytes less skip */
    int64_t skip;  /* bytes of the oldest chunk that are cut off */
} log_head_t;

static store_err_t head_get(dbconn_t *c, int64_t run_id, log_head_t *h)
{
    memset(h, 0, sizeof(*h));
    sqlite3_stmt *st = db_stmt(c, ST_LOG_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        h->total = sqlite3_column_int64(st, 0);
        h->kept = sqlite3_column_int64(st, 1);
        h->skip = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/* Steps a statement that must finish without a row (or with RETURNING rows ignored). */
static store_err_t step_done(dbconn_t *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    log_error("sqlite log write failed err=\"%s\"", sqlite3_errmsg(c->db));
    return STORE_ERROR;
}

/* Finds the first newline at logical offsets [from, to) of the log made of the kept chunks (offset
 * 0 = the first kept byte) followed by the new bytes; returns its offset, or -1. Reads only the
 * chunks that overlap the range. */
static store_err_t find_newline(dbconn_t *c, int64_t run_id, const log_head_t *h, const char *add, int64_t from,
                                int64_t to, int64_t *at)
{
    *at = -1;
    if (from < h->kept) {
        sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNK_LENS);
        if (st == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, run_id);
        int64_t pos = -h->skip; /* logical offset of the chunk's first byte */
        int rc = SQLITE_DONE;
        while (*at < 0 && pos < to && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t len = sqlite3_column_int64(st, 1);
            int64_t lo = from > pos ? from : pos, hi = to < pos + len ? to : pos + len;
            if (lo < hi) {
                /* the chunk's bytes: the blob of a row read by id (at most LOG_CHUNK_MAX) */
                sqlite3_stmt *d = db_stmt(c, ST_LOG_CHUNK_DATA);
                if (d == NULL) {
                    sqlite3_reset(st);
                    return STORE_ERROR;
                }
                sqlite3_bind_int64(d, 1, sqlite3_column_int64(st, 0));
                if (sqlite3_step(d) != SQLITE_ROW || sqlite3_column_bytes(d, 0) != (int)len) {
                    sqlite3_reset(d);
                    sqlite3_reset(st);
                    return STORE_ERROR;
                }
                const char *p = sqlite3_column_blob(d, 0);
                const char *nl = memchr(p + (lo - pos), '\n', (size_t)(hi - lo));
                if (nl != NULL)
                    *at = pos + (nl - p);
                sqlite3_reset(d);
            }
            pos += len;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return STORE_ERROR;
        if (*at < 0 && pos < to && pos < h->kept)
            return STORE_ERROR; /* the chunks hold fewer bytes than the header says */
    }
    if (*at < 0 && to > h->kept) {
        int64_t lo = from > h->kept ? from : h->kept;
        const char *nl = memchr(add + (lo - h->kept), '\n', (size_t)(to - lo));
        if (nl != NULL)
            *at = h->kept + (nl - add);
    }
    return STORE_OK;
}

/* Deletes the chunks whose bytes all lie before logical offset start (start <= h->kept) and sets
 * h->skip for the oldest chunk left. Touches the deleted chunks and one more. */
static store_err_t cut_before(dbconn_t *c, int64_t run_id, log_head_t *h, int64_t start)
{
    sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNK_LENS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    int64_t pos = -h->skip, last_gone = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t len = sqlite3_column_int64(st, 1);
        if (pos + len > start)
            break;
        last_gone = sqlite3_column_int64(st, 0);
        pos += len;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    h->skip = rc == SQLITE_ROW ? start - pos : 0;
    if (last_gone == 0)
        return STORE_OK;
    if ((st = db_stmt(c, ST_LOG_CHUNKS_DELETE)) == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, last_gone);
    return step_done(c, st);
}

/* Adds n bytes (n < LOG_CHUNK_SMALL) to the newest chunk when the result stays small, so a log
 * written a line at a time (the runner flushes every second) is not thousands of tiny rows for
 * its readers. Rewrites at most LOG_CHUNK_SMALL bytes. Sets *merged. */
static store_err_t merge_small(dbconn_t *c, int64_t run_id, const char *data, size_t n, int *merged)
{
    *merged = 0;
    sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNK_LAST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t len = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    if (id == 0 || len + (int64_t)n > LOG_CHUNK_SMALL)
        return STORE_OK;
    char buf[LOG_CHUNK_SMALL];
    if ((st = db_stmt(c, ST_LOG_CHUNK_DATA)) == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)len)
        memcpy(buf, sqlite3_column_blob(st, 0), (size_t)len);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return STORE_ERROR;
    memcpy(buf + len, data, n);
    if ((st = db_stmt(c, ST_LOG_CHUNK_SET)) == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, buf, (int)(len + (int64_t)n), SQLITE_TRANSIENT);
    store_err_t e = step_done(c, st);
    *merged = e == STORE_OK;
    return e;
}

store_err_t db_log_append(dbconn_t *c, int64_t run_id, size_t cap, const char *data, size_t n, int replace)
{
    log_head_t h;
    store_err_t e = head_get(c, run_id, &h);
    if (e != STORE_OK)
        return e;
    if (replace) {
        sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNKS_DELETE);
        if (st == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, INT64_MAX);
        if ((e = step_done(c, st)) != STORE_OK)
            return e;
        memset(&h, 0, sizeof(h));
    }
    /* The log is the kept bytes followed by the new ones; what is kept is policy_log_cut's. */
    policy_log_cut_t cut;
    policy_log_cut(h.kept, n, cap, &cut);
    if (cut.start > 0) {
        int64_t nl;
        if ((e = find_newline(c, run_id, &h, data, cut.start, cut.scan_to, &nl)) != STORE_OK)
            return e;
        policy_log_cut_at(&cut, nl);
    }
    int64_t len = cut.len, start = cut.start;
    if (start > 0 && (e = cut_before(c, run_id, &h, start < h.kept ? start : h.kept)) != STORE_OK)
        return e;
    int64_t from = start > h.kept ? start - h.kept : 0;
    if (from < (int64_t)n && (int64_t)n - from < LOG_CHUNK_SMALL) {
        int merged;
        if ((e = merge_small(c, run_id, data + from, (size_t)((int64_t)n - from), &merged)) != STORE_OK)
            return e;
        if (merged)
            from = (int64_t)n;
    }
    for (int64_t off = from; off < (int64_t)n; off += LOG_CHUNK_MAX) {
        int64_t piece = (int64_t)n - off < LOG_CHUNK_MAX ? (int64_t)n - off : LOG_CHUNK_MAX;
        sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNK_INSERT);
        if (st == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_blob(st, 2, data + off, (int)piece, SQLITE_STATIC);
        if ((e = step_done(c, st)) != STORE_OK)
            return e;
    }
    sqlite3_stmt *st = db_stmt(c, ST_LOG_PUT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, h.total + (int64_t)n);
    sqlite3_bind_int64(st, 3, len - start);
    sqlite3_bind_int64(st, 4, h.skip);
    return step_done(c, st);
}

store_err_t db_log_read(dbconn_t *c, int64_t run_id, arena_t *a, const char **data, size_t *len, int64_t *total)
{
    /* the header and the chunks from one snapshot, unless the caller has a transaction open */
    int own = sqlite3_get_autocommit(c->db);
    sqlite3_stmt *st = NULL;
    store_err_t e = STORE_ERROR;
    log_head_t h;
    *data = "";
    *len = 0;
    *total = 0;
    if (own && ((st = db_stmt(c, ST_READ_BEGIN)) == NULL || step_done(c, st) != STORE_OK))
        return STORE_ERROR;
    if ((e = head_get(c, run_id, &h)) != STORE_OK || h.kept == 0)
        goto out;
    e = STORE_ERROR;
    if ((st = db_stmt(c, ST_LOG_CHUNKS_READ)) == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    char *buf = arena_alloc(a, (size_t)h.kept + 1);
    int64_t got = 0, skip = h.skip;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_bytes(st, 0);
        const char *p = sqlite3_column_blob(st, 0);
        if (skip >= n || got + (n - skip) > h.kept)
            break;
        memcpy(buf + got, p + skip, (size_t)(n - skip));
        got += n - skip;
        skip = 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || got != h.kept) {
        log_error("run log %lld is inconsistent: %lld bytes kept, chunks hold %lld", (long long)run_id,
                  (long long)h.kept, (long long)got);
        goto out;
    }
    *data = buf;
    *len = (size_t)got;
    e = STORE_OK;
out:
    if (e == STORE_OK)
        *total = h.total;
    if (own && !sqlite3_get_autocommit(c->db) && (st = db_stmt(c, ST_COMMIT)) != NULL)
        step_done(c, st);
    return e;
}

store_err_t db_log_open(dbconn_t *c, int64_t run_id, store_log_cursor_t *cur)
{
    log_head_t h;
    memset(cur, 0, sizeof(*cur));
    cur->run_id = run_id;
    store_err_t e = head_get(c, run_id, &h);
    if (e != STORE_OK || h.kept == 0)
        return e;
    sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNK_FIRST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    int64_t first = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) { /* kept > 0 and no chunk: read between two writes of one log? no: one snapshot */
        log_error("run log %lld is inconsistent: %lld bytes kept and no chunk", (long long)run_id, (long long)h.kept);
        return STORE_ERROR;
    }
    cur->total = h.total;
    cur->kept = cur->left = h.kept;
    cur->next_chunk = first;
    cur->offset = h.skip;
    return STORE_OK;
}

store_err_t db_log_next(dbconn_t *c, store_log_cursor_t *cur, char *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (cur->left == 0 || cap == 0)
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(c, ST_LOG_CHUNKS_FROM);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cur->run_id);
    sqlite3_bind_int64(st, 2, cur->next_chunk);
    store_err_t e = STORE_OK;
    int rc = SQLITE_ROW, first = 1;
    /* Chunks are only ever cut from the oldest end and added (or grown) at the newest: while the
     * chunk the cursor is in still exists, every chunk after it that the cursor has not read does. */
    while (*n < cap && cur->left > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), len = sqlite3_column_bytes(st, 1);
        if (first && id != cur->next_chunk) {
            e = STORE_BAD_STATE; /* cut past the cursor */
            break;
        }
        first = 0;
        if (id != cur->next_chunk) { /* the next chunk: read from its start */
            cur->next_chunk = id;
            cur->offset = 0;
        }
        const char *p = sqlite3_column_blob(st, 1);
        int64_t avail = len - cur->offset, want = (int64_t)(cap - *n);
        if (want > cur->left)
            want = cur->left;
        if (avail > want)
            avail = want;
        if (avail > 0) {
            memcpy(buf + *n, p + cur->offset, (size_t)avail);
            *n += (size_t)avail;
            cur->offset += avail;
            cur->left -= avail;
        }
    }
    if (e == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = STORE_ERROR;
    else if (e == STORE_OK && cur->left > 0 && (first || *n == 0))
        /* first: the cursor's chunk is gone, and every one after it; *n == 0: the chunks hold less
         * than the log said, it changed under the cursor */
        e = STORE_BAD_STATE;
    sqlite3_reset(st);
    return e;
}

/* Migration 7: moves each run_logs.data blob into chunks (read piecewise, so a large log is read
 * once), fills the kept column and drops data. Runs inside the migration's transaction. */
int db_log_migrate_chunks(sqlite3 *db)
{
    sqlite3_stmt *runs = NULL, *ins = NULL;
    sqlite3_blob *blob = NULL;
    char *buf = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT run_id, length(data) FROM run_logs ORDER BY run_id", -1, &runs, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO run_log_chunks (run_id, data) VALUES (?1, ?2)", -1, &ins, NULL);
    if (rc == SQLITE_OK && (buf = sqlite3_malloc(LOG_CHUNK_MAX)) == NULL)
        rc = SQLITE_NOMEM;
    while (rc == SQLITE_OK && (rc = sqlite3_step(runs)) == SQLITE_ROW) {
        int64_t run_id = sqlite3_column_int64(runs, 0), n = sqlite3_column_int64(runs, 1);
        rc = SQLITE_OK;
        if (n > 0)
            rc = blob == NULL ? sqlite3_blob_open(db, "main", "run_logs", "data", run_id, 0, &blob)
                              : sqlite3_blob_reopen(blob, run_id);
        for (int64_t off = 0; rc == SQLITE_OK && off < n; off += LOG_CHUNK_MAX) {
            int piece = (int)(n - off < LOG_CHUNK_MAX ? n - off : LOG_CHUNK_MAX);
            rc = sqlite3_blob_read(blob, buf, piece, (int)off);
            if (rc == SQLITE_OK) {
                sqlite3_bind_int64(ins, 1, run_id);
                sqlite3_bind_blob(ins, 2, buf, piece, SQLITE_STATIC);
                rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
                sqlite3_reset(ins);
            }
        }
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_blob_close(blob);
    sqlite3_finalize(runs);
    sqlite3_finalize(ins);
    sqlite3_free(buf);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db, "UPDATE run_logs SET kept = length(data), skip_bytes = 0; ALTER TABLE run_logs DROP COLUMN data;", NULL,
            NULL, NULL);
    return rc;
}
