/**
 * Column builders shared by every table. Each helper returns a fresh builder so no
 * builder object is ever shared between two tables.
 *
 * Timestamps are `timestamp with time zone` read in drizzle's "string" mode: Postgres
 * keeps microseconds and a JS Date would drop them, which matters for keyset cursors
 * on `created_at` (two rows in the same millisecond must still order stably). The API
 * layer formats them as ISO 8601 when it serialises.
 */
import { sql } from "drizzle-orm";
import { bigint, integer, timestamp } from "drizzle-orm/pg-core";

export function timestamptz() {
  return timestamp({ withTimezone: true, mode: "string" });
}

export function createdAt() {
  return timestamptz().notNull().defaultNow();
}

/** Set by the database on insert and, through drizzle's update builder, on every update. */
export function updatedAt() {
  return timestamptz()
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`now()`);
}

/** Soft delete: NULL while live; list queries filter `deleted_at IS NULL`. */
export function deletedAt() {
  return timestamptz();
}

export function identityKey() {
  return integer().primaryKey().generatedAlwaysAsIdentity();
}

/** For the tables that grow with traffic rather than with customers (event_log, revisions). */
export function bigIdentityKey() {
  return bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity();
}

/** Byte counts: a multi-gigabyte upload overflows int4; mode "number" is exact up to 2^53. */
export function byteCount() {
  return bigint({ mode: "number" });
}
