/**
 * First pass over an XLSX archive: everything but the sheets. Excel writes the shared
 * strings *after* the worksheets, so sheets cannot be read in the same pass without
 * holding them; instead this pass collects the sheet list, the styles that mark dates
 * and the shared strings, and a second pass streams the sheets (xlsx-sheets.ts).
 * Only the standard part names (xl/workbook.xml, xl/styles.xml, …) are looked for.
 */
import { describeBytes, describeCount, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { localName, streamArchive, xmlStream, ZipEntryStream, type EntryHandler, type XmlHandlers } from "./xlsx-zip.ts";

export type DateKind = "date" | "datetime" | "time";

export type WorkbookParts = {
  /** In the workbook's order; `path` is the sheet's entry in the archive. */
  sheets: { name: string; path: string }[];
  date1904: boolean;
  /** cellXfs index → how a number in that style is a date. */
  dateStyles: Map<number, DateKind>;
  sharedStrings: string[];
};

const WORKBOOK = "xl/workbook.xml";
const WORKBOOK_RELS = "xl/_rels/workbook.xml.rels";
const STYLES = "xl/styles.xml";
const SHARED_STRINGS = "xl/sharedStrings.xml";

// Excel's built-in number formats that display dates and times (ECMA-376 §18.8.30).
const BUILTIN_DATE_FORMATS = new Map<number, DateKind>([
  ...[14, 15, 16, 17, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53, 54, 57, 58].map((id) => [id, "date"] as const),
  ...[22].map((id) => [id, "datetime"] as const),
  ...[18, 19, 20, 21, 32, 33, 45, 46, 47, 55, 56].map((id) => [id, "time"] as const),
]);

/** Whether a custom format code shows a date, a time, or both (literals and [colours] aside). */
export function dateKindOfFormat(code: string): DateKind | null {
  const tokens = code
    .replace(/"[^"]*"/g, "")
    .replace(/\\./g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/[_*]./g, "")
    .replace(/AM\/PM|A\/P/gi, "")
    .toLowerCase();
  const hasDate = /[dy]/.test(tokens);
  const hasTime = /[hs]/.test(tokens);
  if (hasDate && hasTime) return "datetime";
  if (hasDate) return "date";
  if (hasTime) return "time";
  // Only m: a month format such as "mmm".
  return /m/.test(tokens) ? "date" : null;
}

function collector(limit: number, entry: string) {
  const parts: Uint8Array[] = [];
  let size = 0;
  return {
    handler: ((data) => {
      size += data.length;
      if (size > limit) throw new ParseError(`The workbook part ${entry} is larger than ${describeBytes(limit)}.`);
      parts.push(data);
    }) satisfies EntryHandler,
    parse(handlers: XmlHandlers) {
      const stream = xmlStream(entry, handlers);
      parts.forEach((part, index) => stream.write(part, index === parts.length - 1));
      if (parts.length === 0) stream.write(new Uint8Array(0), true);
    },
    get found() {
      return parts.length > 0;
    },
  };
}

function sharedStringsReader(strings: string[]) {
  let current: string | null = null;
  let inText = false;
  let phonetic = 0;
  let chars = 0;
  return xmlStream(SHARED_STRINGS, {
    open(name) {
      if (name === "si") current = "";
      else if (name === "rPh") phonetic += 1;
      else if (name === "t") inText = phonetic === 0;
    },
    text(text) {
      if (!inText || current === null) return;
      current += text;
      // Checked as it grows: a string split into many runs would otherwise only be measured whole.
      if (current.length > PARSE_LIMITS.cellChars) {
        const limit = describeCount(PARSE_LIMITS.cellChars);
        throw new ParseError(`The workbook's shared string ${strings.length} is longer than ${limit} characters; the limit is ${limit} characters per string.`);
      }
    },
    close(name) {
      if (name === "t") inText = false;
      else if (name === "rPh") phonetic -= 1;
      else if (name === "si" && current !== null) {
        chars += current.length;
        if (chars > PARSE_LIMITS.sharedStringChars) {
          throw new ParseError(`The workbook's shared strings exceed ${describeBytes(PARSE_LIMITS.sharedStringChars)} of text; split the workbook or export it as CSV.`);
        }
        strings.push(current);
        current = null;
      }
    },
  });
}

function resolveTarget(target: string): string {
  if (target.startsWith("/")) return target.slice(1);
  const segments = `xl/${target}`.split("/");
  const resolved: string[] = [];
  for (const segment of segments) {
    if (segment === "..") resolved.pop();
    else if (segment !== "." && segment !== "") resolved.push(segment);
  }
  return resolved.join("/");
}

/** `archiveBytes`: the archive's size, which bounds what it may expand to. */
export async function readWorkbookParts(pieces: AsyncIterable<Uint8Array>, archiveBytes: number): Promise<WorkbookParts> {
  const workbook = collector(PARSE_LIMITS.workbookPartBytes, WORKBOOK);
  const rels = collector(PARSE_LIMITS.workbookPartBytes, WORKBOOK_RELS);
  const styles = collector(PARSE_LIMITS.workbookPartBytes, STYLES);
  const sharedStrings: string[] = [];
  const sharedStringsXml = sharedStringsReader(sharedStrings);
  const pick = (name: string): EntryHandler | null =>
    ({
      [WORKBOOK]: workbook.handler,
      [WORKBOOK_RELS]: rels.handler,
      [STYLES]: styles.handler,
      [SHARED_STRINGS]: (data: Uint8Array, final: boolean) => sharedStringsXml.write(data, final),
    })[name] ?? null;
  for await (const _ of streamArchive(pieces, new ZipEntryStream(archiveBytes, pick))) {
    // each piece is handled as it is pushed
  }
  if (!workbook.found) throw new ParseError("The ZIP archive is not an XLSX workbook (it has no xl/workbook.xml).");

  const declared: { name: string; relationId: string }[] = [];
  let date1904 = false;
  workbook.parse({
    open(name, attributes) {
      if (name === "workbookPr") date1904 = attributes.date1904 === "1" || attributes.date1904 === "true";
      if (name !== "sheet") return;
      const relationId = Object.entries(attributes).find(([key]) => key !== "id" && localName(key) === "id")?.[1];
      if (!attributes.name || !relationId) return;
      if (declared.length === PARSE_LIMITS.sheets) {
        throw new ParseError(`The workbook has more than ${describeCount(PARSE_LIMITS.sheets)} sheets; the limit is ${describeCount(PARSE_LIMITS.sheets)} sheets.`);
      }
      declared.push({ name: attributes.name, relationId });
    },
  });

  const targets = new Map<string, string>();
  rels.parse({
    open(name, attributes) {
      if (name === "Relationship" && attributes.Id && attributes.Target && attributes.TargetMode !== "External") {
        targets.set(attributes.Id, resolveTarget(attributes.Target));
      }
    },
  });

  const customFormats = new Map<number, string>();
  const dateStyles = new Map<number, DateKind>();
  let inCellXfs = false;
  let xfIndex = 0;
  styles.parse({
    open(name, attributes) {
      if (name === "numFmt") customFormats.set(Number(attributes.numFmtId), attributes.formatCode ?? "");
      else if (name === "cellXfs") inCellXfs = true;
      else if (name === "xf" && inCellXfs) {
        const formatId = Number(attributes.numFmtId ?? 0);
        const custom = customFormats.get(formatId);
        const kind = custom !== undefined ? dateKindOfFormat(custom) : (BUILTIN_DATE_FORMATS.get(formatId) ?? null);
        if (kind) dateStyles.set(xfIndex, kind);
        xfIndex += 1;
      }
    },
    close(name) {
      if (name === "cellXfs") inCellXfs = false;
    },
  });

  const sheets = declared.map((sheet) => {
    const path = targets.get(sheet.relationId);
    if (!path) throw new ParseError(`The workbook's sheet "${sheet.name}" points at no part of the archive.`);
    return { name: sheet.name, path };
  });
  return { sheets, date1904, dateStyles, sharedStrings };
}
