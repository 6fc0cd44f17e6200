/** What every streamed format's reader yields: rows, each with where the next chunk would resume. */
export type ParsedRow = {
  data: Record<string, unknown>;
  /** Byte offset just past this row in the source: a chunk cut after it resumes here. */
  end: number;
  /** Line number (1-based) at `end`. */
  nextLine: number;
  /** Reader state at `end`, for the readers that have any. */
  state?: ReaderState;
};

/** Reader state that a resumed chunk needs besides the offset (Markdown: an open code fence). */
export type ReaderState = { fence: string | null };

export type RowBatch = {
  /** CSV: the header's column names, on the batch that read it. */
  header?: string[];
  rows: ParsedRow[];
};

export type ReaderStart = {
  offset: number;
  line: number;
  /** row_index of the first row this reader yields (for messages and paragraph numbers). */
  rowIndex: number;
  /** CSV: the column names when the header was read by an earlier chunk. */
  header: string[] | null;
  state: ReaderState | null;
};

export type RowReader = AsyncGenerator<RowBatch, void, undefined>;

/** "line 12 (row_index 10)": the line for an editor, the row_index for the API. */
export function rowPlace(line: number, rowIndex: number): string {
  return `line ${line} (row_index ${rowIndex})`;
}

export function describeJsonValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
