/**
 * Column names from a header row: trimmed; empty becomes `column_N` (N its 1-based
 * position); a repeated name gets `_2`, `_3`, … (skipping any suffix already taken),
 * so every column has a unique, non-empty key in the row objects.
 */
export function normalizeHeaders(raw: readonly unknown[]): string[] {
  const taken = new Set<string>();
  return raw.map((value, index) => {
    const trimmed = value === null || value === undefined ? "" : String(value).trim();
    const base = trimmed === "" ? `column_${index + 1}` : trimmed;
    let name = base;
    for (let suffix = 2; taken.has(name); suffix++) name = `${base}_${suffix}`;
    taken.add(name);
    return name;
  });
}
