/**
 * Second pass over an XLSX archive: every worksheet streamed through saxes, each its own
 * table. The sheet's first non-empty row is its header (normalised like CSV); empty rows
 * are skipped; missing cells are null. Cell values keep their types: shared and inline
 * strings, numbers, booleans, formula results (their cached value), error codes as
 * text ("#DIV/0!"), and numbers in a date format as ISO 8601 text (date, datetime, or
 * time "HH:MM:SS"). A value in a column the header does not have fails the parse with
 * its sheet and cell, as a ragged CSV row does.
 */
import { normalizeHeaders } from "../headers.ts";
import { describeCount, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { assertNoNul } from "../utf8.ts";
import type { DateKind, WorkbookParts } from "./xlsx-parts.ts";
import { streamArchive, xmlStream, ZipEntryStream, type EntryHandler } from "./xlsx-zip.ts";

export type SheetBatch = { position: number; header?: string[]; rows: Record<string, unknown>[] };

const DAY_MS = 86_400_000;

function columnLetters(index: number): string {
  let letters = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** The 0-based column of a cell reference; past XFD it stops counting (`ZZZZZZ1` would be 321 million). */
function columnIndex(reference: string): number | null {
  const letters = /^([A-Z]+)\d*$/i.exec(reference)?.[1];
  if (!letters) return null;
  let index = 0;
  for (const letter of letters.toUpperCase()) {
    index = index * 26 + (letter.charCodeAt(0) - 64);
    if (index > PARSE_LIMITS.sheetColumns) break;
  }
  return index - 1;
}

/** A cell reference as written, shortened: it comes from the file and can be long. */
function shownReference(reference: string): string {
  return reference.length > 20 ? `${reference.slice(0, 20)}…` : reference;
}

/** An Excel serial day number as ISO 8601 text (Excel's dates carry no time zone). */
export function excelSerialToIso(serial: number, date1904: boolean, kind: DateKind): string {
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  const seconds = Math.round(serial * 86_400);
  const iso = new Date(epoch + (kind === "date" ? Math.floor(serial) * DAY_MS : seconds * 1000)).toISOString();
  if (kind === "date") return iso.slice(0, 10);
  if (kind === "time") return iso.slice(11, 19);
  return iso.slice(0, 19);
}

function headerText(value: unknown): string {
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return value === null || value === undefined ? "" : String(value);
}

class SheetReader {
  private header: string[] | null = null;
  private batch: SheetBatch;
  private cells: unknown[] = [];
  private rowNumber = 0;
  private lastColumn = -1;
  private cellsInRow = 0;
  private cell = { column: 0, type: "n", style: 0, reference: "", value: "", hasValue: false, inline: "", hasInline: false };
  private inValue = false;
  private inInlineText = false;
  private phonetic = 0;

  private readonly position: number;
  private readonly name: string;
  private readonly parts: WorkbookParts;

  constructor(position: number, name: string, parts: WorkbookParts) {
    this.position = position;
    this.name = name;
    this.parts = parts;
    this.batch = { position, rows: [] };
  }

  take(): SheetBatch | null {
    const batch = this.batch;
    this.batch = { position: this.position, rows: [] };
    return batch.rows.length > 0 || batch.header ? batch : null;
  }

  readonly xml = {
    open: (name: string, attributes: Record<string, string>) => {
      if (name === "row") {
        this.cells = [];
        this.lastColumn = -1;
        this.cellsInRow = 0;
        this.rowNumber = attributes.r ? Number(attributes.r) : this.rowNumber + 1;
      } else if (name === "c") {
        const reference = attributes.r ?? "";
        const column = columnIndex(reference) ?? this.lastColumn + 1;
        this.checkCellPosition(column, reference);
        this.lastColumn = column;
        this.cell = { column, type: attributes.t ?? "n", style: Number(attributes.s ?? 0), reference, value: "", hasValue: false, inline: "", hasInline: false };
      } else if (name === "v") {
        this.inValue = true;
        this.cell.hasValue = true;
      } else if (name === "rPh") this.phonetic += 1;
      else if (name === "t") {
        this.inInlineText = this.phonetic === 0;
        this.cell.hasInline = true;
      }
    },
    text: (text: string) => {
      if (this.inValue) this.cell.value += text;
      else if (this.inInlineText) this.cell.inline += text;
      else return;
      // Checked as it grows: a value split into many runs would otherwise only be measured whole.
      if (this.cell.value.length + this.cell.inline.length > PARSE_LIMITS.cellChars) {
        const limit = describeCount(PARSE_LIMITS.cellChars);
        throw new ParseError(`${this.where(this.cell.column)}: longer than ${limit} characters; the limit is ${limit} characters per cell.`);
      }
    },
    close: (name: string) => {
      if (name === "v") this.inValue = false;
      else if (name === "t") this.inInlineText = false;
      else if (name === "rPh") this.phonetic -= 1;
      else if (name === "c") {
        const value = this.cellValue();
        if (value === null) return;
        // Only a value counts against the column limit: Excel writes styled empty cells far right.
        if (this.cell.column >= PARSE_LIMITS.columns) {
          const limit = describeCount(PARSE_LIMITS.columns);
          throw new ParseError(`${this.where(this.cell.column)}: beyond column ${columnLetters(PARSE_LIMITS.columns - 1)}; the limit is ${limit} columns.`);
        }
        this.cells[this.cell.column] = value;
      } else if (name === "row") this.finishRow();
    },
    where: () => `sheet "${this.name}", row ${this.rowNumber}`,
  };

  private checkCellPosition(column: number, reference: string): void {
    const { sheetColumns } = PARSE_LIMITS;
    if (column >= sheetColumns) {
      const cell = reference ? `cell ${shownReference(reference)}` : `row ${this.rowNumber}, cell ${this.cellsInRow + 1}`;
      throw new ParseError(`sheet "${this.name}", ${cell}: beyond column XFD, the last column of a worksheet; the limit is ${describeCount(sheetColumns)} columns.`);
    }
    // Repeated references keep the column in range while the cells go on: count them too.
    if (++this.cellsInRow > sheetColumns) {
      throw new ParseError(`sheet "${this.name}", row ${this.rowNumber}: more than ${describeCount(sheetColumns)} cells; the limit is ${describeCount(sheetColumns)} cells per row.`);
    }
  }

  private where(column: number): string {
    return `sheet "${this.name}", cell ${columnLetters(column)}${this.rowNumber}`;
  }

  private cellValue(): unknown {
    const { type, value, hasValue, inline, hasInline, style, column } = this.cell;
    switch (type) {
      case "s": {
        if (!hasValue) return null;
        const text = this.parts.sharedStrings[Number(value)];
        if (text === undefined) throw new ParseError(`${this.where(column)}: refers to shared string ${value}, which the workbook does not have.`);
        return text === "" ? null : text;
      }
      case "inlineStr":
        return hasInline && inline !== "" ? inline : null;
      case "b":
        return hasValue ? value === "1" || value.toLowerCase() === "true" : null;
      case "str":
      case "e":
      case "d":
        return hasValue && value !== "" ? value : null;
      default: {
        if (!hasValue || value.trim() === "") return null;
        const number = Number(value);
        if (!Number.isFinite(number)) return value;
        const dateKind = this.parts.dateStyles.get(style);
        return dateKind ? excelSerialToIso(number, this.parts.date1904, dateKind) : number;
      }
    }
  }

  private finishRow(): void {
    const cells = this.cells;
    if (!cells.some((value) => value !== undefined)) return;
    if (!this.header) {
      this.header = normalizeHeaders(
        Array.from({ length: cells.length }, (_, index) => headerText(cells[index])),
        `sheet "${this.name}", row ${this.rowNumber} (the header)`,
      );
      this.batch.header = this.header;
      return;
    }
    const header = this.header;
    if (cells.length > header.length) {
      const outside = cells.findIndex((value, index) => index >= header.length && value !== undefined);
      throw new ParseError(
        `${this.where(outside)}: a value outside the header's columns (the header ends at column ${columnLetters(header.length - 1)}).`,
      );
    }
    const row = Object.fromEntries(
      header.map((name, index) => {
        const value = cells[index] ?? null;
        if (typeof value === "string") assertNoNul(value, this.where(index));
        return [name, value];
      }),
    );
    this.batch.rows.push(row);
  }
}

/** Yields, after each piece of the archive, the rows each sheet produced from it. */
export async function* readWorkbookSheets(pieces: AsyncIterable<Uint8Array>, parts: WorkbookParts, archiveBytes: number): AsyncGenerator<SheetBatch[]> {
  const readers = new Map<string, SheetReader>();
  parts.sheets.forEach((sheet, position) => readers.set(sheet.path, new SheetReader(position, sheet.name, parts)));
  const pick = (name: string): EntryHandler | null => {
    const reader = readers.get(name);
    if (!reader) return null;
    const stream = xmlStream(name, reader.xml);
    return (data, final) => stream.write(data, final);
  };
  for await (const _ of streamArchive(pieces, new ZipEntryStream(archiveBytes, pick))) {
    const batches = [...readers.values()].map((reader) => reader.take()).filter((batch) => batch !== null);
    if (batches.length > 0) yield batches;
  }
}
