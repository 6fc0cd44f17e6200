/**
 * The bounds that keep one invocation far below the 128 MB isolate limit and the
 * consumer's CPU budget, whatever the file size. Documented in the README.
 */
const MiB = 1024 * 1024;

export const PARSE_LIMITS = {
  /** Rows per chunk of a streamed format; each chunk is its own queue message. */
  chunkRows: 5_000,
  /** Serialised JSON of a chunk's rows: one INSERT parameter, well under Neon's request size. */
  chunkPayloadBytes: 4 * MiB,
  /**
   * How long one message keeps committing chunks before it hands the rest of the file to
   * a fresh message. A batch of 10 parse messages then stays inside a queue consumer's
   * 15 minutes of wall time, and its CPU time (at most its wall time) inside the 5 minutes
   * wrangler.toml's `limits.cpu_ms` allows.
   */
  sliceMs: 60_000,
  /** Bytes sniffed for format and delimiter detection. */
  headBytes: 64 * 1024,
  /** Pieces fed to the parsers; bounds what one piece can expand into. */
  pieceBytes: 64 * 1024,
  /** One CSV record, JSON element or JSON Lines line. */
  recordBytes: 1 * MiB,
  /** A text paragraph longer than this is split (paragraphs are otherwise unbounded). */
  paragraphBytes: 1 * MiB,
  columns: 1_000,
  /** XLSX and PDF cannot resume mid-file: they are parsed whole, up to this size. */
  wholeFileBytes: 16 * MiB,
  /** Characters of an XLSX workbook's shared strings, which stay in memory. */
  sharedStringChars: 16 * MiB,
  /** Decompressed XML of a workbook, a guard against ZIP bombs. */
  workbookXmlBytes: 512 * MiB,
} as const;

export type ParseLimits = typeof PARSE_LIMITS;

export function describeBytes(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
