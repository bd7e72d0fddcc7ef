/*
 * The migrations of store_schema.c in PostgreSQL's dialect: entry i has the meaning of
 * SQLite migration i + 1 (same tables, columns, keys and indexes), written with
 * PostgreSQL's types where SQLite's differ — BIGINT for every integer that holds a time
 * in ms, a version, a count or a sequence number (SQLite's INTEGER is 64 bits, PostgreSQL's
 * 32); BYTEA for the columns that hold case data, sealed or not (op texts, milestones, case
 * titles, clients' names: a sealed record begins with byte 0x01, which no plaintext
 * JSON text or name does) — and without SQLite's table rebuilds where the result is already
 * PostgreSQL's (migration 4).
 */
#ifndef KONSIL_STORE_SCHEMA_PG_H
#define KONSIL_STORE_SCHEMA_PG_H

#include <stddef.h>

extern const char *const store_schema_pg_migrations[];
extern const size_t store_schema_pg_count;

#endif
