/* Census's sync run rendering (model/census_run.h). */
#include "model/census_run.h"

#include <stdio.h>

#include "model/census_step.h"
#include "util/jsonw.h"

/* What a failed run says when it carries no error of its own: clients slice and print
 * error_code and error_message, so a failed run always has both. */
static const struct {
    const char *code, *message;
} census_fail_texts[RUN_RESULT_COUNT] = {
    [RESULT_ERROR] = {"error", "The sync run failed"},
    [RESULT_CONFIG_ERROR] = {"config_error", "The sync run failed: the sync's configuration is invalid"},
    [RESULT_TIMED_OUT] = {"timed_out", "The sync run timed out"},
    [RESULT_CANCELED] = {"canceled", "The sync run was canceled"},
};

/* Writes error_code and error_message (each "key":value, separated by a comma). */
static void census_write_error(buf_t *b, const run_t *r)
{
    const char *code = r->error_code, *message = r->error_message;
    int failed =
        r->state == RUN_FINISHED && (unsigned)r->result < RUN_RESULT_COUNT && census_fail_texts[r->result].code != NULL;
    JW_KEY(b, "error_code");
    jw_str(b, code == NULL && failed ? census_fail_texts[r->result].code : code);
    JW_LIT(b, ",");
    JW_KEY(b, "error_message");
    if (message != NULL || !failed) {
        jw_str(b, message);
        return;
    }
    /* the run's message, when it has one, says why (e.g. which overlap policy canceled it) */
    char text[4 * RUN_TEXT_MAX + 128]; /* a message of RUN_TEXT_MAX characters fits whole */
    if (r->message != NULL && r->message[0] != '\0')
        snprintf(text, sizeof(text), "%s: %s", census_fail_texts[r->result].message, r->message);
    else
        snprintf(text, sizeof(text), "%s", census_fail_texts[r->result].message);
    jw_str(b, text);
}

void census_run_write(buf_t *b, const run_t *r)
{
    JW_LIT(b, "{");
    JW_KEY(b, "id");
    jw_int(b, r->id);
    JW_LIT(b, ",");
    JW_KEY(b, "created_at");
    jw_time(b, r->created_at);
    JW_LIT(b, ",");
    JW_KEY(b, "updated_at");
    jw_time(b, r->updated_at);
    JW_LIT(b, ",");
    JW_KEY(b, "completed_at");
    jw_time(b, r->completed_at);
    JW_LIT(b, ",");
    census_write_error(b, r);
    JW_LIT(b, ",");
    JW_KEY(b, "error_detail");
    jw_str(b, r->error_detail);
    JW_LIT(b, ",");
    JW_KEY(b, "status");
    jw_str(b, census_status(r->state, r->result));
    JW_LIT(b, ",");
    JW_KEY(b, "sync_id");
    jw_int(b, r->connection_id);
    static const struct {
        const char *key;
        counter_t c;
    } counters[] = {
        {",\"source_record_count\":", CTR_SOURCE_RECORD_COUNT},
        {",\"records_failed\":", CTR_RECORDS_FAILED},
        {",\"source_record_updates\":", CTR_SOURCE_RECORD_UPDATES},
        {",\"source_record_deletes\":", CTR_SOURCE_RECORD_DELETES},
        {",\"source_record_invalids\":", CTR_SOURCE_RECORD_INVALIDS},
        /* the old name of source_record_invalids (seed 001: "backward compatibility"), the same number */
        {",\"records_invalid\":", CTR_SOURCE_RECORD_INVALIDS},
        {",\"records_processed\":", CTR_RECORDS_PROCESSED},
        {",\"records_updated\":", CTR_RECORDS_UPDATED},
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        buf_adds(b, counters[i].key);
        jw_int(b, r->counters[counters[i].c]);
    }
    JW_LIT(b, ",");
    JW_KEY(b, "scheduled_execution_time");
    jw_time(b, r->scheduled_at);
    JW_LIT(b, ",");
    JW_KEY(b, "full_sync");
    jw_bool(b, r->full_sync);
    JW_LIT(b, ",");
    JW_KEY(b, "sync_trigger_reason");
    JW_LIT(b, "{");
    JW_KEY(b, "ui_tag");
    jw_str(b, r->trigger_tag);
    JW_LIT(b, ",");
    JW_KEY(b, "ui_detail");
    jw_str(b, r->trigger_detail);
    JW_LIT(b, "},");
    JW_KEY(b, "canceled");
    jw_bool(b, r->result == RESULT_CANCELED);
    JW_LIT(b, ",");
    JW_KEY(b, "current_step");
    jw_str(b, census_step_name(r->current_step));
    JW_LIT(b, "}");
}
