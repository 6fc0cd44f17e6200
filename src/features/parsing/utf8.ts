import { ParseError } from "./parse-error.ts";

/** Offset of the first byte that cannot start or continue a UTF-8 sequence, or -1. */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      // A sequence cut by the end of the piece is completed by the next one.
      if (next === undefined) return -1;
      if ((next & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return -1;
}

function invalidUtf8(offset: number): ParseError {
  return new ParseError(`The file is not valid UTF-8 text (invalid byte sequence at byte ${offset}); save it as UTF-8.`);
}

/**
 * Checks a stream of pieces is UTF-8, with the platform's decoder (fast, handles
 * sequences split across pieces). Only on failure does it look for the exact byte.
 */
export class Utf8Validator {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  check(piece: Uint8Array, pieceOffset: number): void {
    try {
      this.decoder.decode(piece, { stream: true });
    } catch {
      const at = firstInvalidByte(piece);
      throw invalidUtf8(pieceOffset + Math.max(at, 0));
    }
  }

  finish(endOffset: number): void {
    try {
      this.decoder.decode();
    } catch {
      throw invalidUtf8(endOffset);
    }
  }
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes one record's bytes; `where` names it in the error. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new ParseError(`${where}: not valid UTF-8 text; save the file as UTF-8.`);
  }
}

export function assertNoNul(text: string, where: string): void {
  // Postgres text and jsonb cannot hold U+0000.
  if (text.includes("\u0000")) throw new ParseError(`${where}: contains a NUL character, which cannot be stored.`);
}
