import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { ApiError } from "./errors.ts";
import { INT4_MAX } from "./input-bounds.ts";

export type Page<T> = { data: T[]; next_cursor: string | null };

export const limitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(200)
  .default(50)
  .openapi({ description: "Page size, 1–200.", example: 50 });

export const cursorSchema = z
  .string()
  .max(512)
  .optional()
  .openapi({ description: "`next_cursor` of the previous page. Opaque; stable under concurrent inserts." });

/** `?sort=field` (ascending) or `?sort=-field` (descending) over the listed fields. */
export function sortSchema<const F extends readonly [string, ...string[]]>(fields: F, defaultSort: F[number] | `-${F[number]}`) {
  const values = fields.flatMap((field) => [field, `-${field}`]) as [string, ...string[]];
  return z
    .enum(values)
    .default(defaultSort)
    .openapi({ description: `Sort by ${fields.join(", ")}; prefix with \`-\` for descending.` });
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}

type CursorPosition = { value: unknown; id: number };

function toBase64Url(text: string) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

/** The cursor names its sort, so a cursor from one ordering cannot be replayed against another. */
export function encodeCursor(sort: string, value: unknown, id: number | string): string {
  return toBase64Url(JSON.stringify([sort, value, id]));
}

/** The ids a cursor may carry: an int4 id column's by default, event_log's bigint ones when asked. */
export type CursorIds = "integer" | "bigint";

/**
 * A cursor's sort value and id, checked: it is opaque but not trusted, so anything we
 * could not have issued (another list's cursor, an id that is not an integer of the id
 * column's range, text with NUL characters) is a 422 here rather than a cast error in SQL.
 */
export function decodeCursor(cursor: string, sort: string, ids: CursorIds = "integer"): CursorPosition {
  const max = ids === "integer" ? INT4_MAX : Number.MAX_SAFE_INTEGER;
  try {
    const [cursorSort, value, id] = JSON.parse(fromBase64Url(cursor)) as [unknown, unknown, unknown];
    const textOk = typeof value !== "string" || !value.includes("\u0000");
    if (cursorSort === sort && Number.isSafeInteger(id) && (id as number) >= 0 && (id as number) <= max && textOk) return { value, id: id as number };
  } catch {
    // reported below
  }
  throw invalidCursor();
}

export function invalidCursor(): ApiError {
  return new ApiError("validation_failed", "The cursor is not valid for this list and sort order.", {
    errors: [{ path: "query.cursor", message: "invalid cursor" }],
  });
}

/** The id a `next_cursor` of a list ordered by one int4 id column (`name`) continues after; null without a cursor. */
export function idAfter(cursor: string | undefined, name: string): number | null {
  return cursor ? decodeCursor(cursor, name).id : null;
}

export type SortableColumn = { column: SQL; id: SQL };

/**
 * Keyset pagination on (sort key, id): `where` continues strictly after the cursor's
 * row, `orderBy` keeps the order total. Rows inserted meanwhile never shift a page,
 * so every row that existed when the listing started is returned exactly once.
 */
export function keyset(sort: string, columns: Record<string, SQL>, id: SQL, cursor: string | undefined, ids: CursorIds = "integer") {
  const descending = sort.startsWith("-");
  const field = descending ? sort.slice(1) : sort;
  const column = columns[field];
  if (!column) throw new Error(`no sortable column ${field}`);
  const direction = descending ? sql`desc` : sql`asc`;
  const position = cursor ? decodeCursor(cursor, sort, ids) : null;
  const comparison = descending ? sql`<` : sql`>`;
  const where = position
    ? field === "id"
      ? sql`${id} ${comparison} ${position.id}`
      : sql`(${column}, ${id}) ${comparison} (${position.value}, ${position.id})`
    : sql`true`;
  return { where, orderBy: sql`${column} ${direction}, ${id} ${direction}`, field };
}

/** Takes `limit + 1` fetched rows: the page, and a cursor if there is more. */
export function toPage<R, T>(rows: R[], limit: number, sort: string, position: (row: R) => { value: unknown; id: number | string }, present: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? position(last) : null;
  return { data: page.map(present), next_cursor: next ? encodeCursor(sort, next.value, next.id) : null };
}
