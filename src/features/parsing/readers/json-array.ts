/**
 * A JSON array of objects, streamed: a small scanner walks the bytes of the top-level
 * array and cuts out one element at a time (tracking strings, escapes and nesting
 * depth), and each element's bytes go to JSON.parse, which validates them. The whole
 * document is never in memory; one element is, up to PARSE_LIMITS.recordBytes.
 *
 * The scanner works on UTF-8 bytes: every structural character is ASCII and no byte of
 * a multi-byte character is, so no decoding is needed to find the boundaries. After an
 * element the state is always "after an element", which is what makes a chunk cut
 * between two elements resumable from a byte offset alone.
 */
import type { ByteSource } from "../byte-source.ts";
import { describeBytes, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { decodeUtf8 } from "../utf8.ts";
import { joinBytes } from "./join-bytes.ts";
import { assertNoJsonNul, parseJsonText, tooDeep } from "./json-text.ts";
import { rowPlace, type ParsedRow, type ReaderStart, type RowReader } from "./reader.ts";

type Phase = "before-array" | "before-first" | "before-element" | "after-element" | "after-array";

const BYTE = {
  tab: 0x09,
  newline: 0x0a,
  carriageReturn: 0x0d,
  space: 0x20,
  quote: 0x22,
  comma: 0x2c,
  minus: 0x2d,
  backslash: 0x5c,
  openBracket: 0x5b,
  closeBracket: 0x5d,
  openBrace: 0x7b,
  closeBrace: 0x7d,
} as const;

function isWhitespace(byte: number): boolean {
  return byte === BYTE.space || byte === BYTE.tab || byte === BYTE.carriageReturn;
}

function describeStart(byte: number): string {
  if (byte === BYTE.quote) return "a string";
  if (byte === BYTE.openBracket) return "an array";
  if (byte === BYTE.minus || (byte >= 0x30 && byte <= 0x39)) return "a number";
  if (byte === 0x74 || byte === 0x66) return "a boolean";
  if (byte === 0x6e) return "null";
  return `the character ${JSON.stringify(String.fromCharCode(byte))}`;
}

function shown(byte: number): string {
  return byte < 0x80 ? JSON.stringify(String.fromCharCode(byte)) : "a non-ASCII character";
}

export async function* readJsonArray(source: ByteSource, start: ReaderStart): RowReader {
  let phase: Phase = start.rowIndex === 0 ? "before-array" : "after-element";
  let line = start.line;
  let rowIndex = start.rowIndex;
  let position = start.offset;

  // The element being cut out.
  let inElement = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let elementLine = 0;
  let parts: Uint8Array[] = [];
  let partsLength = 0;

  const fail = (message: string) => new ParseError(message);

  function finishElement(bytes: Uint8Array, end: number): ParsedRow {
    const where = rowPlace(elementLine, rowIndex);
    const text = decodeUtf8(bytes, where);
    const data = parseJsonText(text, where) as Record<string, unknown>;
    assertNoJsonNul(text, where);
    rowIndex += 1;
    return { data, end, nextLine: line };
  }

  for await (const piece of source.read(start.offset)) {
    const rows: ParsedRow[] = [];
    let elementStart = 0;
    for (let i = 0; i < piece.length; i++) {
      const byte = piece[i]!;
      if (byte === BYTE.newline) line += 1;
      if (inElement) {
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BYTE.backslash) escaped = true;
          else if (byte === BYTE.quote) inString = false;
        } else if (byte === BYTE.quote) inString = true;
        else if (byte === BYTE.openBrace || byte === BYTE.openBracket) {
          if (++depth > PARSE_LIMITS.jsonDepth) throw fail(tooDeep(rowPlace(elementLine, rowIndex)));
        }
        else if ((byte === BYTE.closeBrace || byte === BYTE.closeBracket) && --depth === 0) {
          parts.push(piece.subarray(elementStart, i + 1));
          const length = partsLength + i + 1 - elementStart;
          const bytes = joinBytes(parts, length);
          inElement = false;
          parts = [];
          partsLength = 0;
          rows.push(finishElement(bytes, position + i + 1));
          phase = "after-element";
        }
        continue;
      }
      if (byte === BYTE.newline || isWhitespace(byte)) continue;
      switch (phase) {
        case "before-array":
          if (byte !== BYTE.openBracket) throw fail(`line ${line}: expected a JSON array of objects ("["), found ${shown(byte)}.`);
          phase = "before-first";
          break;
        case "after-element":
          if (byte === BYTE.comma) phase = "before-element";
          else if (byte === BYTE.closeBracket) phase = "after-array";
          else throw fail(`line ${line}: expected "," or "]" after the object at row_index ${rowIndex - 1}, found ${shown(byte)}.`);
          break;
        case "after-array":
          throw fail(`line ${line}: unexpected ${shown(byte)} after the end of the array.`);
        case "before-first":
        case "before-element":
          if (byte === BYTE.closeBracket) {
            if (phase === "before-element") throw fail(`line ${line}: a "," is followed by "]" (JSON does not allow trailing commas).`);
            phase = "after-array";
            break;
          }
          if (byte !== BYTE.openBrace) throw fail(`${rowPlace(line, rowIndex)}: expected an object, found ${describeStart(byte)}.`);
          inElement = true;
          depth = 1;
          elementLine = line;
          elementStart = i;
          break;
      }
    }
    if (inElement) {
      parts.push(piece.subarray(elementStart));
      partsLength += piece.length - elementStart;
      if (partsLength > PARSE_LIMITS.recordBytes) {
        throw fail(`The object starting at ${rowPlace(elementLine, rowIndex)} is larger than the limit of ${describeBytes(PARSE_LIMITS.recordBytes)} per record.`);
      }
    }
    position += piece.length;
    yield { rows };
  }

  if (inElement) throw fail(`The file ends inside the object starting at ${rowPlace(elementLine, rowIndex)}.`);
  if (phase === "before-array") throw fail("The file contains no JSON array.");
  if (phase !== "after-array") throw fail(`The file ends before the array is closed with "]" (after line ${line}).`);
}
