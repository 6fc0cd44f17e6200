import { Unzip, UnzipInflate, type UnzipFile } from "fflate";
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { describeBytes, describeCount, PARSE_LIMITS, workbookXmlLimit } from "../limits.ts";
import { ParseError } from "../parse-error.ts";

/** An entry's XML, streamed: bytes → text → SAX events. */
export type XmlHandlers = {
  open?(name: string, attributes: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
  /** Where the parser is, for errors ("sheet "S1", row 4"); the entry's name when absent. */
  where?(): string;
};

/** Element and attribute names without their namespace prefix (`x:row` → `row`). */
export function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon === -1 ? name : name.slice(colon + 1);
}

/** Bytes of XML decoded and parsed at a time. */
const SAX_SLICE_BYTES = 32 * 1024;

export function xmlStream(entry: string, handlers: XmlHandlers) {
  const parser = new SaxesParser();
  const decoder = new TextDecoder("utf-8");
  // saxes buffers a text run, tag or comment until it ends: the distance from the last
  // event to what has been written bounds that buffer (checked after each write, whose
  // size the inflater bounds). After a write saxes's own position counts its last chunk
  // twice, so what was written is counted here.
  let lastEvent = 0;
  let written = 0;
  const seen = () => (lastEvent = parser.position);
  const where = () => handlers.where?.() ?? `the workbook part ${entry}`;
  // saxes keeps every open element on a stack: a few MiB of `<x>` would hold millions.
  let depth = 0;
  parser.on("opentag", (tag: SaxesTagPlain) => {
    seen();
    if (++depth > PARSE_LIMITS.xmlDepth) {
      const limit = describeCount(PARSE_LIMITS.xmlDepth);
      throw new ParseError(`${where()}: elements nested deeper than ${limit} levels; the limit is ${limit} levels of nesting.`);
    }
    handlers.open?.(localName(tag.name), tag.attributes);
  });
  parser.on("text", (text) => {
    seen();
    handlers.text?.(text);
  });
  parser.on("closetag", (tag) => {
    seen();
    depth -= 1;
    handlers.close?.(localName(tag.name));
  });
  const limit = PARSE_LIMITS.xmlTokenChars;
  const checkToken = () => {
    if (written - lastEvent <= limit) return;
    throw new ParseError(`${where()}: a text, tag or comment longer than ${describeCount(limit)} characters; the limit is ${describeCount(limit)} characters.`);
  };
  const wrap = (work: () => void) => {
    try {
      work();
    } catch (error) {
      if (error instanceof ParseError) throw error;
      throw new ParseError(`The workbook part ${entry} is not well-formed XML (${(error as Error).message}).`);
    }
  };
  return {
    write(bytes: Uint8Array, final: boolean) {
      wrap(() => {
        // In slices: a string under V8's large-object size dies young with the events
        // made from it, where a few MiB at once (one push of a bomb) waits for a full GC.
        for (let at = 0; at < bytes.length; at += SAX_SLICE_BYTES) {
          const text = decoder.decode(bytes.subarray(at, at + SAX_SLICE_BYTES), { stream: true });
          parser.write(text);
          written += text.length;
          checkToken();
        }
        if (final) parser.write(decoder.decode()).close();
      });
    },
  };
}

export type EntryHandler = (data: Uint8Array, final: boolean) => void;

/**
 * Streams a ZIP archive through fflate, handing the bytes of the entries `pick` wants to
 * its handler (others are skipped, not inflated). Errors thrown by handlers, and the
 * archive's own, surface from `pushPiece` as ParseErrors.
 */
export class ZipEntryStream {
  private readonly unzip: Unzip;
  private failure: unknown = null;
  private inflated = 0;
  private readonly inflatedLimit: number;

  /** `archiveBytes`: the archive's size, which sets how much XML it may expand to (workbookXmlLimit). */
  constructor(archiveBytes: number, pick: (name: string) => EntryHandler | null) {
    this.inflatedLimit = workbookXmlLimit(archiveBytes);
    this.unzip = new Unzip((file: UnzipFile) => {
      const handler = pick(file.name);
      if (!handler || this.failure) return;
      file.ondata = (error, data, final) => {
        if (this.failure) return;
        try {
          if (error) throw new ParseError(`The workbook's entry ${file.name} cannot be decompressed (${error.message}).`);
          this.inflated += data.length;
          if (this.inflated > this.inflatedLimit) {
            throw new ParseError(
              `The workbook expands to more than ${describeBytes(this.inflatedLimit)} of XML (entry ${file.name}); the limit is ${describeBytes(this.inflatedLimit)} for an archive of ${describeBytes(archiveBytes)}.`,
            );
          }
          handler(data, final);
        } catch (caught) {
          this.failure = caught;
        }
      };
      try {
        file.start();
      } catch (caught) {
        this.failure = new ParseError(`The workbook's entry ${file.name} uses an unsupported compression (${(caught as Error).message}).`);
      }
    });
    this.unzip.register(UnzipInflate);
  }

  pushPiece(piece: Uint8Array, final: boolean): void {
    try {
      this.unzip.push(piece, final);
    } catch (caught) {
      this.failure ??= new ParseError(`The file is not a readable XLSX (ZIP) archive (${(caught as Error).message}).`);
    }
    if (this.failure) throw this.failure;
  }
}

/** Runs an archive (read from the start) through a ZipEntryStream, yielding after each push. */
export async function* streamArchive(pieces: AsyncIterable<Uint8Array>, stream: ZipEntryStream): AsyncGenerator<void> {
  for await (const piece of pieces) {
    for (let at = 0; at < piece.length; at += PARSE_LIMITS.inflatePushBytes) {
      stream.pushPiece(piece.subarray(at, at + PARSE_LIMITS.inflatePushBytes), false);
      yield;
    }
  }
  stream.pushPiece(new Uint8Array(0), true);
  yield;
}
