/* Census's current_step: the texts Census documents (seed 003), and the mapping of any other step
 * text a run reports onto them. Pure: no I/O. */
#ifndef SYNCRUN_MODEL_CENSUS_STEP_H
#define SYNCRUN_MODEL_CENSUS_STEP_H

/* Census's step texts, in the order of a sync (seed 003), NULL-terminated. */
extern const char *const census_steps[];

/* The Census step a run's current_step text shows as; NULL for NULL or an empty text. Always one
 * of census_steps otherwise (a static string):
 *   1. a Census step text, compared without case (seed 001 writes "Running Sync"), is itself;
 *   2. else the first rule of a keyword table whose words all occur in the text (without case)
 *      gives the step (e.g. "extracting rows from Snowflake" -> "Unloading data from warehouse");
 *   3. else "Running sync": the run is running and is in no step Census names. */
const char *census_step_name(const char *step);

#endif
