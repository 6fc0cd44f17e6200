import { sql, type SQL } from "drizzle-orm";

/** A value for a SQL template: SQL passes through, objects become jsonb, the rest are parameters. */
export type SqlValue = SQL | string | number | boolean | null | undefined | Record<string, unknown> | unknown[];

export function sqlValue(value: SqlValue): SQL {
  if (value === undefined || value === null) return sql`null`;
  if (typeof value === "object" && "getSQL" in value) return value as SQL;
  if (typeof value === "object") return sql`${JSON.stringify(value)}::jsonb`;
  return sql`${value}`;
}

/** Postgres' timestamptz text ("2026-11-22 07:19:07.402123+00") as ISO 8601 UTC. */
export function isoTimestamp(value: string): string;
export function isoTimestamp(value: string | null): string | null;
export function isoTimestamp(value: string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}
