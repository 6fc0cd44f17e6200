/**
 * What a file is, decided from its first bytes before anything it claims: magic numbers
 * (PDF, ZIP/XLSX, a few common binaries we refuse by name) and byte-order marks, then
 * the declared content type, then the extension, then a look at the text itself.
 * A declaration the bytes contradict is an error naming both, never a silent guess.
 */
import { completeLines, detectDelimiter, type Delimiter } from "./delimiter.ts";
import { ParseError } from "./parse-error.ts";

export type FileFormat = "csv" | "json" | "jsonl" | "xlsx" | "pdf" | "text" | "markdown";
export type TextEncoding = "utf-8" | "utf-16le" | "utf-16be";

export type DetectedFormat = {
  format: FileFormat;
  encoding: TextEncoding;
  /** Bytes of byte-order mark to skip. */
  bomLength: number;
  /** CSV only: the field delimiter. */
  delimiter: Delimiter | null;
};

/** Formats that cannot resume mid-file and are parsed whole in one invocation. */
export function isWholeFileFormat(format: FileFormat): format is "xlsx" | "pdf" {
  return format === "xlsx" || format === "pdf";
}

export function isDocumentFormat(format: FileFormat): format is "pdf" | "text" | "markdown" {
  return format === "pdf" || format === "text" || format === "markdown";
}

type Claim = "csv" | "tsv" | "json" | "jsonl" | "xlsx" | "pdf" | "text" | "markdown" | "spreadsheet";

const CLAIM_LABELS: Record<Claim, string> = {
  csv: "CSV",
  tsv: "TSV",
  json: "JSON",
  jsonl: "JSON Lines",
  xlsx: "an XLSX workbook",
  pdf: "a PDF document",
  text: "plain text",
  markdown: "Markdown",
  spreadsheet: "a spreadsheet",
};

const CONTENT_TYPES: Record<string, Claim> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "text/x-csv": "csv",
  "text/comma-separated-values": "csv",
  // Windows browsers send this for .csv as well as .xls.
  "application/vnd.ms-excel": "spreadsheet",
  "text/tab-separated-values": "tsv",
  "application/json": "json",
  "text/json": "json",
  "application/x-ndjson": "jsonl",
  "application/ndjson": "jsonl",
  "application/jsonl": "jsonl",
  "application/x-jsonlines": "jsonl",
  "application/jsonlines": "jsonl",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/pdf": "pdf",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
};

const EXTENSIONS: Record<string, Claim> = {
  csv: "csv",
  tsv: "tsv",
  tab: "tsv",
  json: "json",
  jsonl: "jsonl",
  ndjson: "jsonl",
  xlsx: "xlsx",
  pdf: "pdf",
  txt: "text",
  text: "text",
  md: "markdown",
  markdown: "markdown",
};

const TEXT_CLAIMS = new Set<Claim>(["csv", "tsv", "json", "jsonl", "text", "markdown", "spreadsheet"]);

type Declared = { filename: string; contentType: string };
type ResolvedClaim = { claim: Claim; source: string } | null;

function resolveClaim({ filename, contentType }: Declared): ResolvedClaim {
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  const byExtension = extension ? EXTENSIONS[extension] : undefined;
  const fromExtension = byExtension ? { claim: byExtension, source: `extension .${extension}` } : null;
  const byType = CONTENT_TYPES[mediaType];
  if (byType === "spreadsheet" && fromExtension && (fromExtension.claim === "csv" || fromExtension.claim === "tsv")) return fromExtension;
  if (byType) return { claim: byType, source: `content type ${mediaType}` };
  // text/plain says "text" and no more: a .csv or .json sent as text/plain is still that.
  if (mediaType === "text/plain") return fromExtension && TEXT_CLAIMS.has(fromExtension.claim) ? fromExtension : { claim: "text", source: "content type text/plain" };
  return fromExtension;
}

const REFUSED_MAGIC: { bytes: number[]; what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: "a PNG image" },
  { bytes: [0xff, 0xd8, 0xff], what: "a JPEG image" },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: "a GIF image" },
  { bytes: [0x1f, 0x8b], what: "a gzip archive" },
  { bytes: [0x52, 0x61, 0x72, 0x21], what: "a RAR archive" },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf], what: "a 7-Zip archive" },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: "a legacy Office document (.xls/.doc); save it as .xlsx or CSV" },
];

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return bytes.every((byte, index) => head[index] === byte);
}

function contradiction(filename: string, claim: NonNullable<ResolvedClaim>, content: string): ParseError {
  return new ParseError(`"${filename}" is declared as ${CLAIM_LABELS[claim.claim]} (${claim.source}) but its content is ${content}.`);
}

function decodeHead(head: Uint8Array, encoding: TextEncoding, bomLength: number): string {
  return new TextDecoder(encoding, { fatal: false, ignoreBOM: true }).decode(head.subarray(bomLength), { stream: true });
}

function delimiterHint(claim: Claim | undefined): Delimiter | null {
  return claim === "tsv" ? "\t" : claim === "csv" ? "," : null;
}

/**
 * @param head the file's first bytes (PARSE_LIMITS.headBytes, or all of a smaller file)
 * @param isWholeFile whether `head` is the entire file
 */
export function detectFormat(head: Uint8Array, declared: Declared, isWholeFile: boolean): DetectedFormat {
  const claim = resolveClaim(declared);
  const name = declared.filename;
  const binary = (format: "pdf" | "xlsx"): DetectedFormat => ({ format, encoding: "utf-8", bomLength: 0, delimiter: null });

  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) {
    if (claim && claim.claim !== "pdf") throw contradiction(name, claim, "a PDF document");
    return binary("pdf");
  }
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    if (claim && claim.claim !== "xlsx" && claim.claim !== "spreadsheet") throw contradiction(name, claim, "a ZIP archive (such as an XLSX workbook)");
    return binary("xlsx");
  }
  const refused = REFUSED_MAGIC.find((magic) => startsWith(head, magic.bytes));
  if (refused) throw new ParseError(`"${name}" is ${refused.what}, which cannot be parsed into tables.`);

  let encoding: TextEncoding = "utf-8";
  let bomLength = 0;
  if (startsWith(head, [0xef, 0xbb, 0xbf])) bomLength = 3;
  else if (startsWith(head, [0xff, 0xfe])) [encoding, bomLength] = ["utf-16le", 2];
  else if (startsWith(head, [0xfe, 0xff])) [encoding, bomLength] = ["utf-16be", 2];
  else if (head.includes(0)) {
    const what = "binary data, not text (UTF-16 text needs a byte-order mark)";
    throw claim ? contradiction(name, claim, what) : new ParseError(`"${name}" is ${what}.`);
  }

  if (isWholeFile && head.length === bomLength) throw new ParseError(`"${name}" is empty.`);
  if (claim?.claim === "pdf") throw contradiction(name, claim, "text, not a PDF document");
  if (claim?.claim === "xlsx") throw contradiction(name, claim, "text, not an XLSX workbook");

  const text = decodeHead(head, encoding, bomLength);
  const firstSignificant = /\S/.exec(text)?.[0];
  if (firstSignificant === undefined && isWholeFile) throw new ParseError(`"${name}" is empty.`);
  const textFormat = (format: FileFormat, delimiter: Delimiter | null = null): DetectedFormat => ({ format, encoding, bomLength, delimiter });

  switch (claim?.claim) {
    case "json":
      // An array is JSON; objects one after another are JSON Lines (often served as application/json).
      if (firstSignificant === "[") return textFormat("json");
      if (firstSignificant === "{") return textFormat("jsonl");
      throw contradiction(name, claim, `not JSON (it does not start with "[" or "{")`);
    case "jsonl":
      return textFormat("jsonl");
    case "text":
      return textFormat("text");
    case "markdown":
      return textFormat("markdown");
    case "csv":
    case "tsv":
    case "spreadsheet": {
      const hint = delimiterHint(claim.claim);
      return textFormat("csv", detectDelimiter(completeLines(text, isWholeFile), hint) ?? hint ?? ",");
    }
    default: {
      if (firstSignificant === "[") return textFormat("json");
      if (firstSignificant === "{") return textFormat("jsonl");
      const delimiter = detectDelimiter(completeLines(text, isWholeFile), null);
      return delimiter ? textFormat("csv", delimiter) : textFormat("text");
    }
  }
}
