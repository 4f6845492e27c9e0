/* The writes, each applied inside the writer's transaction: the reads a write needs, the rule it
 * asks (policy.h: the domain rules, backend-neutral), and the statements that record the outcome.
 * Every change to a run bumps its version and appends an event: the audit trail and what long-polls
 * wake up on. */
#include <jansson.h>
#include <string.h>

#include "store/policy.h"
#include "store/sqlite_int.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/timeutil.h"

static void task_bind(sqlite3_stmt *st, int first, const task_t *t);

static store_err_t fail(store_write_t *w, store_err_t e, const char *field)
{
    w->err = e;
    w->err_field = field;
    return e;
}

static store_err_t step_done(dbconn_t *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    /* A missing parent (workspace, connection) is a not-found, not a database failure. */
    if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        return STORE_NOT_FOUND;
    log_error("sqlite write failed err=\"%s\"", sqlite3_errmsg(c->db));
    return rc == SQLITE_CONSTRAINT ? STORE_EXISTS : STORE_ERROR;
}

/* Appends an event with data (a JSON object's text) to the run's trail. */
static store_err_t event_add_text(wctx_t *x, int64_t run_id, const char *kind, const char *text, size_t len)
{
    sqlite3_stmt *st = db_stmt(x->c, ST_EVENT_INSERT);
    if (st == NULL || text == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, x->now);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, (int)len, SQLITE_TRANSIENT);
    store_err_t e = step_done(x->c, st);
    if (e == STORE_OK)
        x->note_run(x->note_ctx, run_id);
    return e;
}

/* Same, from a jansson object (the rarer events); takes ownership of data. */
static store_err_t event_add(wctx_t *x, int64_t run_id, const char *kind, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    store_err_t e = text != NULL ? event_add_text(x, run_id, kind, text, strlen(text)) : STORE_ERROR;
    free(text);
    return e;
}

store_err_t wctx_event_add(wctx_t *x, int64_t run_id, const char *kind, json_t *data)
{
    return event_add(x, run_id, kind, data);
}

/* Event data of the frequent events (created, updated, finished) is built straight into a buffer
 * (policy_event_*): it is on the path of every write. Closes and stores b's object; a buffer that
 * failed (it cannot, by POLICY_EVENT_MAX) fails the write. */
static store_err_t event_add_buf(wctx_t *x, int64_t run_id, const char *kind, buf_t *b)
{
    buf_add(b, "}", 1);
    store_err_t e = !buf_failed(b) && b->len > 0 && b->data[0] == '{' ? event_add_text(x, run_id, kind, b->data, b->len)
                                                                      : STORE_ERROR;
    if (buf_failed(b))
        log_error("event too large, write refused kind=%s run=%lld max_bytes=%zu", kind, (long long)run_id,
                  (size_t)POLICY_EVENT_MAX);
    buf_release(b);
    return e;
}

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A new key of workspace ws; run_id > 0 limits it to that run. */
static store_err_t key_insert(wctx_t *x, int64_t ws, scope_t scope, const char *name, int64_t run_id)
{
    store_write_t *w = x->w;
    char hash[IDS_SHA256_HEX_LEN], prefix[11];
    ids_token(w->token);
    ids_sha256_hex(w->token, strlen(w->token), hash);
    snprintf(prefix, sizeof(prefix), "%.10s", w->token); /* enough to recognise a key */
    sqlite3_stmt *st = db_stmt(x->c, ST_KEY_INSERT);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, ws);
    db_bind_text(st, 2, name);
    sqlite3_bind_int(st, 3, (int)scope);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, prefix, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, x->now);
    if (run_id > 0)
        sqlite3_bind_int64(st, 7, run_id);
    else
        sqlite3_bind_null(st, 7);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    w->key_id = sqlite3_last_insert_rowid(x->c->db);
    return STORE_OK;
}

/* An access token of key w->key_id, for the OAuth client-credentials grant. The key is checked here,
 * in the transaction: a key revoked before this commits gets no token. Its expired tokens go, and
 * its oldest beyond STORE_ACCESS_TOKENS_PER_KEY - 1 live ones. */
static store_err_t access_token_create(wctx_t *x)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, ST_TOKEN_KEY_USABLE);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->key_id);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        w->key_scope = (scope_t)sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fail(w, rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR, NULL);
    if ((st = db_stmt(x->c, ST_TOKEN_PURGE)) == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->key_id);
    sqlite3_bind_int64(st, 2, x->now);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK || (st = db_stmt(x->c, ST_TOKEN_TRIM)) == NULL)
        return fail(w, e != STORE_OK ? e : STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->key_id);
    sqlite3_bind_int(st, 2, STORE_ACCESS_TOKENS_PER_KEY - 1); /* keeps the newest PER_KEY - 1 */
    if ((e = step_done(x->c, st)) != STORE_OK)
        return fail(w, e, NULL);
    char hash[IDS_SHA256_HEX_LEN];
    ids_token(w->token);
    ids_sha256_hex(w->token, strlen(w->token), hash);
    if ((st = db_stmt(x->c, ST_TOKEN_INSERT)) == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->key_id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, x->now);
    sqlite3_bind_int64(st, 4, x->now + (int64_t)STORE_ACCESS_TOKEN_TTL_S * 1000);
    e = step_done(x->c, st);
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

static store_err_t workspace_create(wctx_t *x)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, ST_WORKSPACE_INSERT);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    ids_uuid_v4(w->workspace_uuid);
    sqlite3_bind_text(st, 1, w->workspace_uuid, -1, SQLITE_TRANSIENT);
    db_bind_text(st, 2, w->name ? w->name : "default");
    sqlite3_bind_int64(st, 3, x->now);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return fail(w, e, "name");
    w->workspace_id = sqlite3_last_insert_rowid(x->c->db);
    return key_insert(x, w->workspace_id, SCOPE_ADMIN, "admin", 0);
}

/* Binds the run configuration of cn from parameter `first` on (command .. next_fire_at, then the
 * expectations: expect_schedule .. wm_max_age_s). */
static void bind_run_config(sqlite3_stmt *st, int first, const connection_t *cn)
{
    db_bind_text(st, first, cn->command_json);
    db_bind_text(st, first + 1, cn->workdir);
    db_bind_text(st, first + 2, cn->env_json);
    db_bind_text(st, first + 3, cn->schedule);
    db_bind_text(st, first + 4, cn->timezone);
    sqlite3_bind_int64(st, first + 5, cn->timeout_s);
    sqlite3_bind_int64(st, first + 6, cn->retry_max);
    sqlite3_bind_int64(st, first + 7, cn->retry_backoff_s);
    sqlite3_bind_int(st, first + 8, (int)cn->catchup);
    sqlite3_bind_int64(st, first + 9, cn->starting_deadline_s);
    sqlite3_bind_int64(st, first + 10, cn->log_max_bytes > 0 ? cn->log_max_bytes : STORE_LOG_DEFAULT_BYTES);
    db_bind_time(st, first + 11, cn->next_fire_at);
    db_bind_text(st, first + 12, cn->expect_schedule);
    db_bind_text(st, first + 13, cn->expect_timezone);
    sqlite3_bind_int64(st, first + 14, cn->expect_interval_s);
    sqlite3_bind_int64(st, first + 15, cn->expect_grace_s);
    sqlite3_bind_int64(st, first + 16, cn->min_duration_s);
    sqlite3_bind_int64(st, first + 17, cn->max_duration_s);
    sqlite3_bind_int64(st, first + 18, cn->wm_stall_runs);
    sqlite3_bind_int64(st, first + 19, cn->wm_max_age_s);
}

static store_err_t connection_save(wctx_t *x, const connection_t *cn)
{
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_UPDATE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cn->id);
    db_bind_text(st, 2, cn->name);
    db_bind_text(st, 3, cn->source);
    db_bind_text(st, 4, cn->destination);
    db_bind_text(st, 5, cn->connector_type);
    sqlite3_bind_int(st, 6, (int)cn->overlap);
    sqlite3_bind_int64(st, 7, cn->updated_at);
    bind_run_config(st, 8, cn);
    return step_done(x->c, st);
}

/* Sets the retention overrides w's mask names (CONN_F_RET_*) on connection cur (as read), merged
 * with the ones it keeps. */
static store_err_t connection_retention(wctx_t *x, const connection_t *cur)
{
    const store_write_t *w = x->w;
    int64_t v[3];
    if (!policy_connection_retention(cur, &w->conn, w->mask, v))
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_SET_RETENTION);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cur->id);
    for (int i = 0; i < 3; i++) {
        if (v[i] == RETENTION_INHERIT)
            sqlite3_bind_null(st, 2 + i);
        else
            sqlite3_bind_int64(st, 2 + i, v[i]);
    }
    return step_done(x->c, st);
}

static store_err_t connection_create(wctx_t *x)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_INSERT);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    char uuid[IDS_UUID_LEN];
    ids_uuid_v4(uuid);
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    db_bind_text(st, 3, w->conn.name);
    db_bind_text(st, 4, w->conn.source);
    db_bind_text(st, 5, w->conn.destination);
    db_bind_text(st, 6, w->conn.connector_type);
    sqlite3_bind_int(st, 7, (int)w->conn.overlap);
    sqlite3_bind_int64(st, 8, x->now);
    bind_run_config(st, 9, &w->conn);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    int64_t id = sqlite3_last_insert_rowid(x->c->db);
    connection_t made = {.id = id,
                         .retention_days = RETENTION_INHERIT,
                         .retention_keep_last = RETENTION_INHERIT,
                         .retention_failure_days = RETENTION_INHERIT};
    if ((e = connection_retention(x, &made)) != STORE_OK)
        return fail(w, e, NULL);
    e = db_connection_get(x->c, w->workspace_id, id, &w->arena, &w->conn);
    if (e == STORE_OK && (e = db_expect_reset(x->c, &w->conn, x->now)) == STORE_OK)
        e = db_connection_get(x->c, w->workspace_id, id, &w->arena, &w->conn);
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

/* Merges the fields w->mask names into the row as it is now (read inside this transaction), so
 * concurrent updates of different fields do not undo each other. */
static store_err_t connection_update(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cur;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cur);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    policy_connection_merge(&cur, &w->conn, w->mask, x->now);
    if ((e = connection_save(x, &cur)) != STORE_OK || (e = connection_retention(x, &cur)) != STORE_OK)
        return fail(w, e, NULL);
    if (policy_connection_expect_reset(w->mask) && (e = db_expect_reset(x->c, &cur, x->now)) != STORE_OK)
        return fail(w, e, NULL);
    e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &w->conn);
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

static store_err_t connection_delete(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cur;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cur);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_DELETE);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, x->now);
    e = step_done(x->c, st);
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

/* Writes every mutable column of r back exactly as given. */
static store_err_t run_save_stmt(wctx_t *x, const run_t *r, stmt_id_t id)
{
    sqlite3_stmt *st = db_stmt(x->c, id);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, (int)r->state);
    sqlite3_bind_int(st, 3, (int)r->result);
    sqlite3_bind_int64(st, 4, r->updated_at);
    db_bind_time(st, 5, r->started_at);
    db_bind_time(st, 6, r->completed_at);
    db_bind_text(st, 7, r->current_step);
    for (int i = 0; i < CTR_COUNT; i++)
        sqlite3_bind_int64(st, 8 + i, r->counters[i]);
    db_bind_time(st, 16, r->watermark);
    db_bind_text(st, 17, r->message);
    db_bind_text(st, 18, r->error_code);
    db_bind_text(st, 19, r->error_message);
    db_bind_text(st, 20, r->error_detail);
    sqlite3_bind_int(st, 21, r->attempt);
    sqlite3_bind_int64(st, 22, r->version);
    return step_done(x->c, st);
}

static store_err_t run_save_as_is(wctx_t *x, const run_t *r)
{
    return run_save_stmt(x, r, ST_RUN_SAVE);
}

/* Writes every mutable column of r (already merged) back, with a new version. */
static store_err_t run_save(wctx_t *x, run_t *r)
{
    r->version++;
    r->updated_at = x->now;
    return run_save_as_is(x, r);
}

/* Same, for a change that leaves state, result, times of start and end, and attempt as they are. */
static store_err_t run_save_progress(wctx_t *x, run_t *r)
{
    r->version++;
    r->updated_at = x->now;
    return run_save_stmt(x, r, ST_RUN_SAVE_PROGRESS);
}

/* Inserts the connection's next run (created at `created`), and its first event `kind`. */
static store_err_t run_insert(wctx_t *x, const connection_t *cn, run_state_t state, run_result_t result,
                              int64_t created, const char *kind)
{
    store_write_t *w = x->w;
    const store_trigger_t *t = &w->trigger;
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_BUMP);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cn->id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return STORE_ERROR;
    }
    int64_t run_count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);

    char uuid[IDS_UUID_LEN];
    ids_uuid_v7(uuid);
    if ((st = db_stmt(x->c, ST_RUN_INSERT)) == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    sqlite3_bind_int64(st, 3, cn->id);
    sqlite3_bind_int64(st, 4, run_count);
    sqlite3_bind_int(st, 5, (int)state);
    sqlite3_bind_int(st, 6, (int)result);
    sqlite3_bind_int64(st, 7, created);
    sqlite3_bind_int64(st, 8, t->scheduled_at ? t->scheduled_at : created);
    db_bind_time(st, 9, state == RUN_WORKING ? created : 0);
    db_bind_time(st, 10, state == RUN_FINISHED ? created : 0);
    db_bind_text(st, 11, t->tag);
    db_bind_text(st, 12, t->detail);
    sqlite3_bind_int(st, 13, t->full_sync ? 1 : 0);
    db_bind_text(st, 14, t->idempotency_key);
    db_bind_text(st, 15, t->idempotency_hash);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return e;
    /* The new run, as the row just written holds it (no read back: this is on every trigger's path). */
    run_t *r = &w->run;
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_last_insert_rowid(x->c->db);
    memcpy(r->uuid, uuid, IDS_UUID_LEN);
    memcpy(r->connection_uuid, cn->uuid, IDS_UUID_LEN);
    r->workspace_id = w->workspace_id;
    r->connection_id = cn->id;
    r->run_count = run_count;
    policy_run_new(r, t, state, result, created);
    r->trigger_tag = arena_strdup(&w->arena, t->tag);
    r->trigger_detail = arena_strdup(&w->arena, t->detail);
    if ((e = db_expect_run_created(x->c, cn, created)) != STORE_OK)
        return e;
    if (state == RUN_WORKING && (e = db_expect_run_started(x->c, cn, r->id, created)) != STORE_OK)
        return e;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    policy_event_trigger(&ev, r);
    return event_add_buf(x, r->id, kind, &ev);
}

/* Idempotency first (a replay answers the run made earlier), then the overlap policy against the
 * connection's run in progress (policy_trigger_decide), then the new run. */
static store_err_t run_trigger(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cn;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cn);
    if (e != STORE_OK)
        return fail(w, e, NULL);

    sqlite3_stmt *st;
    if (w->trigger.idempotency_key != NULL) {
        if ((st = db_stmt(x->c, ST_RUN_BY_IDEM)) == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_int64(st, 1, cn.id);
        sqlite3_bind_text(st, 2, w->trigger.idempotency_key, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            e = policy_trigger_idempotent(&w->trigger, (const char *)sqlite3_column_text(st, 1));
            sqlite3_reset(st);
            if (e != STORE_OK)
                return fail(w, e, "Idempotency-Key");
            w->trigger_outcome = TRIGGER_REPLAYED;
            e = db_run_get(x->c, w->workspace_id, id, &w->arena, &w->run);
            return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
        }
        sqlite3_reset(st);
    }

    if ((st = db_stmt(x->c, ST_RUN_ACTIVE)) == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, cn.id);
    int64_t active = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);

    policy_trigger_t d;
    policy_trigger_decide(&w->trigger, cn.overlap, active != 0, &d);
    w->trigger_outcome = d.outcome;
    if (!d.insert) { /* refused or attached: the answer is the run in progress */
        e = db_run_get(x->c, w->workspace_id, active, &w->arena, &w->run);
        if (e == STORE_OK && d.attach_event)
            e = event_add(x, active, "attached",
                          json_pack("{s:o, s:o}", "trigger_tag", json_str_or_null(w->trigger.tag), "trigger_detail",
                                    json_str_or_null(w->trigger.detail)));
        return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
    }
    if (d.cancel_active) {
        run_t old;
        if ((e = db_run_get(x->c, w->workspace_id, active, &w->arena, &old)) != STORE_OK)
            return fail(w, e, NULL);
        policy_run_replaced(&old, x->now);
        if ((e = run_save(x, &old)) != STORE_OK ||
            (e = event_add(x, old.id, "canceled",
                           json_pack("{s:s, s:s}", "result", "canceled", "reason", "replaced"))) != STORE_OK)
            return fail(w, e, NULL);
    }
    e = run_insert(x, &cn, d.state, d.result, x->now, d.event);
    if (e == STORE_OK && w->trigger.next_fire_at != 0) {
        cn.next_fire_at = w->trigger.next_fire_at;
        e = connection_save(x, &cn);
    }
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

static store_err_t run_event(wctx_t *x)
{
    store_write_t *w = x->w;
    run_t r;
    store_err_t e = db_run_get(x->c, w->workspace_id, w->id, &w->arena, &r);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    json_t *data = w->event_json ? json_loads(w->event_json, 0, NULL) : json_object();
    if (data == NULL || w->event_kind == NULL) {
        json_decref(data);
        return fail(w, STORE_BAD_STATE, "event");
    }
    e = event_add(x, r.id, w->event_kind, data);
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

/* Appends to the run's log, keeping its last log_max_bytes bytes (sqlite_log.c). */
static store_err_t log_append(wctx_t *x)
{
    store_write_t *w = x->w;
    run_t r;
    connection_t cn;
    store_err_t e = db_run_get(x->c, w->workspace_id, w->id, &w->arena, &r);
    if (e == STORE_OK)
        e = db_connection_get(x->c, w->workspace_id, r.connection_id, &w->arena, &cn);
    if (e == STORE_OK) {
        e = db_log_append(x->c, r.id, policy_log_cap(&cn), w->log_data, w->log_len, w->log_replace);
    }
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

static store_err_t key_revoke(wctx_t *x)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, ST_KEY_REVOKE);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->key_id);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    sqlite3_bind_int64(st, 3, x->now);
    store_err_t e = step_done(x->c, st);
    if (e == STORE_OK && sqlite3_changes(x->c->db) == 0)
        e = STORE_NOT_FOUND;
    return e == STORE_OK ? STORE_OK : fail(w, e, NULL);
}

/* At start-up: no process of an earlier server is running any more, so its runs are over. */
static store_err_t runs_interrupt(wctx_t *x)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, ST_RUNS_ACTIVE_MANAGED);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    int n = 0, cap = 64, rc;
    run_t *runs = arena_alloc(&w->arena, sizeof(run_t) * (size_t)cap);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            run_t *more = arena_alloc(&w->arena, sizeof(run_t) * (size_t)cap * 2);
            memcpy(more, runs, sizeof(run_t) * (size_t)n);
            runs = more;
            cap *= 2;
        }
        db_row_run(st, &w->arena, &runs[n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(w, STORE_ERROR, NULL);
    for (int i = 0; i < n; i++) {
        run_t *r = &runs[i];
        policy_run_interrupted(r, x->now);
        store_err_t e = run_save(x, r);
        if (e == STORE_OK)
            e = event_add(x, r->id, "finished",
                          json_pack("{s:s, s:s}", "result", "error", "reason", "interrupted by restart"));
        if (e == STORE_OK)
            e = alerts_on_finish(x, r);
        if (e != STORE_OK)
            return fail(w, e, NULL);
    }
    /* the tokens of the runs just ended, and of any run that ended without revoking its own */
    if ((st = db_stmt(x->c, ST_KEYS_REVOKE_ENDED_RUNS)) == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, x->now);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    w->affected = n;
    return STORE_OK;
}

/* Records one run of the past with every field of `in` as given; w->run receives it. */
static store_err_t record_one(wctx_t *x, const connection_t *cn, const run_t *in, const char **field)
{
    store_write_t *w = x->w;
    if (policy_record_check(in, field) != STORE_OK)
        return STORE_BAD_STATE;
    w->trigger.tag = in->trigger_tag;
    w->trigger.detail = in->trigger_detail;
    w->trigger.full_sync = in->full_sync;
    w->trigger.scheduled_at = in->scheduled_at;
    run_t rec = *in;
    store_err_t e = run_insert(x, cn, in->state, in->result, in->created_at, "recorded");
    if (e != STORE_OK)
        return e;
    rec.id = w->run.id;
    rec.version = w->run.version;
    policy_record_defaults(&rec);
    if ((e = run_save_as_is(x, &rec)) != STORE_OK)
        return e;
    if (in->external_id != NULL || in->external != NULL) {
        sqlite3_stmt *st = db_stmt(x->c, ST_RUN_SET_EXTERNAL);
        if (st == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, rec.id);
        db_bind_text(st, 2, in->external_id);
        db_bind_text(st, 3, in->external);
        if ((e = step_done(x->c, st)) != STORE_OK)
            return e;
    }
    return db_run_get(x->c, w->workspace_id, rec.id, &w->arena, &w->run);
}

/* Records a run of the past with every field as given (demo data). */
static store_err_t run_record(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cn;
    const char *field = NULL;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cn);
    if (e == STORE_OK)
        e = record_one(x, &cn, &w->run, &field);
    return e == STORE_OK ? STORE_OK : fail(w, e, field);
}

/* Inserts a unit (job or task) of an imported run exactly as given. */
static store_err_t import_job(wctx_t *x, int64_t run_id, const job_t *j)
{
    char uuid[IDS_UUID_LEN];
    ids_uuid_v7(uuid);
    sqlite3_stmt *st = db_stmt(x->c, ST_JOB_INSERT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, j->uuid[0] ? j->uuid : uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, run_id);
    db_bind_text(st, 3, j->name);
    db_bind_text(st, 4, j->connector_type);
    db_bind_text(st, 5, j->phase);
    sqlite3_bind_int(st, 6, (int)j->state);
    sqlite3_bind_int(st, 7, (int)j->result);
    db_bind_time(st, 8, j->started_at);
    db_bind_time(st, 9, j->ended_at);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return e;
    int64_t job_id = sqlite3_last_insert_rowid(x->c->db);
    for (int i = 0; i < j->ntasks; i++) {
        const task_t *t = &j->tasks[i];
        ids_uuid_v7(uuid);
        if ((st = db_stmt(x->c, ST_TASK_INSERT)) == NULL)
            return STORE_ERROR;
        sqlite3_bind_text(st, 1, t->uuid[0] ? t->uuid : uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, job_id);
        task_bind(st, 3, t);
        if ((e = step_done(x->c, st)) != STORE_OK)
            return e;
    }
    return STORE_OK;
}

/* Renumbers the runs of connection conn_id by creation time (ties by id): run_count, which pages
 * and cursors are ranges of, then orders runs as "newest first" means. O(runs of the connection). */
static store_err_t runs_sequence_by_creation(wctx_t *x, int64_t conn_id)
{
    static const stmt_id_t steps[] = {ST_RUNS_SEQUENCE_CLEAR, ST_RUNS_SEQUENCE_BY_CREATION};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st = db_stmt(x->c, steps[i]);
        if (st == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, conn_id);
        store_err_t e = step_done(x->c, st);
        if (e != STORE_OK)
            return e;
    }
    return STORE_OK;
}

/* Records a vendor's history: oldest first, so run_count follows creation; runs already imported
 * (same external_id) are left alone, so importing the same file twice changes nothing. History
 * older than runs the connection already has is put in its place: the connection's runs are
 * renumbered by creation time (once per import, only when needed). */
static store_err_t run_import(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cn;
    const char *field = NULL;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cn);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if ((e = policy_import_order(w->imports, w->nimports, &field)) != STORE_OK)
        return fail(w, e, field);
    w->imported = w->import_existing = 0;
    int64_t newest = 0; /* creation time of the connection's newest run before the import */
    sqlite3_stmt *nst = db_stmt(x->c, ST_RUN_NEWEST_CREATED);
    if (nst == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(nst, 1, cn.id);
    int nrc = sqlite3_step(nst);
    if (nrc == SQLITE_ROW)
        newest = sqlite3_column_int64(nst, 0);
    sqlite3_reset(nst);
    if (nrc != SQLITE_ROW && nrc != SQLITE_DONE)
        return fail(w, STORE_ERROR, NULL);
    int out_of_order = 0;
    for (int i = 0; i < w->nimports; i++) {
        store_import_t *im = &w->imports[i];
        sqlite3_stmt *st = db_stmt(x->c, ST_RUN_BY_EXTERNAL);
        if (st == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_int64(st, 1, cn.id);
        sqlite3_bind_text(st, 2, im->run.external_id, -1, SQLITE_TRANSIENT);
        int exists = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (exists) {
            w->import_existing++;
            continue;
        }
        if ((e = record_one(x, &cn, &im->run, &field)) != STORE_OK)
            return fail(w, e, field);
        for (int j = 0; j < im->njobs; j++)
            if ((e = import_job(x, w->run.id, &im->jobs[j])) != STORE_OK)
                return fail(w, e, "jobs");
        cn.run_count++;
        w->imported++;
        out_of_order |= im->run.created_at < newest;
    }
    if (out_of_order && (e = runs_sequence_by_creation(x, cn.id)) != STORE_OK)
        return fail(w, e, NULL);
    return STORE_OK;
}

/* ---- pings ---- */

/* A new ping key for connection w->id; the old one stops working in the same transaction. */
static store_err_t ping_key_rotate(wctx_t *x)
{
    store_write_t *w = x->w;
    char hash[IDS_SHA256_HEX_LEN];
    ids_ping_key(w->token);
    ids_sha256_hex(w->token, strlen(w->token), hash);
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_SET_PING_KEY);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, x->now);
    store_err_t e = step_done(x->c, st);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    return sqlite3_changes(x->c->db) == 1 ? STORE_OK : fail(w, STORE_NOT_FOUND, NULL);
}

/* The run a ping addresses: with a rid, the run its start made (any state); without, the
 * connection's run in progress (the oldest, when a queue holds several) if a ping started it: a
 * ping never ends a run that syncrun runs, or that an API client reports. 0 when none. */
static store_err_t ping_find_run(wctx_t *x, int64_t conn_id, const char *idem, int64_t *run_id)
{
    store_write_t *w = x->w;
    sqlite3_stmt *st = db_stmt(x->c, idem != NULL ? ST_RUN_BY_IDEM : ST_RUN_ACTIVE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    if (idem != NULL)
        sqlite3_bind_text(st, 2, idem, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *run_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return STORE_ERROR;
    if (*run_id != 0 && idem == NULL) {
        run_t r;
        store_err_t e = db_run_get(x->c, w->workspace_id, *run_id, &w->arena, &r);
        if (e != STORE_OK)
            return e;
        if (!policy_ping_owns(&r))
            *run_id = 0;
    }
    return STORE_OK;
}

static store_err_t log_append(wctx_t *x);
static store_err_t run_finish(wctx_t *x, run_result_t result, const char *kind);

/* A ping, in one transaction: a start triggers a run (overlap policy, and with a rid the rid is
 * its idempotency key, so a repeated start makes one run); an end finishes the run it addresses,
 * or, when there is none, records a run that starts and ends now; a log ping appends to the run
 * it addresses. The body (w->log_data) goes to that run's log. An end ping for a run that has
 * ended already changes nothing (pings are retried). */
static store_err_t run_ping(wctx_t *x)
{
    store_write_t *w = x->w;
    const store_ping_t p = w->ping;
    const int64_t conn_id = w->id;
    char idem[64];
    if (p.rid != NULL)
        policy_ping_key(p.rid, idem, sizeof(idem));
    int64_t run_id = 0;
    store_err_t e = STORE_OK;
    if (p.kind != PING_START && (e = ping_find_run(x, conn_id, p.rid ? idem : NULL, &run_id)) != STORE_OK)
        return fail(w, e, NULL);
    if (p.kind == PING_LOG && run_id == 0)
        return fail(w, STORE_NOT_FOUND, "run");
    if (run_id == 0) { /* a start, or an end with no run to end: a new run */
        policy_ping_trigger(&p, idem, &w->trigger);
        if ((e = run_trigger(x)) != STORE_OK)
            return e;
        /* a skipped run is recorded and finished already; an attached one is someone else's */
        if (w->trigger_outcome != TRIGGER_CREATED && w->trigger_outcome != TRIGGER_REPLAYED)
            return STORE_OK;
        run_id = w->run.id;
        if (w->trigger_outcome == TRIGGER_REPLAYED && p.kind == PING_START)
            return STORE_OK; /* the same start again */
    } else {
        w->trigger_outcome = TRIGGER_ATTACHED;
    }
    w->id = run_id;
    run_t r;
    if ((e = db_run_get(x->c, w->workspace_id, run_id, &w->arena, &r)) != STORE_OK)
        return fail(w, e, NULL);
    if (w->log_len > 0 && (e = log_append(x)) != STORE_OK)
        return e;
    if (p.kind == PING_START || p.kind == PING_LOG || r.state == RUN_FINISHED) {
        w->run = r;
        return STORE_OK;
    }
    char msg[64];
    run_result_t result = policy_ping_result(&p, &w->run, &w->mask, msg, sizeof(msg));
    if (result != RESULT_SUCCESS)
        w->run.error_message = arena_strdup(&w->arena, msg);
    return run_finish(x, result, "finished");
}

/* Loads the run addressed by w and refuses finished ones. */
static store_err_t load_live_run(wctx_t *x, run_t *r)
{
    store_write_t *w = x->w;
    store_err_t e = db_run_get(x->c, w->workspace_id, w->id, &w->arena, r);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if (r->state == RUN_FINISHED)
        return fail(w, STORE_FINISHED, NULL);
    return STORE_OK;
}

static store_err_t run_update(wctx_t *x)
{
    store_write_t *w = x->w;
    run_t r;
    store_err_t e = load_live_run(x, &r);
    if (e != STORE_OK)
        return e;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    policy_event_open(&ev);
    run_t before = r;
    const char *field = NULL;
    if ((e = policy_run_update(&r, &w->run, w->mask, x->now, &ev, &field)) != STORE_OK) {
        buf_release(&ev);
        return fail(w, e, field);
    }
    if ((e = policy_run_state_kept(&before, &r) ? run_save_progress(x, &r) : run_save(x, &r)) != STORE_OK) {
        buf_release(&ev);
        return fail(w, e, NULL);
    }
    if (before.started_at == 0 && r.started_at != 0) { /* it starts: its maximum duration counts from now */
        connection_t cn;
        if ((e = db_connection_get(x->c, w->workspace_id, r.connection_id, &w->arena, &cn)) != STORE_OK ||
            (e = db_expect_run_started(x->c, &cn, r.id, r.started_at)) != STORE_OK) {
            buf_release(&ev);
            return fail(w, e, NULL);
        }
    }
    if ((e = event_add_buf(x, r.id, "updated", &ev)) != STORE_OK)
        return fail(w, e, NULL);
    w->run = r;
    return STORE_OK;
}

static store_err_t run_finish(wctx_t *x, run_result_t result, const char *kind)
{
    store_write_t *w = x->w;
    run_t r;
    store_err_t e = load_live_run(x, &r);
    if (e != STORE_OK)
        return e;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    const char *field = NULL;
    if ((e = policy_run_finish(&r, &w->run, w->mask, result, x->now, &ev, &field)) != STORE_OK) {
        buf_release(&ev);
        return fail(w, e, field);
    }
    if ((e = run_save(x, &r)) != STORE_OK) {
        buf_release(&ev);
        return fail(w, e, NULL);
    }
    if ((e = event_add_buf(x, r.id, kind, &ev)) != STORE_OK || (e = alerts_on_finish(x, &r)) != STORE_OK ||
        (e = expect_on_finish(x, &r)) != STORE_OK)
        return fail(w, e, NULL);
    w->run = r;
    return STORE_OK;
}

/* Loads the live run of a job/task write and its job (by uuid) when job_uuid is set. */
static store_err_t load_job(wctx_t *x, run_t *r, job_t *j)
{
    store_write_t *w = x->w;
    store_err_t e = load_live_run(x, r);
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st = db_stmt(x->c, ST_JOB_GET);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, w->job.uuid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        db_row_job(st, &w->arena, j);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fail(w, rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR, "job");
    return STORE_OK;
}

static json_t *unit_json(const char *uuid, run_state_t s, run_result_t r)
{
    return json_pack("{s:s, s:s, s:o}", "id", uuid, "state", run_state_name(s), "result",
                     json_str_or_null(run_result_name(r)));
}

static store_err_t job_save(wctx_t *x, const job_t *j)
{
    sqlite3_stmt *st = db_stmt(x->c, ST_JOB_SAVE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, j->id);
    db_bind_text(st, 2, j->name);
    db_bind_text(st, 3, j->connector_type);
    db_bind_text(st, 4, j->phase);
    sqlite3_bind_int(st, 5, (int)j->state);
    sqlite3_bind_int(st, 6, (int)j->result);
    db_bind_time(st, 7, j->started_at);
    db_bind_time(st, 8, j->ended_at);
    return step_done(x->c, st);
}

static store_err_t job_write(wctx_t *x, int create)
{
    store_write_t *w = x->w;
    run_t r;
    job_t j;
    store_err_t e;
    if (create) {
        if ((e = load_live_run(x, &r)) != STORE_OK)
            return e;
        memset(&j, 0, sizeof(j));
        ids_uuid_v7(j.uuid);
        j.run_id = r.id;
        const char *field = NULL;
        if ((e = policy_job_create(&j, &w->job, x->now, &field)) != STORE_OK)
            return fail(w, e, field);
        sqlite3_stmt *st = db_stmt(x->c, ST_JOB_INSERT);
        if (st == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_text(st, 1, j.uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, r.id);
        db_bind_text(st, 3, j.name);
        db_bind_text(st, 4, j.connector_type);
        db_bind_text(st, 5, j.phase);
        sqlite3_bind_int(st, 6, (int)j.state);
        sqlite3_bind_int(st, 7, (int)j.result);
        db_bind_time(st, 8, j.started_at);
        db_bind_time(st, 9, j.ended_at);
        if ((e = step_done(x->c, st)) != STORE_OK)
            return fail(w, e, NULL);
        j.id = sqlite3_last_insert_rowid(x->c->db);
    } else {
        if ((e = load_job(x, &r, &j)) != STORE_OK)
            return e;
        const char *field = NULL;
        if ((e = policy_job_update(&j, &w->job, w->mask, x->now, &field)) != STORE_OK)
            return fail(w, e, field);
        if ((e = job_save(x, &j)) != STORE_OK)
            return fail(w, e, NULL);
    }
    /* A job changes its run: bump the run's version so watchers and caches see it. */
    if ((e = run_save_progress(x, &r)) != STORE_OK || (e = event_add(x, r.id, create ? "job_created" : "job_updated",
                                                                     unit_json(j.uuid, j.state, j.result))) != STORE_OK)
        return fail(w, e, NULL);
    w->job = j;
    w->run = r;
    return STORE_OK;
}

static void task_bind(sqlite3_stmt *st, int first, const task_t *t)
{
    sqlite3_bind_int(st, first, (int)t->state);
    sqlite3_bind_int(st, first + 1, (int)t->result);
    db_bind_text(st, first + 2, t->source_file_id);
    sqlite3_bind_int(st, first + 3, t->retry_attempts);
    db_bind_time(st, first + 4, t->started_at);
    db_bind_time(st, first + 5, t->ended_at);
    db_bind_text(st, first + 6, t->error_json);
    sqlite3_bind_int(st, first + 7, t->has_report);
    db_bind_text(st, first + 8, t->report_message);
    db_bind_text(st, first + 9, t->report_suggested_action);
    sqlite3_bind_int64(st, first + 10, t->report_errors);
    sqlite3_bind_int64(st, first + 11, t->report_warnings);
    sqlite3_bind_int64(st, first + 12, t->report_other);
}

static store_err_t task_write(wctx_t *x, int create)
{
    store_write_t *w = x->w;
    run_t r;
    job_t j;
    task_t t;
    store_err_t e = load_job(x, &r, &j);
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st;
    const char *field = NULL;
    if (create) {
        memset(&t, 0, sizeof(t));
        ids_uuid_v7(t.uuid);
        t.job_id = j.id;
        if ((e = policy_task_create(&t, &w->task, w->mask, x->now, &field)) != STORE_OK)
            return fail(w, e, field);
        if ((st = db_stmt(x->c, ST_TASK_INSERT)) == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_text(st, 1, t.uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, j.id);
        task_bind(st, 3, &t);
        if ((e = step_done(x->c, st)) != STORE_OK)
            return fail(w, e, NULL);
        t.id = sqlite3_last_insert_rowid(x->c->db);
    } else {
        if ((st = db_stmt(x->c, ST_TASK_GET)) == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_int64(st, 1, j.id);
        sqlite3_bind_text(st, 2, w->task.uuid, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            db_row_task(st, &w->arena, &t);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return fail(w, rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR, "task");
        if ((e = policy_task_update(&t, &w->task, w->mask, x->now, &field)) != STORE_OK)
            return fail(w, e, field);
        if ((st = db_stmt(x->c, ST_TASK_SAVE)) == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_int64(st, 1, t.id);
        task_bind(st, 2, &t);
        if ((e = step_done(x->c, st)) != STORE_OK)
            return fail(w, e, NULL);
    }
    json_t *ev = unit_json(t.uuid, t.state, t.result);
    json_object_set_new(ev, "job", json_string(j.uuid));
    if ((e = run_save_progress(x, &r)) != STORE_OK ||
        (e = event_add(x, r.id, create ? "task_created" : "task_updated", ev)))
        return fail(w, e, NULL);
    w->task = t;
    w->job = j;
    w->run = r;
    return STORE_OK;
}

/* The checker's ops report their failure like the others. */
static store_err_t expect_done(wctx_t *x, store_err_t e)
{
    return e == STORE_OK ? STORE_OK : fail(x->w, e, NULL);
}

store_err_t db_apply_write(dbconn_t *c, store_write_t *w, void (*note_run)(void *ctx, int64_t run_id), void *ctx)
{
    wctx_t x = {c, w, time_now_ms(), note_run, ctx};
    w->err = STORE_OK;
    w->err_field = NULL;
    switch (w->op) {
    case OP_WORKSPACE_CREATE:
        return workspace_create(&x);
    case OP_KEY_CREATE:
        return key_insert(&x, w->workspace_id, w->key_scope, w->name, w->id);
    case OP_CONNECTION_CREATE:
        return connection_create(&x);
    case OP_CONNECTION_UPDATE:
        return connection_update(&x);
    case OP_CONNECTION_DELETE:
        return connection_delete(&x);
    case OP_RUN_TRIGGER:
        return run_trigger(&x);
    case OP_RUN_UPDATE:
        return run_update(&x);
    case OP_RUN_FINISH:
        return run_finish(&x, w->run.result, "finished");
    case OP_RUN_CANCEL:
        return run_finish(&x, RESULT_CANCELED, "canceled");
    case OP_JOB_CREATE:
        return job_write(&x, 1);
    case OP_JOB_UPDATE:
        return job_write(&x, 0);
    case OP_TASK_CREATE:
        return task_write(&x, 1);
    case OP_TASK_UPDATE:
        return task_write(&x, 0);
    case OP_RUN_RECORD:
        return run_record(&x);
    case OP_RUN_IMPORT:
        return run_import(&x);
    case OP_PING_KEY_ROTATE:
        return ping_key_rotate(&x);
    case OP_PING:
        return run_ping(&x);
    case OP_RUN_EVENT:
        return run_event(&x);
    case OP_LOG_APPEND:
        return log_append(&x);
    case OP_KEY_REVOKE:
        return key_revoke(&x);
    case OP_RUNS_INTERRUPT:
        return runs_interrupt(&x);
    case OP_ACCESS_TOKEN_CREATE:
        return access_token_create(&x);
    case OP_WORKSPACE_RETENTION:
        return db_workspace_retention(c, w);
    case OP_RUNS_PRUNE:
        return db_runs_prune(c, w, x.now);
    case OP_CONNECTION_LATE:
        return expect_done(&x, expect_mark_late(&x));
    case OP_RUN_OVERDUE:
        return expect_done(&x, expect_run_overdue(&x));
    case OP_CONNECTION_EXPECT:
        return expect_done(&x, expect_init(&x));
    case OP_WEBHOOK_CREATE:
    case OP_WEBHOOK_UPDATE:
    case OP_WEBHOOK_DELETE:
    case OP_WEBHOOK_TEST:
    case OP_DELIVERY_REDELIVER:
    case OP_DELIVERY_ATTEMPT:
    case OP_DELIVERIES_PRUNE:
        return db_webhook_write(c, w, x.now);
    case OP_CENSUS_RENDER:
        return db_census_render(c, w);
    }
    return fail(w, STORE_ERROR, NULL);
}
