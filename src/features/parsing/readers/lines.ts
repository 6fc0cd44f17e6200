import type { ByteSource } from "../byte-source.ts";
import { describeBytes } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { joinBytes } from "./join-bytes.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export type Line = {
  /** Without its line break (LF or CRLF). */
  bytes: Uint8Array;
  number: number;
  /** Byte offset just past the line break: where the following line starts. */
  end: number;
  /** False for a piece of an over-long line cut by `overlong: "split"`; its line goes on at `end`. */
  complete: boolean;
};

type Options = { maxBytes: number; overlong: "error" | "split" };

function withoutCarriageReturn(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.subarray(0, -1) : bytes;
}

/** Where to cut at most `room` bytes of UTF-8 without splitting a character. */
function characterBoundary(bytes: Uint8Array, room: number): number {
  let cut = Math.min(room, bytes.length);
  while (cut > 0 && cut < bytes.length && (bytes[cut]! & 0xc0) === 0x80) cut -= 1;
  return cut;
}

/**
 * The lines of a byte stream from `offset`, one array per piece read, each with the
 * offset at which a chunk cut after it resumes. A line longer than `maxBytes` is an
 * error, or (`split`) is handed out in pieces cut at character boundaries.
 */
export async function* readLines(source: ByteSource, offset: number, firstLine: number, options: Options): AsyncGenerator<Line[]> {
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  let position = offset;
  let number = firstLine;

  for await (const piece of source.read(offset)) {
    const lines: Line[] = [];
    let at = 0;
    while (at < piece.length) {
      const newline = piece.indexOf(NEWLINE, at);
      const stop = newline === -1 ? piece.length : newline;
      if (partsLength + (stop - at) > options.maxBytes) {
        if (options.overlong === "error") throw new ParseError(`line ${number} is longer than the limit of ${describeBytes(options.maxBytes)} per record.`);
        const cut = characterBoundary(piece.subarray(at, stop), options.maxBytes - partsLength);
        parts.push(piece.subarray(at, at + cut));
        lines.push({ bytes: joinBytes(parts, partsLength + cut), number, end: position + at + cut, complete: false });
        parts = [];
        partsLength = 0;
        at += cut;
        continue;
      }
      if (newline === -1) {
        parts.push(piece.subarray(at));
        partsLength += piece.length - at;
        break;
      }
      parts.push(piece.subarray(at, newline));
      lines.push({ bytes: withoutCarriageReturn(joinBytes(parts, partsLength + newline - at)), number, end: position + newline + 1, complete: true });
      number += 1;
      parts = [];
      partsLength = 0;
      at = newline + 1;
    }
    position += piece.length;
    yield lines;
  }
  if (partsLength > 0) yield [{ bytes: withoutCarriageReturn(joinBytes(parts, partsLength)), number, end: position, complete: true }];
}
