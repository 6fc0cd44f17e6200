/**
 * What the database cannot take, checked before it is asked: ids beyond an int4 column,
 * text with NUL characters or lone surrogates (Postgres text and jsonb refuse both), and
 * JSON nested deeper than anything we store. Each would otherwise surface as a driver
 * error, i.e. a 500 for bad input (contract: "Bad input is a 4xx, always").
 */
import type { FieldError } from "./errors.ts";

/** The largest `integer` (int4) value: the range of every id column but event_log's. */
export const INT4_MAX = 2_147_483_647;

/** JSON bodies deeper than this are refused (422); nothing the API stores nests nearly as deep. */
export const MAX_JSON_DEPTH = 64;

/** A raw path or query value that is an integer no int4 id can equal (`2147483648`, `1e10`, `2^63`). */
export function beyondIdRange(raw: string): boolean {
  const value = Number(raw);
  return raw.trim() !== "" && Number.isInteger(value) && value > INT4_MAX;
}

const ID_KEY = /_ids?$/;

/** `{ path, message }` for every id (`*_id`, or an element of `*_ids`) in validated data beyond int4. */
export function idRangeErrors(data: unknown, path: string, depth = 0): FieldError[] {
  if (depth > 8 || data === null || typeof data !== "object") return [];
  return Object.entries(data).flatMap(([key, value]) => {
    const at = `${path}.${key}`;
    if (ID_KEY.test(key) && typeof value === "number" && value > INT4_MAX) return [{ path: at, message: `ids are at most ${INT4_MAX}` }];
    if (ID_KEY.test(key) && Array.isArray(value)) {
      return value.flatMap((item, index) => (typeof item === "number" && item > INT4_MAX ? [{ path: `${at}.${index}`, message: `ids are at most ${INT4_MAX}` }] : []));
    }
    return idRangeErrors(value, at, depth + 1);
  });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unstorable(text: string): boolean {
  return text.includes("\u0000") || LONE_SURROGATE.test(text);
}

function unstorableMessage(text: string): string {
  return text.includes("\u0000") ? "must not contain NUL characters (\\u0000)" : "must be valid Unicode (no lone surrogates)";
}

/**
 * `{ path, message }` for every string (value or key) Postgres cannot store. Recursive:
 * call it on JSON already known to be at most MAX_JSON_DEPTH deep, or on query values.
 */
export function unstorableTextErrors(value: unknown, path: string): FieldError[] {
  if (typeof value === "string") return unstorable(value) ? [{ path, message: unstorableMessage(value) }] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const at = `${path}.${key}`;
    const keyErrors = unstorable(key) ? [{ path: at, message: `key ${unstorableMessage(key)}` }] : [];
    return [...keyErrors, ...unstorableTextErrors(item, at)];
  });
}

/** Whether JSON text nests deeper than `max`, in one pass over its brackets (no recursion, whatever the depth). */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      if (++depth > max) return true;
    } else if (char === 0x5d || char === 0x7d) depth--;
  }
  return false;
}

const UTC_OFFSET = /T.*([+-])(\d{2}):?(\d{2})$/;

/**
 * Whether an ISO 8601 date or date-time that zod's `z.iso` accepts is one Postgres can
 * store: zod allows year 0000 (Postgres has no year 0) and offsets up to ±23:59
 * (Postgres stops at ±15:59); either would fail the cast, a 500.
 */
export function storableDate(text: string): boolean {
  if (text.startsWith("0000")) return false;
  const offset = UTC_OFFSET.exec(text);
  return !offset || Number(offset[2]) <= 15;
}

export const STORABLE_DATE_MESSAGE = "must be a date from year 0001 on, with a UTC offset within ±15:59";
