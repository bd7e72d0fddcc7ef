/*
 * What only the SQLite backend of the database layer has: the sqlite3 handle beneath a
 * connection, for the features that exist on SQLite alone and are named as such where they
 * are used (SQL functions registered in C, the online backup API).
 */
#ifndef KONSIL_DB_SQLITE_H
#define KONSIL_DB_SQLITE_H

#include <sqlite3.h>

#include "db/db.h"

/* A connection of the layer around handle, an SQLite connection the caller opened and
 * configured and keeps owning (db_close leaves it open): for code that still holds a
 * sqlite3 handle calling code written on the layer. NULL when memory runs out. */
db *db_sqlite_adopt(sqlite3 *handle);

/* The handle of an SQLite connection; NULL for a connection of another backend. Owned by
 * the connection. */
sqlite3 *db_sqlite_handle(db *d);

#endif
