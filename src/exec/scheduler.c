/* Scheduling: each connection with a schedule keeps its next scheduled time (next_fire_at) in the
 * store, so a restart knows what it missed. A due time fires one run; times missed while syncrun
 * was down become at most one catch-up run (catchup "latest"), or none (catchup "none", or older
 * than starting_deadline_seconds), never a burst. */
#include "exec/scheduler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cron.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/timeutil.h"
#include "util/tz.h"

/* How late after its due time each on-time scheduled run was triggered (process-wide: one scheduler
 * per process). Catch-up runs after downtime are not lag and are not counted. */
static metrics_hist_t lag_hist;
static const double lag_le[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NLAG ((int)(sizeof(lag_le) / sizeof(lag_le[0])))

void scheduler_metrics_write(buf_t *b)
{
    metrics_head(b, "syncrun_scheduler_lag_seconds", "histogram",
                 "How long after its scheduled time the scheduler triggered each on-time run.");
    metrics_hist_write(b, "syncrun_scheduler_lag_seconds", "", &lag_hist, lag_le, NLAG, 1e6);
}

enum {
    RELOAD_MS = 2000,   /* schedules are re-read this often (edits through the API) */
    ON_TIME_MS = 60000, /* a due time handled later than this was missed (syncrun was down) */
    CATCHUP_SCAN_MAX = 100000,
};

enum { BAD_MAX = 256 };

/* Scheduled connections are read this many at a time, every page of them. */
enum { SCHEDULED_PAGE = 256 };

struct scheduler {
    struct {
        int64_t id, updated_at;
    } bad[BAD_MAX]; /* connections whose schedule was reported unusable */
    int nbad;
    store_t *store;
    store_reader_t *reader;
    int64_t loaded_ms;
    arena_t arena;
    connection_t *conns;
    int n;
};

scheduler_t *scheduler_new(store_t *s, store_reader_t *r)
{
    scheduler_t *sc = calloc(1, sizeof(*sc));
    if (sc != NULL) {
        sc->store = s;
        sc->reader = r;
    }
    return sc;
}

void scheduler_free(scheduler_t *sc)
{
    if (sc == NULL)
        return;
    arena_release(&sc->arena);
    free(sc);
}

/* A connection's schedule, parsed and with its zone loaded, for several evaluations. */
typedef struct schedule {
    cron_spec_t spec;
    tz_t *tz;
} schedule_t;

/* 1 when (id, updated_at) was already reported as unusable: report it once, not every tick. */
static int reported(scheduler_t *sc, const connection_t *cn)
{
    for (int i = 0; i < sc->nbad; i++)
        if (sc->bad[i].id == cn->id && sc->bad[i].updated_at == cn->updated_at)
            return 1;
    int k = sc->nbad < BAD_MAX ? sc->nbad++ : (int)(cn->id % BAD_MAX);
    sc->bad[k].id = cn->id;
    sc->bad[k].updated_at = cn->updated_at;
    return 0;
}

/* Loads cn's schedule; -1 (logged once) when it cannot be evaluated. */
static int schedule_load(scheduler_t *sc, const connection_t *cn, schedule_t *out)
{
    char err[160];
    out->tz = NULL;
    if (cron_parse(cn->schedule, &out->spec, err, sizeof(err)) != 0) {
        if (!reported(sc, cn))
            log_warn("scheduler: connection %" PRId64 " has an invalid schedule: %s", cn->id, err);
        return -1;
    }
    if (cn->timezone != NULL && (out->tz = tz_load(cn->timezone, err, sizeof(err))) == NULL) {
        if (!reported(sc, cn))
            log_warn("scheduler: connection %" PRId64 " has an unknown time zone: %s", cn->id, err);
        return -1;
    }
    return 0;
}

/* The first scheduled time strictly after `after`; 0 when there is none. */
static int64_t schedule_next(const schedule_t *sch, int64_t after)
{
    int64_t next = 0;
    return cron_next_after(&sch->spec, sch->tz, after, &next) == 0 ? next : 0;
}

static void set_next(scheduler_t *sc, const connection_t *cn, int64_t next)
{
    store_write_t w = {0};
    w.op = OP_CONNECTION_UPDATE;
    w.workspace_id = cn->workspace_id;
    w.id = cn->id;
    w.mask = CONN_F_NEXT_FIRE;
    w.conn.next_fire_at = next;
    store_exec(sc->store, &w);
    store_write_release(&w);
}

/* Triggers one run of cn for scheduled time `due`, and records `next` in the same transaction. */
static void fire(scheduler_t *sc, const connection_t *cn, int64_t due, int64_t next, const char *detail)
{
    store_write_t w = {0};
    w.op = OP_RUN_TRIGGER;
    w.workspace_id = cn->workspace_id;
    w.id = cn->id;
    w.trigger.tag = "Scheduled";
    w.trigger.detail = detail;
    w.trigger.scheduled_at = due;
    w.trigger.initial_state = RUN_QUEUED;
    w.trigger.next_fire_at = next;
    store_err_t e = store_exec(sc->store, &w);
    if (e != STORE_OK)
        log_error("scheduler: could not trigger connection %" PRId64 ": %s", cn->id, store_strerror(e));
    store_write_release(&w);
}

static void handle_due(scheduler_t *sc, const connection_t *cn, const schedule_t *sch, int64_t now)
{
    char iso[TIME_ISO_LEN], detail[400];
    const char *zone = cn->timezone ? cn->timezone : "UTC";
    if (cn->next_fire_at == 0) {
        int64_t next = schedule_next(sch, now);
        if (next != 0)
            set_next(sc, cn, next);
        return;
    }
    int64_t next = schedule_next(sch, now);
    if (next == 0)
        return; /* no time within the horizon: fire nothing, else every tick would */
    /* Due. Count the scheduled times up to now to tell an on-time fire from a catch-up. */
    int64_t latest = cn->next_fire_at, t = latest, missed = 1;
    while (missed < CATCHUP_SCAN_MAX) {
        int64_t n = schedule_next(sch, t);
        if (n == 0 || n > now)
            break;
        latest = t = n;
        missed++;
    }
    time_format_iso(latest, iso);
    if (missed == 1 && now - latest <= ON_TIME_MS) {
        snprintf(detail, sizeof(detail), "Scheduled by '%s' (%s)", cn->schedule, zone);
        metrics_hist_observe(&lag_hist, lag_le, NLAG, 1e6, (double)(now - latest) / 1000);
        fire(sc, cn, latest, next, detail);
        return;
    }
    if (cn->catchup == CATCHUP_NONE || (cn->starting_deadline_s > 0 && now - latest > cn->starting_deadline_s * 1000)) {
        log_info("scheduler: connection %" PRId64 " missed %" PRId64 " scheduled time(s) up to %s; not caught up",
                 cn->id, missed, iso);
        set_next(sc, cn, next);
        return;
    }
    snprintf(detail, sizeof(detail),
             "Catch-up run for %s by '%s' (%s): %" PRId64 " scheduled time(s) were missed while syncrun was not "
             "running; one run stands for them",
             iso, cn->schedule, zone, missed);
    fire(sc, cn, latest, next, detail);
}

static void handle(scheduler_t *sc, const connection_t *cn, int64_t now)
{
    if (cn->next_fire_at > now)
        return;
    schedule_t sch;
    if (schedule_load(sc, cn, &sch) != 0)
        return;
    handle_due(sc, cn, &sch, now);
    tz_free(sch.tz);
}

/* Reads every scheduled connection into sc->conns, a page at a time; on a failed read, none. */
static void load_scheduled(scheduler_t *sc)
{
    arena_release(&sc->arena);
    sc->conns = NULL;
    sc->n = 0;
    int room = 0, more = 1;
    int64_t after = 0;
    while (more) {
        connection_t *page;
        int n;
        if (store_connections_scheduled(sc->reader, after, SCHEDULED_PAGE, &sc->arena, &page, &n, &more) != STORE_OK) {
            sc->n = 0;
            return;
        }
        if (sc->n + n > room) {
            room = (sc->n + n) * 2;
            connection_t *all = arena_alloc(&sc->arena, sizeof(*all) * (size_t)room);
            if (sc->n > 0)
                memcpy(all, sc->conns, sizeof(*all) * (size_t)sc->n);
            sc->conns = all;
        }
        if (n > 0) {
            memcpy(sc->conns + sc->n, page, sizeof(*page) * (size_t)n);
            sc->n += n;
            after = page[n - 1].id;
        }
    }
}

int64_t scheduler_tick(scheduler_t *sc, int64_t now_ms)
{
    if (sc->loaded_ms == 0 || now_ms - sc->loaded_ms >= RELOAD_MS || now_ms < sc->loaded_ms) {
        load_scheduled(sc);
        sc->loaded_ms = now_ms;
    }
    int64_t wait = RELOAD_MS;
    int acted = 0;
    for (int i = 0; i < sc->n; i++) {
        connection_t *cn = &sc->conns[i];
        if (cn->next_fire_at == 0 || cn->next_fire_at <= now_ms) {
            handle(sc, cn, now_ms);
            acted = 1;
        } else if (cn->next_fire_at - now_ms < wait) {
            wait = cn->next_fire_at - now_ms;
        }
    }
    if (acted)
        sc->loaded_ms = 0; /* re-read next time: next_fire_at moved */
    return wait;
}
