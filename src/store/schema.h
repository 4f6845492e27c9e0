/* Versioned schema migrations of the SQLite store. Migration i (1-based) brings the
 * database from PRAGMA user_version i-1 to i; a migration is never edited once released. */
#ifndef SYNCRUN_STORE_SCHEMA_H
#define SYNCRUN_STORE_SCHEMA_H

#include <stddef.h>

extern const char *const schema_migrations[];
extern const size_t schema_migration_count;

#endif
