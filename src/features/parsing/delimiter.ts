import { parse } from "csv-parse/sync";

export const DELIMITERS = [",", "\t", ";", "|"] as const;
export type Delimiter = (typeof DELIMITERS)[number];

const SAMPLE_RECORDS = 50;

function fieldCounts(sample: string, delimiter: Delimiter): number[] {
  try {
    const records = parse(sample, {
      delimiter,
      record_delimiter: ["\r\n", "\n"],
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      // The sample is cut at a line end, which may fall inside a quoted field: the records
      // before it are still evidence.
      skip_records_with_error: true,
      to: SAMPLE_RECORDS,
    }) as string[][];
    return records.map((record) => record.length);
  } catch {
    return [];
  }
}

/**
 * Picks the delimiter under which the sample reads as the most regular table, parsing
 * it with the real CSV parser for each candidate (so quoted delimiters do not count):
 * the header must split into at least two fields, and the share of records with the
 * header's field count decides; ties go to the wider table, then to `hint` (from the
 * extension or content type), then to the order , TAB ; |. Null when no candidate
 * splits the header: a one-column file.
 */
export function detectDelimiter(sample: string, hint: Delimiter | null): Delimiter | null {
  const candidates = hint ? [hint, ...DELIMITERS.filter((delimiter) => delimiter !== hint)] : [...DELIMITERS];
  let best: { delimiter: Delimiter; consistency: number; width: number } | null = null;
  for (const delimiter of candidates) {
    const counts = fieldCounts(sample, delimiter);
    const width = counts[0] ?? 0;
    if (width < 2) continue;
    const consistency = counts.filter((count) => count === width).length / counts.length;
    if (!best || consistency > best.consistency || (consistency === best.consistency && width > best.width)) {
      best = { delimiter, consistency, width };
    }
  }
  return best?.delimiter ?? null;
}

/** The sample up to its last complete line, unless it is the whole file. */
export function completeLines(text: string, isWholeFile: boolean): string {
  if (isWholeFile) return text;
  const lastNewline = text.lastIndexOf("\n");
  return lastNewline === -1 ? text : text.slice(0, lastNewline + 1);
}
