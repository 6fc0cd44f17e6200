/**
 * Column type inference. Each non-null value has a type; a column's type is the join of
 * its values' types: integer ⊔ number = number, date ⊔ datetime = datetime, equal types
 * stay, anything else is string. A column is nullable when some row has no value for it.
 *
 * Text cells (CSV/TSV) are typed by their spelling, strictly, so a value round-trips:
 *   integer   -?(0|[1-9]\d*) within ±2^53 ("007" and 20-digit ids stay strings)
 *   number    JSON number syntax ("1.5", "-2e10"; not "1.", ".5", "NaN")
 *   boolean   true / false, any case
 *   date      YYYY-MM-DD, a real calendar day
 *   datetime  YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:]MM]
 * Typed sources (JSON, XLSX, documents) keep their own types: numbers are integer or
 * number, booleans boolean, objects and arrays json, and only strings spelling a date or
 * datetime become date / datetime ("42" in JSON is a string on purpose).
 */
import type { FileTableColumn } from "../../db/schema/files.ts";

export type ColumnType = "integer" | "number" | "boolean" | "date" | "datetime" | "string" | "json";

const INTEGER = /^-?(0|[1-9]\d*)$/;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?$/;

function isCalendarDay(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function temporalType(text: string): "date" | "datetime" | null {
  if (text.length < 10 || text.length > 35) return null;
  const date = DATE.exec(text);
  if (date) return isCalendarDay(date[1]!, date[2]!, date[3]!) ? "date" : null;
  const time = DATETIME.exec(text);
  if (!time || !isCalendarDay(time[1]!, time[2]!, time[3]!)) return null;
  const [hour, minute, second, offsetHour, offsetMinute] = [time[4], time[5], time[6], time[7], time[8]].map((part) => Number(part ?? 0));
  const valid = hour! < 24 && minute! < 60 && second! < 60 && offsetHour! < 24 && offsetMinute! < 60;
  return valid ? "datetime" : null;
}

/** The type of a CSV/TSV cell (never empty: empty cells are null). */
export function textValueType(text: string): ColumnType {
  if (INTEGER.test(text)) return Number.isSafeInteger(Number(text)) ? "integer" : "string";
  if (NUMBER.test(text)) return Number.isFinite(Number(text)) ? "number" : "string";
  if (BOOLEAN.test(text)) return "boolean";
  return temporalType(text) ?? "string";
}

/** The type of a JSON / XLSX / document value; null for null. */
export function typedValueType(value: unknown): ColumnType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return temporalType(value) ?? "string";
  return "json";
}

export function joinTypes(a: ColumnType | null, b: ColumnType): ColumnType {
  if (a === null || a === b) return b;
  if ((a === "integer" && b === "number") || (a === "number" && b === "integer")) return "number";
  if ((a === "date" && b === "datetime") || (a === "datetime" && b === "date")) return "datetime";
  return "string";
}

/** What the cursor keeps per column between chunks: the join so far and how many values were seen. */
export type ColumnStats = { name: string; type: ColumnType | null; non_null: number };

export function toTableColumns(stats: readonly ColumnStats[], rowCount: number): FileTableColumn[] {
  return stats.map((column) => ({
    name: column.name,
    // A column that never held a value says nothing about its type; string is the safe reading.
    type: column.type ?? "string",
    nullable: column.non_null < rowCount,
  }));
}
