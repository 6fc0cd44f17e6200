import type { ByteSource } from "../byte-source.ts";
import type { ParseCursor } from "../cursor.ts";
import { readDelimited } from "./delimited.ts";
import { readJsonArray } from "./json-array.ts";
import { readJsonLines } from "./json-lines.ts";
import { readParagraphs } from "./paragraphs.ts";
import type { ReaderStart, RowReader } from "./reader.ts";

/** The reader of a streamed format, positioned at `start`. */
export function openReader(cursor: Pick<ParseCursor, "format" | "delimiter">, source: ByteSource, start: ReaderStart): RowReader {
  switch (cursor.format) {
    case "csv":
      return readDelimited(source, start, cursor.delimiter ?? ",");
    case "json":
      return readJsonArray(source, start);
    case "jsonl":
      return readJsonLines(source, start);
    case "text":
      return readParagraphs(source, start, false);
    case "markdown":
      return readParagraphs(source, start, true);
    default:
      throw new Error(`${cursor.format} is parsed whole, not streamed`);
  }
}
