/**
 * The bounds that keep one invocation far below the 128 MB isolate limit and the
 * consumer's CPU budget, whatever the file size. Documented in the README.
 */
const MiB = 1024 * 1024;

export const PARSE_LIMITS = {
  /** Rows per chunk of a streamed format; each chunk is its own queue message. */
  chunkRows: 5_000,
  /**
   * Lines per chunk of an llm_output import: a suggestion line is a few dozen bytes where a
   * table row is often hundreds, and twice a parse chunk's rows took the 1,000,000-line
   * import bench from 10.2–10.3 s to 9.5 s on PGlite (fewer statements to plan and commit).
   */
  importChunkLines: 10_000,
  /**
   * Chunk commits one message has sent and not yet settled (parsing/chunked-parse.ts). A
   * second one in flight keeps the database busy while the previous commit's answer travels
   * back and the next request arrives: one round trip of each chunk, 50–150 ms from an
   * edge location, is no longer waited out in turn. A commit waits at the database for its
   * immediate predecessor only (chunkCommit's `follows`): with more in flight, a third
   * would find the cursor two chunks short and be sent again rather than wait.
   */
  commitsInFlight: 2,
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
  /** Columns of a table; a CSV header is checked against it before its names are normalised. */
  columns: 1_000,
  /** Nesting of a JSON record (the object itself is level 1), as for API bodies: serialising deeper values overflows the stack. */
  jsonDepth: 64,
  /** XLSX and PDF cannot resume mid-file: they are parsed whole, up to this size. */
  wholeFileBytes: 16 * MiB,
  /** Characters of an XLSX workbook's shared strings, which stay in memory. */
  sharedStringChars: 16 * MiB,
  /** An XLSX workbook's small parts (workbook, relationships, styles), held whole while read. */
  workbookPartBytes: 8 * MiB,
  /** Characters of one XLSX cell value, inline string or shared string, checked as the text arrives. */
  cellChars: 1_000_000,
  /**
   * Characters between two XML events (a text run, a tag with its attributes, a comment):
   * saxes holds them until the event, so this bounds what it buffers. Room for one cell of
   * `cellChars` and its markup.
   */
  xmlTokenChars: 2_000_000,
  /** Nesting of XML elements in a workbook part (SpreadsheetML needs about ten); saxes holds each open one. */
  xmlDepth: 64,
  /** A worksheet's columns: XFD, the last column Excel has. Also the most cells one row may have. */
  sheetColumns: 16_384,
  /** Sheets of a workbook: each is a table, and a reader while the archive is streamed. */
  sheets: 100,
  /**
   * Decompressed XML of a workbook, a guard against ZIP bombs: at most this many times the
   * archive's size (real workbooks compress 5–20:1), never more than workbookXmlBytes, and
   * always at least workbookXmlFloorBytes so a tiny, very regular workbook still parses.
   * 128 MiB of SAX events is about 2 s of CPU; the floor is what a small bomb costs.
   */
  workbookXmlRatio: 100,
  workbookXmlFloorBytes: 8 * MiB,
  workbookXmlBytes: 128 * MiB,
  /**
   * Compressed bytes inflated at a time (XLSX entries, PDF streams). Inflating is
   * synchronous, so all one push expands into is in memory at once; deflate expands at
   * most ~1000:1, so this bounds that to about 1 MiB even for a bomb. Measured: 4 KiB
   * pushes left twice the garbage of 1 KiB ones behind a 64 MiB bomb (npm run bench).
   */
  inflatePushBytes: 1024,
  /** Pages of a PDF: each is a row, and pdf.js works through them one by one. */
  pdfPages: 2_000,
  /**
   * Bytes a PDF's Flate streams expand to, checked before pdf.js sees the document: pdf.js
   * keeps a decoded stream whole in memory, so this bounds what it can hold.
   */
  pdfInflatedBytes: 64 * MiB,
  /**
   * Time to extract a PDF's text, checked between pages: a backstop for documents whose
   * pages reuse one large content stream or form, which no size limit sees. Far below the
   * consumer's 5 minutes of CPU, so such a file fails instead of being retried.
   */
  pdfExtractMs: 60_000,
  /** Characters of text extracted from one PDF, all of which becomes rows. */
  pdfTextChars: 16_000_000,
} as const;

export type ParseLimits = typeof PARSE_LIMITS;

/** "1,000,000": counts in messages, as a user reads them. */
export function describeCount(count: number): string {
  return count.toLocaleString("en-US");
}

export function describeBytes(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** The decompressed XML an XLSX archive of `archiveBytes` may expand to (see workbookXmlRatio). */
export function workbookXmlLimit(archiveBytes: number): number {
  const { workbookXmlRatio, workbookXmlFloorBytes, workbookXmlBytes } = PARSE_LIMITS;
  return Math.min(workbookXmlBytes, Math.max(workbookXmlFloorBytes, archiveBytes * workbookXmlRatio));
}
