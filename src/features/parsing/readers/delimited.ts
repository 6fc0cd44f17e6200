/**
 * CSV / TSV / `;` / `|` through csv-parse (RFC 4180: quoted fields with delimiters,
 * doubled quotes and line breaks; CRLF or LF). csv-parse reports each record's end as a
 * byte count, which is exactly the resume offset a chunk needs.
 *
 * Policy, documented in the README:
 * - the first non-blank record is the header (normalised, see headers.ts);
 * - blank and whitespace-only lines are skipped;
 * - empty fields are null, every other field is kept as written (a string);
 * - a ragged record (field count differs from the header's) fails the parse with its
 *   line and row_index: padding or truncating would invent or drop data silently;
 * - a stray quote inside an unquoted field is kept literally (`5'11"`).
 */
import { Buffer } from "node:buffer";
import { CsvError, Parser } from "csv-parse";
import type { ByteSource } from "../byte-source.ts";
import type { Delimiter } from "../delimiter.ts";
import { normalizeHeaders } from "../headers.ts";
import { describeBytes, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { assertNoNul, Utf8Validator } from "../utf8.ts";
import { NewlineCounter } from "./newline-counter.ts";
import { rowPlace, type ParsedRow, type ReaderStart, type RowBatch, type RowReader } from "./reader.ts";

type RawRecord = { fields: string[]; end: number };

function write(parser: Parser, piece: Uint8Array): Promise<void> {
  const buffer = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  return new Promise((resolve, reject) => parser.write(buffer, (error) => (error ? reject(error) : resolve())));
}

function end(parser: Parser): Promise<void> {
  return new Promise((resolve, reject) => parser.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function countNewlines(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) {
    for (let at = field.indexOf("\n"); at !== -1; at = field.indexOf("\n", at + 1)) count += 1;
  }
  return count;
}

export async function* readDelimited(source: ByteSource, start: ReaderStart, delimiter: Delimiter): RowReader {
  let pending: RawRecord[] = [];
  const parser = new Parser({
    delimiter,
    record_delimiter: ["\r\n", "\n"],
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: PARSE_LIMITS.recordBytes,
    on_record: (fields: string[], context) => {
      pending.push({ fields, end: start.offset + context.bytes });
      // Collected here rather than pushed through the stream: no backpressure to manage.
      return null;
    },
  });
  // Errors reach us through the write and end callbacks; this only keeps the emitter quiet.
  parser.on("error", () => {});

  const lines = new NewlineCounter(start.offset, start.line);
  const validator = new Utf8Validator();
  let header = start.header;
  let rowIndex = start.rowIndex;
  let lastEnd = start.offset;

  function takePending(): RowBatch {
    const batch: RowBatch = { rows: [] };
    for (const record of pending) {
      const { fields } = record;
      lastEnd = record.end;
      if (fields.length === 1 && fields[0]!.trim() === "") continue;
      if (!header) {
        header = normalizeHeaders(fields, `line ${lines.lineAt(record.end - 1) - countNewlines(fields)} (the header)`);
        batch.header = header;
        continue;
      }
      // Where the record starts: its last line, less the line breaks inside its quoted fields.
      const place = () => rowPlace(lines.lineAt(record.end - 1) - countNewlines(fields), rowIndex);
      if (fields.length !== header.length) {
        throw new ParseError(`${place()}: ${fields.length} fields, but the header has ${header.length} columns.`);
      }
      const names = header;
      const data = Object.fromEntries(
        fields.map((value, index) => {
          if (value === "") return [names[index]!, null];
          if (value.includes("\u0000")) assertNoNul(value, `${place()}, column "${names[index]}"`);
          return [names[index]!, value];
        }),
      );
      batch.rows.push({ data, end: record.end, nextLine: lines.lineAt(record.end) } satisfies ParsedRow);
      rowIndex += 1;
    }
    pending = [];
    // Lets the counter drop the pieces behind us even when no data row asked for a line.
    lines.lineAt(lastEnd);
    return batch;
  }

  function syntaxError(error: unknown): unknown {
    if (!(error instanceof CsvError)) return error;
    takePendingSafely();
    const recordLine = lines.lineAt(lastEnd);
    switch (error.code) {
      case "CSV_QUOTE_NOT_CLOSED":
        return new ParseError(`The record starting at line ${recordLine} has a quoted field that is never closed (the file ends inside the quotes).`);
      case "CSV_MAX_RECORD_SIZE":
        return new ParseError(`The record starting at line ${recordLine} is larger than the limit of ${describeBytes(PARSE_LIMITS.recordBytes)} per record.`);
      case "CSV_INVALID_CLOSING_QUOTE":
        return new ParseError(`line ${start.line + Number(error.lines ?? 1) - 1}: a closing quote must be followed by a delimiter or a line break.`);
      default:
        return new ParseError(`line ${start.line + Number(error.lines ?? 1) - 1}: ${error.message}`);
    }
  }

  // The records read before a syntax error still move `lastEnd`, which locates the error.
  function takePendingSafely() {
    try {
      takePending();
    } catch {
      // the syntax error is the one to report
    }
  }

  let position = start.offset;
  for await (const piece of source.read(start.offset)) {
    validator.check(piece, position);
    lines.append(piece, position);
    position += piece.length;
    await write(parser, piece).catch((error) => {
      throw syntaxError(error);
    });
    yield takePending();
  }
  validator.finish(position);
  await end(parser).catch((error) => {
    throw syntaxError(error);
  });
  yield takePending();
}
