/* Webhooks in SQLite: the webhook rows, their deliveries (one per alert and webhook, made in the
 * alert's own transaction) and every attempt, written by the writer; and their reads. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/policy.h"
#include "store/sqlite_int.h"
#include "util/log.h"
#include "util/timeutil.h"

static store_err_t fail(store_write_t *w, store_err_t e, const char *field)
{
    w->err = e;
    w->err_field = field;
    return e;
}

/* Steps a write statement; STORE_NOT_FOUND when it changed no row and must_change is set. */
static store_err_t step(dbconn_t *c, sqlite3_stmt *st, int must_change)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
            return STORE_NOT_FOUND;
        log_error("sqlite write failed err=\"%s\"", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    return must_change && sqlite3_changes(c->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static void row_webhook(sqlite3_stmt *st, arena_t *a, void *out)
{
    webhook_t *h = out;
    memset(h, 0, sizeof(*h));
    h->id = sqlite3_column_int64(st, 0);
    h->workspace_id = sqlite3_column_int64(st, 1);
    h->url = db_col_text(st, 2, a);
    h->events = db_col_text(st, 3, a);
    h->connection_id = sqlite3_column_int64(st, 4);
    h->secret = db_col_text(st, 5, a);
    h->enabled = sqlite3_column_int(st, 6);
    h->disabled_reason = db_col_text(st, 7, a);
    h->failing_since = sqlite3_column_int64(st, 8);
    h->created_at = sqlite3_column_int64(st, 9);
    h->updated_at = sqlite3_column_int64(st, 10);
}

static void row_delivery(sqlite3_stmt *st, arena_t *a, void *out)
{
    webhook_delivery_t *d = out;
    memset(d, 0, sizeof(*d));
    d->id = sqlite3_column_int64(st, 0);
    const char *msg = (const char *)sqlite3_column_text(st, 1);
    snprintf(d->msg_id, sizeof(d->msg_id), "%s", msg ? msg : "");
    d->webhook_id = sqlite3_column_int64(st, 2);
    d->workspace_id = sqlite3_column_int64(st, 3);
    d->alert_id = sqlite3_column_int64(st, 4);
    d->event = db_col_text(st, 5, a);
    d->connection_id = sqlite3_column_int64(st, 6);
    d->run_id = sqlite3_column_int64(st, 7);
    d->occurred_at = sqlite3_column_int64(st, 8);
    d->data = db_col_text(st, 9, a);
    d->payload = db_col_text(st, 10, a);
    d->status = (delivery_status_t)sqlite3_column_int(st, 11);
    d->attempts = sqlite3_column_int(st, 12);
    d->next_attempt_at = sqlite3_column_int64(st, 13);
    d->last_status_code = sqlite3_column_int(st, 14);
    d->last_latency_ms = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 15);
    d->last_error = db_col_text(st, 16, a);
    d->created_at = sqlite3_column_int64(st, 17);
    d->updated_at = sqlite3_column_int64(st, 18);
    d->delivered_at = sqlite3_column_int64(st, 19);
    if (sqlite3_column_count(st) > 21) {
        d->url = db_col_text(st, 20, a);
        d->secret = db_col_text(st, 21, a);
    }
}

static void row_attempt(sqlite3_stmt *st, arena_t *a, void *out)
{
    webhook_attempt_t *t = out;
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    t->delivery_id = sqlite3_column_int64(st, 1);
    t->at = sqlite3_column_int64(st, 2);
    t->status_code = sqlite3_column_int(st, 3);
    t->latency_ms = sqlite3_column_int64(st, 4);
    t->error = db_col_text(st, 5, a);
}

static store_err_t webhook_get(dbconn_t *c, int64_t ws, int64_t id, arena_t *a, webhook_t *out)
{
    sqlite3_stmt *st = db_stmt(c, ST_WEBHOOK_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ws);
    return db_one_row(c, st, a, row_webhook, out);
}

static store_err_t delivery_get(dbconn_t *c, int64_t ws, int64_t webhook_id, int64_t id, arena_t *a,
                                webhook_delivery_t *out)
{
    sqlite3_stmt *st = db_stmt(c, ws != 0 ? ST_DELIVERY_GET : ST_DELIVERY_GET_ID);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    if (ws != 0) {
        sqlite3_bind_int64(st, 2, ws);
        sqlite3_bind_int64(st, 3, webhook_id);
    }
    return db_one_row(c, st, a, row_delivery, out);
}

static store_err_t webhook_save(dbconn_t *c, const webhook_t *h, int64_t now)
{
    sqlite3_stmt *st = db_stmt(c, ST_WEBHOOK_SAVE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, h->id);
    sqlite3_bind_int64(st, 2, h->workspace_id);
    sqlite3_bind_text(st, 3, h->url, -1, SQLITE_TRANSIENT);
    db_bind_text(st, 4, h->events);
    db_bind_time(st, 5, h->connection_id);
    sqlite3_bind_int(st, 6, h->enabled ? 1 : 0);
    db_bind_text(st, 7, h->disabled_reason);
    db_bind_time(st, 8, h->failing_since);
    sqlite3_bind_int64(st, 9, now);
    return step(c, st, 1);
}

/* Every delivery of the webhook not yet delivered or given up becomes dead, with why. */
static store_err_t deliveries_kill(dbconn_t *c, int64_t webhook_id, const char *why, int64_t now)
{
    sqlite3_stmt *st = db_stmt(c, ST_DELIVERIES_KILL);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, webhook_id);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    return step(c, st, 0);
}

/* A connection filter must name a connection of the workspace. */
static store_err_t check_connection(dbconn_t *c, store_write_t *w, int64_t conn_id)
{
    connection_t cn;
    if (conn_id == 0)
        return STORE_OK;
    store_err_t e = db_connection_get(c, w->workspace_id, conn_id, &w->arena, &cn);
    return e == STORE_OK ? STORE_OK : fail(w, e, e == STORE_NOT_FOUND ? "connection_id" : NULL);
}

static store_err_t webhook_create(dbconn_t *c, store_write_t *w, int64_t now)
{
    const webhook_t *in = &w->webhook;
    store_err_t e = check_connection(c, w, in->connection_id);
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st = db_stmt(c, ST_WEBHOOK_INSERT);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->workspace_id);
    sqlite3_bind_text(st, 2, in->url, -1, SQLITE_TRANSIENT);
    db_bind_text(st, 3, in->events);
    db_bind_time(st, 4, in->connection_id);
    sqlite3_bind_text(st, 5, in->secret, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, now);
    if ((e = step(c, st, 0)) != STORE_OK)
        return fail(w, e, NULL);
    return (e = webhook_get(c, w->workspace_id, sqlite3_last_insert_rowid(c->db), &w->arena, &w->webhook)) != STORE_OK
               ? fail(w, e, NULL)
               : STORE_OK;
}

static store_err_t webhook_update(dbconn_t *c, store_write_t *w, int64_t now)
{
    webhook_t h;
    store_err_t e = webhook_get(c, w->workspace_id, w->id, &w->arena, &h);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if (w->mask & WEBHOOK_F_CONNECTION && (e = check_connection(c, w, w->webhook.connection_id)) != STORE_OK)
        return e;
    if (w->mask & WEBHOOK_F_URL)
        h.url = w->webhook.url;
    if (w->mask & WEBHOOK_F_EVENTS)
        h.events = w->webhook.events;
    if (w->mask & WEBHOOK_F_CONNECTION)
        h.connection_id = w->webhook.connection_id;
    if (w->mask & WEBHOOK_F_ENABLED) {
        if (w->webhook.enabled && !h.enabled) {
            h.disabled_reason = NULL; /* re-enabled: the failures it was disabled for start over */
            h.failing_since = 0;
        }
        h.enabled = w->webhook.enabled;
    }
    if ((e = webhook_save(c, &h, now)) != STORE_OK)
        return fail(w, e, NULL);
    if (!h.enabled && (e = deliveries_kill(c, h.id, "the webhook was disabled", now)) != STORE_OK)
        return fail(w, e, NULL);
    return (e = webhook_get(c, w->workspace_id, w->id, &w->arena, &w->webhook)) != STORE_OK ? fail(w, e, NULL)
                                                                                            : STORE_OK;
}

static store_err_t webhook_delete(dbconn_t *c, store_write_t *w, int64_t now)
{
    sqlite3_stmt *st = db_stmt(c, ST_WEBHOOK_DELETE);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    sqlite3_bind_int64(st, 3, now);
    store_err_t e = step(c, st, 1);
    if (e == STORE_OK)
        e = deliveries_kill(c, w->id, "the webhook was deleted", now);
    return e != STORE_OK ? fail(w, e, NULL) : STORE_OK;
}

static store_err_t webhook_test(dbconn_t *c, store_write_t *w, int64_t now)
{
    webhook_t h;
    store_err_t e = webhook_get(c, w->workspace_id, w->id, &w->arena, &h);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if (!h.enabled)
        return fail(w, STORE_BAD_STATE, "enabled");
    sqlite3_stmt *st = db_stmt(c, ST_DELIVERY_TEST);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, h.id);
    sqlite3_bind_int64(st, 2, w->workspace_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, "{\"message\":\"a test event sent on request\"}", -1, SQLITE_STATIC);
    if ((e = step(c, st, 0)) != STORE_OK)
        return fail(w, e, NULL);
    c->deliveries_due = 1;
    e = delivery_get(c, w->workspace_id, h.id, sqlite3_last_insert_rowid(c->db), &w->arena, &w->delivery);
    return e != STORE_OK ? fail(w, e, NULL) : STORE_OK;
}

static store_err_t delivery_redeliver(dbconn_t *c, store_write_t *w, int64_t now)
{
    webhook_t h;
    store_err_t e = webhook_get(c, w->workspace_id, w->id, &w->arena, &h);
    if (e == STORE_OK)
        e = delivery_get(c, w->workspace_id, w->id, w->attempt.delivery_id, &w->arena, &w->delivery);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if (!h.enabled)
        return fail(w, STORE_BAD_STATE, "enabled");
    sqlite3_stmt *st = db_stmt(c, ST_DELIVERY_REDELIVER);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, w->delivery.id);
    sqlite3_bind_int64(st, 2, now);
    if ((e = step(c, st, 1)) != STORE_OK)
        return fail(w, e, NULL);
    c->deliveries_due = 1;
    e = delivery_get(c, w->workspace_id, w->id, w->delivery.id, &w->arena, &w->delivery);
    return e != STORE_OK ? fail(w, e, NULL) : STORE_OK;
}

/* A failed attempt of a delivery of webhook h: disables h once it has been failing for
 * disable_after_ms (its deliveries then die with the reason); *disabled set when it did. */
static store_err_t webhook_note_failure(dbconn_t *c, webhook_t *h, const webhook_attempt_t *at, int64_t now, arena_t *a,
                                        int *disabled)
{
    *disabled = 0;
    if (policy_webhook_failing(h, at, now)) {
        char since[TIME_ISO_LEN], reason[600];
        time_format_iso(h->failing_since, since);
        snprintf(reason, sizeof(reason),
                 "disabled automatically: every delivery attempt since %s failed (last: %.400s)", since,
                 at->error ? at->error : "no answer");
        h->enabled = 0;
        h->disabled_reason = arena_strdup(a, reason);
        store_err_t e = webhook_save(c, h, now);
        if (e == STORE_OK)
            e = deliveries_kill(c, h->id, reason, now);
        *disabled = 1;
        log_warn("webhook %" PRId64 " disabled: failing since %s", h->id, since);
        return e;
    }
    return webhook_save(c, h, now);
}

static store_err_t delivery_attempt(dbconn_t *c, store_write_t *w, int64_t now)
{
    const webhook_attempt_t *at = &w->attempt;
    webhook_delivery_t d;
    webhook_t h;
    store_err_t e = delivery_get(c, 0, 0, at->delivery_id, &w->arena, &d);
    if (e == STORE_OK)
        e = webhook_get(c, d.workspace_id, d.webhook_id, &w->arena, &h);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    sqlite3_stmt *st = db_stmt(c, ST_ATTEMPT_INSERT);
    if (st == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, d.id);
    sqlite3_bind_int64(st, 2, at->at);
    db_bind_time(st, 3, at->status_code);
    sqlite3_bind_int64(st, 4, at->latency_ms);
    db_bind_text(st, 5, at->error);
    if ((e = step(c, st, 0)) != STORE_OK)
        return fail(w, e, NULL);

    int64_t next = 0;
    int disabled = 0;
    if (at->error == NULL) {
        if (h.failing_since != 0 || h.disabled_reason != NULL) {
            h.failing_since = 0;
            e = webhook_save(c, &h, now);
        }
    } else {
        e = webhook_note_failure(c, &h, at, now, &w->arena, &disabled);
    }
    delivery_status_t status = policy_delivery_after(at, d.status, disabled, &next);
    if (e != STORE_OK)
        return fail(w, e, NULL);
    if ((st = db_stmt(c, ST_DELIVERY_SAVE)) == NULL)
        return fail(w, STORE_ERROR, NULL);
    sqlite3_bind_int64(st, 1, d.id);
    sqlite3_bind_int(st, 2, (int)status);
    db_bind_time(st, 3, next);
    db_bind_time(st, 4, at->status_code);
    sqlite3_bind_int64(st, 5, at->latency_ms);
    db_bind_text(st, 6, at->error);
    db_bind_text(st, 7, at->payload);
    sqlite3_bind_int64(st, 8, now);
    if ((e = step(c, st, 1)) != STORE_OK)
        return fail(w, e, NULL);
    e = delivery_get(c, 0, 0, d.id, &w->arena, &w->delivery);
    return e != STORE_OK ? fail(w, e, NULL) : STORE_OK;
}

static store_err_t deliveries_prune(dbconn_t *c, store_write_t *w)
{
    static const stmt_id_t steps[] = {ST_ATTEMPTS_PRUNE, ST_DELIVERIES_PRUNE};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st = db_stmt(c, steps[i]);
        if (st == NULL)
            return fail(w, STORE_ERROR, NULL);
        sqlite3_bind_int64(st, 1, w->attempt.at);
        sqlite3_bind_int(st, 2, STORE_PRUNE_DELIVERIES_BATCH);
        store_err_t e = step(c, st, 0);
        if (e != STORE_OK)
            return fail(w, e, NULL);
        w->affected = sqlite3_changes(c->db); /* the deliveries' count, from the last statement */
    }
    return STORE_OK;
}

store_err_t db_webhook_write(dbconn_t *c, store_write_t *w, int64_t now)
{
    switch (w->op) {
    case OP_WEBHOOK_CREATE:
        return webhook_create(c, w, now);
    case OP_WEBHOOK_UPDATE:
        return webhook_update(c, w, now);
    case OP_WEBHOOK_DELETE:
        return webhook_delete(c, w, now);
    case OP_WEBHOOK_TEST:
        return webhook_test(c, w, now);
    case OP_DELIVERY_REDELIVER:
        return delivery_redeliver(c, w, now);
    case OP_DELIVERY_ATTEMPT:
        return delivery_attempt(c, w, now);
    case OP_DELIVERIES_PRUNE:
        return deliveries_prune(c, w);
    default:
        return fail(w, STORE_ERROR, NULL);
    }
}

store_err_t db_webhook_fanout(dbconn_t *c, int64_t ws, int64_t alert_id, const char *event, int64_t conn_id,
                              int64_t run_id, int64_t at, const char *data, int *n)
{
    sqlite3_stmt *st = db_stmt(c, ST_DELIVERY_FANOUT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    db_bind_time(st, 2, alert_id);
    sqlite3_bind_text(st, 3, event, -1, SQLITE_TRANSIENT);
    db_bind_time(st, 4, conn_id);
    db_bind_time(st, 5, run_id);
    sqlite3_bind_int64(st, 6, at);
    sqlite3_bind_text(st, 7, data != NULL ? data : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, time_now_ms());
    store_err_t e = step(c, st, 0);
    int made = e == STORE_OK ? sqlite3_changes(c->db) : 0;
    if (made > 0)
        c->deliveries_due = 1;
    if (n != NULL)
        *n = made;
    return e;
}

/* ---- reads ---- */

store_err_t store_webhook_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, webhook_t *out)
{
    return webhook_get(&r->c, ws, id, a, out);
}

store_err_t store_webhook_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a, webhook_t **out,
                               int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_WEBHOOK_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    return db_collect(&r->c, st, a, sizeof(webhook_t), limit, row_webhook, (void **)out, n, NULL);
}

store_err_t store_delivery_list(store_reader_t *r, int64_t ws, int64_t webhook_id, int64_t before_id, int status,
                                int limit, arena_t *a, webhook_delivery_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_DELIVERY_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, webhook_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, before_id);
    sqlite3_bind_int(st, 4, status);
    sqlite3_bind_int(st, 5, limit);
    return db_collect(&r->c, st, a, sizeof(webhook_delivery_t), limit, row_delivery, (void **)out, n, NULL);
}

store_err_t store_delivery_get(store_reader_t *r, int64_t ws, int64_t webhook_id, int64_t id, arena_t *a,
                               webhook_delivery_t *out)
{
    return delivery_get(&r->c, ws, webhook_id, id, a, out);
}

store_err_t store_attempt_list(store_reader_t *r, int64_t ws, int64_t delivery_id, int limit, arena_t *a,
                               webhook_attempt_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_ATTEMPT_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, delivery_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int(st, 3, limit);
    store_err_t e = db_collect(&r->c, st, a, sizeof(webhook_attempt_t), limit, row_attempt, (void **)out, n, NULL);
    for (int i = 0, j = *n - 1; e == STORE_OK && i < j; i++, j--) {
        webhook_attempt_t t = (*out)[i];
        (*out)[i] = (*out)[j];
        (*out)[j] = t;
    }
    return e;
}

store_err_t store_deliveries_due(store_reader_t *r, int64_t now, int limit, arena_t *a, webhook_delivery_t **out,
                                 int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_DELIVERIES_DUE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, limit);
    return db_collect(&r->c, st, a, sizeof(webhook_delivery_t), limit, row_delivery, (void **)out, n, NULL);
}

store_err_t store_delivery_next_due(store_reader_t *r, int64_t *at)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_DELIVERY_NEXT_DUE);
    if (st == NULL)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    *at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

store_err_t store_delivery_counts(store_reader_t *r, int64_t ws, int64_t counts[DELIVERY_STATUS_COUNT])
{
    memset(counts, 0, sizeof(int64_t) * DELIVERY_STATUS_COUNT);
    sqlite3_stmt *st = db_stmt(&r->c, ST_DELIVERY_COUNTS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s < DELIVERY_STATUS_COUNT)
            counts[s] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}
