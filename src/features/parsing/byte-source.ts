/**
 * Where parsers get their bytes: the R2 object, read as a stream from any byte offset
 * (an R2 ranged GET), so a chunk resumes exactly where the previous one committed and
 * never holds more than one piece of the file at a time.
 */
import type { TextEncoding } from "./formats.ts";
import { PARSE_LIMITS } from "./limits.ts";
import { ParseError } from "./parse-error.ts";

export interface ByteSource {
  /** Bytes of the text being parsed (for UTF-16 files, of its UTF-8 transcoding). */
  readonly size: number;
  /** The bytes from `offset` to the end, in pieces of at most PARSE_LIMITS.pieceBytes. */
  read(offset: number): AsyncGenerator<Uint8Array>;
}

function missing(): ParseError {
  return new ParseError("The uploaded file is missing from storage; upload it again.");
}

function* pieces(bytes: Uint8Array): Generator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += PARSE_LIMITS.pieceBytes) {
    yield bytes.subarray(start, start + PARSE_LIMITS.pieceBytes);
  }
}

export function r2Source(bucket: R2Bucket, key: string, size: number): ByteSource {
  return {
    size,
    async *read(offset: number) {
      if (offset >= size) return;
      const object = await bucket.get(key, { range: { offset } });
      if (!object) throw missing();
      const reader = object.body.getReader();
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            finished = true;
            return;
          }
          yield* pieces(value);
        }
      } finally {
        // A chunk stops reading once it is full: release the rest of the stream.
        if (!finished) await reader.cancel().catch(() => {});
      }
    },
  };
}

export async function readHead(bucket: R2Bucket, key: string, size: number, length: number): Promise<Uint8Array> {
  // A range over an empty object is not satisfiable.
  const object = await bucket.get(key, size === 0 ? {} : { range: { offset: 0, length: Math.min(length, size) } });
  if (!object) throw missing();
  return new Uint8Array(await object.arrayBuffer());
}

/** The whole object, for pdf.js, which cannot stream (its size is checked by the caller). */
export async function readWhole(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) throw missing();
  return new Uint8Array(await object.arrayBuffer());
}

/** UTF-16 text as a stream of UTF-8 (the byte-order mark dropped), decoded piece by piece. */
async function* transcodeUtf16(bucket: R2Bucket, key: string, size: number, encoding: "utf-16le" | "utf-16be"): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  const encoder = new TextEncoder();
  const decode = (piece?: Uint8Array) => {
    try {
      return piece ? decoder.decode(piece, { stream: true }) : decoder.decode();
    } catch {
      throw new ParseError(`The file has a ${encoding.toUpperCase()} byte-order mark but is not valid ${encoding.toUpperCase()} text.`);
    }
  };
  for await (const piece of r2Source(bucket, key, size).read(0)) {
    const text = decode(piece);
    if (text) yield encoder.encode(text);
  }
  const tail = decode();
  if (tail) yield encoder.encode(tail);
}

/**
 * UTF-16 text, read as its UTF-8 transcoding so every text parser reads UTF-8. Offsets
 * in the cursor count bytes of that transcoding: a resumed chunk transcodes from the
 * start again and skips to its offset (decoding is fast; memory stays one piece), and
 * the progress total is the transcoding's size, measured once when the parse begins.
 */
async function utf16Source(bucket: R2Bucket, key: string, size: number, encoding: "utf-16le" | "utf-16be", knownTotal?: number): Promise<ByteSource> {
  let total = knownTotal;
  if (total === undefined) {
    total = 0;
    for await (const chunk of transcodeUtf16(bucket, key, size, encoding)) total += chunk.length;
  }
  return {
    size: total,
    async *read(offset: number) {
      let position = 0;
      for await (const chunk of transcodeUtf16(bucket, key, size, encoding)) {
        const end = position + chunk.length;
        if (end > offset) yield* pieces(chunk.subarray(Math.max(0, offset - position)));
        position = end;
      }
    },
  };
}

/** The text of a file in `encoding`, as UTF-8 bytes; `total` is the UTF-8 size when already known. */
export async function textSource(bucket: R2Bucket, key: string, size: number, encoding: TextEncoding, total?: number): Promise<ByteSource> {
  return encoding === "utf-8" ? r2Source(bucket, key, size) : utf16Source(bucket, key, size, encoding, total);
}
