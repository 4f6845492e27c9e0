/* Census current_step texts and the keyword table that maps other step texts onto them. */
#include "model/census_step.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

const char *const census_steps[] = {
    "Checking for columns to remove from the sync",
    "Checking for fields to create in destination",
    "Checking source and destination configuration",
    "Unloading data from warehouse",
    "Loading data into destination service",
    "Committing data to destination service",
    "Committing sync to warehouse",
    "Running sync",
    NULL,
};

enum { STEP_COLUMNS, STEP_FIELDS, STEP_CONFIG, STEP_UNLOAD, STEP_LOAD, STEP_COMMIT_DEST, STEP_COMMIT_WH, STEP_RUNNING };

/* First match wins: the more specific rules come first ("commit ... warehouse" before "commit",
 * "warehouse" alone would be unloading). Every word of a rule must occur (as a substring, without
 * case); an empty second word matches anything. */
static const struct {
    const char *word1, *word2;
    int step;
} step_rules[] = {
    {"column", "remov", STEP_COLUMNS}, {"field", "creat", STEP_FIELDS}, {"commit", "warehouse", STEP_COMMIT_WH},
    {"commit", "", STEP_COMMIT_DEST},  {"config", "", STEP_CONFIG},     {"validat", "", STEP_CONFIG},
    {"check", "", STEP_CONFIG},        {"unload", "", STEP_UNLOAD},     {"extract", "", STEP_UNLOAD},
    {"export", "", STEP_UNLOAD},       {"query", "", STEP_UNLOAD},      {"read", "", STEP_UNLOAD},
    {"fetch", "", STEP_UNLOAD},        {"warehouse", "", STEP_UNLOAD},  {"load", "", STEP_LOAD},
    {"upload", "", STEP_LOAD},         {"send", "", STEP_LOAD},         {"writ", "", STEP_LOAD},
    {"push", "", STEP_LOAD},           {"upsert", "", STEP_LOAD},
};

/* 1 when word occurs in s, compared without case (ASCII). */
static int contains_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);
    if (n == 0)
        return 1;
    for (; *s != '\0'; s++)
        if (strncasecmp(s, word, n) == 0)
            return 1;
    return 0;
}

const char *census_step_name(const char *step)
{
    if (step == NULL || step[0] == '\0')
        return NULL;
    for (size_t i = 0; census_steps[i] != NULL; i++)
        if (strcasecmp(step, census_steps[i]) == 0)
            return census_steps[i];
    for (size_t i = 0; i < sizeof(step_rules) / sizeof(step_rules[0]); i++)
        if (contains_nocase(step, step_rules[i].word1) && contains_nocase(step, step_rules[i].word2))
            return census_steps[step_rules[i].step];
    return census_steps[STEP_RUNNING];
}
