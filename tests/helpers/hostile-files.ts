/**
 * The hostile-file corpus: small crafted files that each break one parse limit, built
 * by code (nothing binary is committed). Each says what its parse_error must name. Used
 * by tests/hostile-files.test.ts through the parse queue consumer and by the bench's
 * hostile section (scripts/bench/hostile-bench.ts), so both measure the same files.
 * Plain TypeScript over fflate: it runs in workerd and in Node alike.
 */
import { strToU8, Zip, ZipDeflate, Zlib } from "fflate";

export type HostileFile = {
  /** What it is, for test and bench names. */
  name: string;
  filename: string;
  contentType: string;
  bytes: () => Uint8Array;
  /** What the parse_error must say: the limit and where. */
  error: RegExp;
};

const MiB = 1024 * 1024;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---- XLSX ----

type Sheet = { name: string; xml: string | { prefix: string; repeat: string; times: number; suffix: string } };

function workbookParts(sheets: Sheet[], sharedStrings?: string): Record<string, Uint8Array> {
  const sheetEntries = sheets.map((sheet, index) => `<sheet name="${sheet.name}" sheetId="${index + 1}" r:id="rId${index + 1}"/>`).join("");
  const relEntries = sheets.map((_, index) => `<Relationship Id="rId${index + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${index + 1}.xml"/>`).join("");
  const parts: Record<string, Uint8Array> = {
    "[Content_Types].xml": strToU8(`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`),
    "xl/workbook.xml": strToU8(`<workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets>${sheetEntries}</sheets></workbook>`),
    "xl/styles.xml": strToU8(`<styleSheet xmlns="${MAIN}"><cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>`),
    "xl/_rels/workbook.xml.rels": strToU8(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${relEntries}</Relationships>`),
  };
  if (sharedStrings !== undefined) parts["xl/sharedStrings.xml"] = strToU8(`<sst xmlns="${MAIN}">${sharedStrings}</sst>`);
  return parts;
}

/** A workbook; a sheet given as `{prefix, repeat, times, suffix}` is deflated as it is generated. */
export function workbook(sheets: Sheet[], sharedStrings?: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    chunks.push(data);
  });
  const add = (name: string, data: Uint8Array) => {
    const entry = new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    entry.push(data, true);
  };
  for (const [name, data] of Object.entries(workbookParts(sheets, sharedStrings))) add(name, data);
  sheets.forEach((sheet, index) => {
    const name = `xl/worksheets/sheet${index + 1}.xml`;
    if (typeof sheet.xml === "string") return add(name, strToU8(sheet.xml));
    const { prefix, repeat, times, suffix } = sheet.xml;
    const entry = new ZipDeflate(name, { level: 9 });
    zip.add(entry);
    entry.push(strToU8(prefix), false);
    const perBlock = Math.max(1, Math.floor(MiB / repeat.length));
    const block = strToU8(repeat.repeat(perBlock));
    for (let done = 0; done < times; done += perBlock) entry.push(done + perBlock <= times ? block : strToU8(repeat.repeat(times - done)), false);
    entry.push(strToU8(suffix), true);
  });
  zip.end();
  return concat(chunks);
}

const sheetXml = (rows: string) => `<worksheet xmlns="${MAIN}"><sheetData>${rows}</sheetData></worksheet>`;
const inline = (reference: string, text: string) => `<c r="${reference}" t="inlineStr"><is><t>${text}</t></is></c>`;

// ---- PDF ----

type PdfObject = string | { dictionary: string; stream: Uint8Array };

/** A PDF with a correct cross-reference table; objects are numbered from 1 in order. */
export function pdf(objects: PdfObject[]): Uint8Array {
  const parts: Uint8Array[] = [strToU8("%PDF-1.4\n")];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  const push = (part: Uint8Array) => {
    parts.push(part);
    length += part.length;
  };
  objects.forEach((object, index) => {
    offsets.push(length);
    if (typeof object === "string") return push(strToU8(`${index + 1} 0 obj\n${object}\nendobj\n`));
    push(strToU8(`${index + 1} 0 obj\n${object.dictionary.replace(/>>$/, ` /Length ${object.stream.length} >>`)}\nstream\n`));
    push(object.stream);
    push(strToU8("\nendstream\nendobj\n"));
  });
  const xref = length;
  let trailer = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) trailer += `${String(offset).padStart(10, "0")} 00000 n \n`;
  trailer += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  push(strToU8(trailer));
  return concat(parts);
}

/** Zlib data (FlateDecode) of `times` copies of `unit`, generated and compressed a MiB at a time. */
function flateRepeated(unit: string, times: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zlib = new Zlib({ level: 9 }, (data) => chunks.push(data));
  const perBlock = Math.max(1, Math.floor(MiB / unit.length));
  const block = strToU8(unit.repeat(perBlock));
  for (let done = 0; done < times; done += perBlock) zlib.push(block, false);
  zlib.push(new Uint8Array(0), true);
  return concat(chunks);
}

/** Pages sharing one content stream: a page tree of `pages` leaves. */
function pdfWithPages(pages: number, content: Uint8Array, filter = ""): Uint8Array {
  const pageIds = Array.from({ length: pages }, (_, index) => 5 + index);
  return pdf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages} >>`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    { dictionary: `<<${filter}>>`, stream: content },
    ...pageIds.map(() => "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"),
  ]);
}

// ---- JSON ----

const deepValue = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

// ---- the corpus ----

export const HOSTILE_FILES: HostileFile[] = [
  {
    name: "CSV header of 500,000 fields",
    filename: "wide-header.csv",
    contentType: "text/csv",
    // One letter a field keeps the header under the 1 MiB record limit.
    bytes: () => strToU8(`${Array.from({ length: 500_000 }, (_, index) => String.fromCharCode(97 + (index % 26))).join(",")}\n`),
    error: /^line 1 \(the header\) has 500,000 fields; the limit is 1,000 columns\.$/,
  },
  {
    name: "CSV header of 20,000 copies of one name",
    filename: "duplicate-header.csv",
    contentType: "text/csv",
    bytes: () => strToU8(`${"id,".repeat(19_999)}id\n`),
    error: /^line 1 \(the header\) has 20,000 fields; the limit is 1,000 columns\.$/,
  },
  {
    name: "CSV record of 2 MiB",
    filename: "huge-record.csv",
    contentType: "text/csv",
    bytes: () => strToU8(`id,note\n1,"${"x".repeat(2 * MiB)}"\n`),
    error: /^The record starting at line 2 is larger than the limit of 1 MiB per record\.$/,
  },
  {
    name: "XLSX cell ZZZZZZ1 (column 321,272,406)",
    filename: "zzzzzz.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1">${inline("ZZZZZZ1", "x")}</row>`) }]),
    error: /^sheet "Sheet1", cell ZZZZZZ1: beyond column XFD, the last column of a worksheet; the limit is 16,384 columns\.$/,
  },
  {
    name: "XLSX cell XFE1, one past the last column",
    filename: "xfe.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Data", xml: sheetXml(`<row r="1">${inline("A1", "id")}</row><row r="2"><c r="XFE2"/></row>`) }]),
    error: /^sheet "Data", cell XFE2: beyond column XFD, the last column of a worksheet; the limit is 16,384 columns\.$/,
  },
  {
    name: "XLSX header value in column ALM (the 1,001st)",
    filename: "wide-sheet.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1">${inline("A1", "id")}${inline("ALM1", "one too many")}</row>`) }]),
    error: /^sheet "Sheet1", cell ALM1: beyond column ALL; the limit is 1,000 columns\.$/,
  },
  {
    name: "XLSX row of 20,000 cells all at A1",
    filename: "cells-per-row.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: { prefix: `<worksheet xmlns="${MAIN}"><sheetData><row r="1">`, repeat: inline("A1", "x"), times: 20_000, suffix: "</row></sheetData></worksheet>" } }]),
    error: /^sheet "Sheet1", row 1: more than 16,384 cells; the limit is 16,384 cells per row\.$/,
  },
  {
    name: "XLSX inline string of 1,500,000 characters",
    filename: "huge-cell.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1">${inline("A1", "note")}</row><row r="2">${inline("A2", "x".repeat(1_500_000))}</row>`) }]),
    error: /^sheet "Sheet1", cell A2: longer than 1,000,000 characters; the limit is 1,000,000 characters per cell\.$/,
  },
  {
    name: "XLSX inline string in 3,000 runs of 1,000 characters",
    filename: "huge-cell-runs.xlsx",
    contentType: XLSX,
    bytes: () => {
      const runs = `<r><t>${"y".repeat(1_000)}</t></r>`.repeat(3_000);
      return workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1"><c r="A1" t="inlineStr"><is>${runs}</is></c></row>`) }]);
    },
    error: /^sheet "Sheet1", cell A1: longer than 1,000,000 characters; the limit is 1,000,000 characters per cell\.$/,
  },
  {
    name: "XLSX shared string of 1,500,000 characters",
    filename: "huge-shared-string.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`) }], `<si><t>${"z".repeat(1_500_000)}</t></si>`),
    error: /^The workbook's shared string 0 is longer than 1,000,000 characters; the limit is 1,000,000 characters per string\.$/,
  },
  {
    name: "XLSX text run of 8,000,000 characters between two tags",
    filename: "huge-text-run.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: { prefix: `<worksheet xmlns="${MAIN}"><sheetData><row r="1">`, repeat: "w", times: 8_000_000, suffix: "</row></sheetData></worksheet>" } }]),
    error: /^sheet "Sheet1", row 1: a text, tag or comment longer than 2,000,000 characters; the limit is 2,000,000 characters\.$/,
  },
  {
    name: "XLSX elements nested 2,000,000 deep",
    filename: "deep-xml.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: { prefix: `<worksheet xmlns="${MAIN}"><sheetData><row r="1">`, repeat: "<x>", times: 2_000_000, suffix: "" } }]),
    error: /^sheet "Sheet1", row 1: elements nested deeper than 64 levels; the limit is 64 levels of nesting\.$/,
  },
  {
    name: "XLSX of 101 sheets",
    filename: "many-sheets.xlsx",
    contentType: XLSX,
    bytes: () => workbook(Array.from({ length: 101 }, (_, index) => ({ name: `S${index + 1}`, xml: sheetXml(`<row r="1">${inline("A1", "id")}</row>`) }))),
    error: /^The workbook has more than 100 sheets; the limit is 100 sheets\.$/,
  },
  {
    name: "XLSX zip bomb: 64 MiB of empty rows in a 98 KiB archive",
    filename: "zip-bomb.xlsx",
    contentType: XLSX,
    bytes: () => workbook([{ name: "Sheet1", xml: { prefix: `<worksheet xmlns="${MAIN}"><sheetData>`, repeat: "<row/>", times: Math.floor((64 * MiB) / 6), suffix: "</sheetData></worksheet>" } }]),
    error: /^The workbook expands to more than \d+ MiB of XML \(entry xl\/worksheets\/sheet1\.xml\); the limit is \d+ MiB for an archive of \d+ KiB\.$/,
  },
  {
    name: "PDF of 2,001 pages",
    filename: "many-pages.pdf",
    contentType: "application/pdf",
    bytes: () => pdfWithPages(2_001, strToU8("BT /F1 12 Tf 72 720 Td (page) Tj ET")),
    error: /^The PDF has 2,001 pages; the limit is 2,000 pages\.$/,
  },
  {
    name: "PDF decompression bomb: a content stream of 96 MiB",
    filename: "flate-bomb.pdf",
    contentType: "application/pdf",
    bytes: () => pdfWithPages(1, flateRepeated(" ", 96 * MiB), " /Filter /FlateDecode"),
    error: /^The PDF's compressed streams expand to more than 64 MiB \(the stream at byte \d+\); the limit is 64 MiB decompressed\.$/,
  },
  {
    name: "JSON Lines record nested 100,000 levels",
    filename: "deep.jsonl",
    contentType: "application/x-ndjson",
    bytes: () => strToU8(`{"ok":1}\n{"deep":${deepValue(100_000)}}\n`),
    error: /^line 2: nested deeper than 64 levels; the limit is 64 levels of nesting\.$/,
  },
  {
    name: "JSON array element nested 100,000 levels",
    filename: "deep.json",
    contentType: "application/json",
    bytes: () => strToU8(`[{"ok":1},\n{"deep":${deepValue(100_000)}}]`),
    error: /^line 2 \(row_index 1\): nested deeper than 64 levels; the limit is 64 levels of nesting\.$/,
  },
  {
    name: "JSON Lines record of 2 MiB",
    filename: "huge-record.jsonl",
    contentType: "application/x-ndjson",
    bytes: () => strToU8(`{"note":"${"x".repeat(2 * MiB)}"}\n`),
    error: /^line 1 is longer than the limit of 1 MiB per record\.$/,
  },
  {
    name: "JSON array element of 2 MiB",
    filename: "huge-record.json",
    contentType: "application/json",
    bytes: () => strToU8(`[{"note":"${"x".repeat(2 * MiB)}"}]`),
    error: /^The object starting at line 1 \(row_index 0\) is larger than the limit of 1 MiB per record\.$/,
  },
  {
    name: "JSON Lines record of 5,000 keys",
    filename: "wide-record.jsonl",
    contentType: "application/x-ndjson",
    bytes: () => strToU8(`${JSON.stringify(Object.fromEntries(Array.from({ length: 5_000 }, (_, index) => [`k${index}`, index])))}\n`),
    error: /^row_index 0: more than 1,000 columns; the limit is 1,000 columns\.$/,
  },
];

/** An ordinary CSV, delivered beside each hostile file: it must not be held up. */
export function normalCsv(): Uint8Array {
  return strToU8("id,name\n1,Ada\n2,Grace\n");
}

/** Files exactly at the limits, which must still parse: the limits are not off by one. */
export const FILES_AT_THE_LIMITS = {
  /** 1,000 copies of one name: the widest header, named id, id_2 … id_1000. */
  csvHeader: () => strToU8(`${"id,".repeat(999)}id\n${"1,".repeat(999)}1\n`),
  /** A value in column ALL (the 1,000th) and a styled empty cell in XFD, which Excel writes and which holds nothing. */
  workbook: () =>
    workbook([{ name: "Sheet1", xml: sheetXml(`<row r="1">${inline("A1", "id")}${inline("ALL1", "last")}<c r="XFD1" s="0"/></row><row r="2"><c r="A2"><v>1</v></c><c r="ALL2"><v>2</v></c></row>`) }]),
  /** An object holding arrays 63 deep: 64 levels with the object itself. */
  deepJsonLines: () => strToU8(`{"deep":${deepValue(63)}}\n`),
};
