/**
 * JSON Lines: one object per line (LF or CRLF); blank lines are skipped. A line that is
 * not a JSON object fails the parse with its line number.
 */
import type { ByteSource } from "../byte-source.ts";
import { PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { decodeUtf8 } from "../utf8.ts";
import { assertNoJsonNul, isJsonObject, parseJsonRecord } from "./json-text.ts";
import { readLines } from "./lines.ts";
import { describeJsonValue, type ParsedRow, type ReaderStart, type RowReader } from "./reader.ts";

export async function* readJsonLines(source: ByteSource, start: ReaderStart): RowReader {
  const lines = readLines(source, start.offset, start.line, { maxBytes: PARSE_LIMITS.recordBytes, overlong: "error" });
  for await (const batch of lines) {
    const rows: ParsedRow[] = [];
    for (const line of batch) {
      const where = `line ${line.number}`;
      const text = decodeUtf8(line.bytes, where);
      if (text.trim() === "") continue;
      const value = parseJsonRecord(text, where);
      if (!isJsonObject(value)) throw new ParseError(`${where}: expected a JSON object, found ${describeJsonValue(value)}.`);
      assertNoJsonNul(text, where);
      rows.push({ data: value, end: line.end, nextLine: line.number + 1 });
    }
    yield { rows };
  }
}
