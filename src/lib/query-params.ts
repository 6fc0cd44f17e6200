import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { isPlatformAdmin, type Principal } from "../features/auth/principal.ts";
import { ApiError } from "./errors.ts";
import { INT4_MAX } from "./input-bounds.ts";
import { decodeCursor, invalidCursor, keyset, type CursorIds } from "./pagination.ts";

/**
 * `?flag=true|false`. z.coerce.boolean() would read "false" as true (any non-empty
 * string is truthy), so only the two literal spellings are accepted.
 */
export function booleanQuery(description: string) {
  return z
    .enum(["true", "false"])
    .optional()
    .transform((value) => (value === undefined ? undefined : value === "true"))
    .openapi({ description, type: "boolean" });
}

export const includeDeletedQuery = z
  .enum(["true", "false"])
  .default("false")
  .transform((value) => value === "true")
  .openapi({ description: "Also return soft-deleted rows (platform admins only; anyone else gets 403).", type: "boolean" });

/**
 * `include_deleted` is an administrator's tool: anyone else asking for it is told so
 * (403) rather than silently served live rows only, which would look like "nothing
 * was deleted".
 */
export function assertMayIncludeDeleted(principal: Principal, includeDeleted: boolean) {
  if (includeDeleted && !isPlatformAdmin(principal)) {
    throw new ApiError("forbidden", "include_deleted is reserved to platform administrators.");
  }
}

/** `?q=` as an ILIKE pattern that matches the text literally (%, _ and \ escaped). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

export const searchQuery = z.string().trim().min(1).max(200).optional();

const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

export type SortColumn = { sql: SQL; kind: "timestamp" | "text" | "integer" };

/**
 * `keyset` over typed columns: a cursor is opaque but not trusted, so its values are
 * checked against the column's type before they reach SQL (a forged cursor is a 422,
 * never a cast error and a 500). decodeCursor checks the id (int4 unless `ids` says the
 * id column is a bigint, as event_log's is).
 */
export function typedKeyset(sort: string, columns: Record<string, SortColumn>, id: SQL, cursor: string | undefined, ids: CursorIds = "integer") {
  if (cursor) {
    const position = decodeCursor(cursor, sort, ids);
    const field = sort.replace(/^-/, "");
    const column = columns[field];
    const value = position.value;
    // Sorting by the id alone: the cursor carries no separate value.
    const valid = field === "id" ||
      (column?.kind === "timestamp" ? typeof value === "string" && isTimestampText(value)
      : column?.kind === "integer" ? typeof value === "number" && Number.isSafeInteger(value) && Math.abs(value) <= INT4_MAX
      : typeof value === "string");
    if (!valid) throw invalidCursor();
  }
  const plain = Object.fromEntries(Object.entries(columns).map(([name, column]) => [name, column.sql]));
  return keyset(sort, plain, id, cursor, ids);
}

/** Whether a string is a timestamp as Postgres prints it (or ISO 8601). */
export function isTimestampText(text: string): boolean {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return false;
  // The shape alone lets "2026-13-45 99:00:00" through, which the ::timestamptz cast rejects (a 500).
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offset = /^[+-](\d{2}):?(\d{2})?$/.exec(match[8]!);
  const offsetValid = !offset || (Number(offset[1]) <= 15 && Number(offset[2] ?? 0) < 60);
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60 && offsetValid;
}

/** `a, b, c` for an IN list; `in ()` is not SQL, so an empty list is spelled `null` (matches nothing). */
export function sqlList(values: readonly (string | number)[]): SQL {
  return values.length === 0 ? sql`null` : sql.join(values.map((value) => sql`${value}`), sql`, `);
}
