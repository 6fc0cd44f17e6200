import { describeCount, PARSE_LIMITS } from "./limits.ts";
import { ParseError } from "./parse-error.ts";

/**
 * Column names from a header row: trimmed; empty becomes `column_N` (N its 1-based
 * position); a repeated name gets `_2`, `_3`, … (skipping any suffix already taken),
 * so every column has a unique, non-empty key in the row objects.
 *
 * A header wider than PARSE_LIMITS.columns fails before any name is built (`where` says
 * which row it is). Duplicate naming is linear: each name remembers the next suffix to
 * try, so ten thousand copies of one name do not each rescan the suffixes before them.
 */
export function normalizeHeaders(raw: readonly unknown[], where: string): string[] {
  if (raw.length > PARSE_LIMITS.columns) {
    throw new ParseError(`${where} has ${describeCount(raw.length)} fields; the limit is ${describeCount(PARSE_LIMITS.columns)} columns.`);
  }
  const taken = new Set<string>();
  const nextSuffix = new Map<string, number>();
  return raw.map((value, index) => {
    const trimmed = value === null || value === undefined ? "" : String(value).trim();
    const base = trimmed === "" ? `column_${index + 1}` : trimmed;
    let name = base;
    if (taken.has(name)) {
      // Suffixes below the remembered one are all taken already: names are never released.
      let suffix = nextSuffix.get(base) ?? 2;
      while (taken.has(`${base}_${suffix}`)) suffix += 1;
      name = `${base}_${suffix}`;
      nextSuffix.set(base, suffix + 1);
    }
    taken.add(name);
    return name;
  });
}
