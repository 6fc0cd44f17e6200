import { Unzip, UnzipInflate, type UnzipFile } from "fflate";
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { describeBytes, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";

/** An entry's XML, streamed: bytes → text → SAX events. */
export type XmlHandlers = {
  open?(name: string, attributes: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
};

/** Element and attribute names without their namespace prefix (`x:row` → `row`). */
export function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon === -1 ? name : name.slice(colon + 1);
}

export function xmlStream(entry: string, handlers: XmlHandlers) {
  const parser = new SaxesParser();
  const decoder = new TextDecoder("utf-8");
  if (handlers.open) {
    const open = handlers.open;
    parser.on("opentag", (tag: SaxesTagPlain) => open(localName(tag.name), tag.attributes));
  }
  if (handlers.text) parser.on("text", handlers.text);
  if (handlers.close) {
    const close = handlers.close;
    parser.on("closetag", (tag) => close(localName(tag.name)));
  }
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
        parser.write(decoder.decode(bytes, { stream: !final }));
        if (final) parser.close();
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

  constructor(pick: (name: string) => EntryHandler | null) {
    this.unzip = new Unzip((file: UnzipFile) => {
      const handler = pick(file.name);
      if (!handler || this.failure) return;
      file.ondata = (error, data, final) => {
        if (this.failure) return;
        try {
          if (error) throw new ParseError(`The workbook's entry ${file.name} cannot be decompressed (${error.message}).`);
          this.inflated += data.length;
          if (this.inflated > PARSE_LIMITS.workbookXmlBytes) {
            throw new ParseError(`The workbook expands to more than ${describeBytes(PARSE_LIMITS.workbookXmlBytes)} of XML, more than can be parsed.`);
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

/**
 * Compressed bytes pushed at a time. Inflating is synchronous, so everything one push
 * expands into is in memory before the consumer can flush it; deflate expands at most
 * ~1000:1, so 4 KiB bounds that to a few MiB of XML even for a crafted archive.
 */
const PUSH_BYTES = 4 * 1024;

/** Runs an archive (read from the start) through a ZipEntryStream, yielding after each push. */
export async function* streamArchive(pieces: AsyncIterable<Uint8Array>, stream: ZipEntryStream): AsyncGenerator<void> {
  for await (const piece of pieces) {
    for (let at = 0; at < piece.length; at += PUSH_BYTES) {
      stream.pushPiece(piece.subarray(at, at + PUSH_BYTES), false);
      yield;
    }
  }
  stream.pushPiece(new Uint8Array(0), true);
  yield;
}
