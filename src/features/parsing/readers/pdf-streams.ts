/**
 * PDF decompression bombs, caught before pdf.js sees the document: pdf.js decodes a
 * stream into one growing buffer and keeps it, so a few KiB of Flate data can fill the
 * isolate. Every `stream … endstream` body of the file is inflated here, a KiB of
 * input at a time and its output counted, not kept, and the file fails once the total
 * passes PARSE_LIMITS.pdfInflatedBytes. A body that is not zlib data (JPEG, other
 * filters) stops at its header and costs nothing. pdf.js's FlateDecode needs the zlib
 * header too, so what it would inflate is what is counted here.
 */
import { Buffer } from "node:buffer";
import { Unzlib } from "fflate";
import { describeBytes, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";

const CR = 0x0d;
const LF = 0x0a;

class TooLarge extends Error {}

/** Bytes the zlib data at the start of `body` inflates to, stopping once `room` is passed. */
function inflatedSize(body: Uint8Array, room: number): number {
  let size = 0;
  const inflater = new Unzlib((chunk) => {
    size += chunk.length;
    if (size > room) throw new TooLarge();
  });
  try {
    for (let at = 0; at < body.length; at += PARSE_LIMITS.inflatePushBytes) inflater.push(body.subarray(at, at + PARSE_LIMITS.inflatePushBytes), false);
  } catch (error) {
    if (error instanceof TooLarge) throw error;
    // Not zlib data, or damaged: pdf.js gets no further with it either.
  }
  return size;
}

export function assertPdfInflatedSize(bytes: Uint8Array): void {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = PARSE_LIMITS.pdfInflatedBytes;
  let total = 0;
  for (let at = text.indexOf("stream"); at !== -1; at = text.indexOf("stream", at)) {
    let start = at + "stream".length;
    // The keyword is followed by CRLF, LF or (pdf.js tolerates it) a lone CR.
    if (text[start] === CR) start += 1;
    if (text[start - 1] !== CR && text[start] !== LF) {
      at = start;
      continue;
    }
    if (text[start] === LF) start += 1;
    const end = text.indexOf("endstream", start);
    const body = bytes.subarray(start, end === -1 ? bytes.length : end);
    try {
      total += inflatedSize(body, limit - total);
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      throw new ParseError(`The PDF's compressed streams expand to more than ${describeBytes(limit)} (the stream at byte ${start}); the limit is ${describeBytes(limit)} decompressed.`);
    }
    at = end === -1 ? bytes.length : end + "endstream".length;
  }
}
