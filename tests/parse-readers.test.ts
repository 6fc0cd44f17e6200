import { describe, expect, it } from "vitest";
import type { ByteSource } from "../src/features/parsing/byte-source.ts";
import { textValueType, typedValueType } from "../src/features/parsing/column-types.ts";
import { detectFormat } from "../src/features/parsing/formats.ts";
import { normalizeHeaders } from "../src/features/parsing/headers.ts";
import { openReader } from "../src/features/parsing/readers/open-reader.ts";
import type { ReaderStart } from "../src/features/parsing/readers/reader.ts";
import type { ParseCursor } from "../src/features/parsing/cursor.ts";

/**
 * The readers on their own, fed in pieces of every size from one byte up: a record,
 * a JSON string or a UTF-8 character cut anywhere by the stream must read the same.
 */
const encoder = new TextEncoder();

function piecewise(bytes: Uint8Array, pieceSize: number): ByteSource {
  return {
    size: bytes.length,
    async *read(offset: number) {
      for (let at = offset; at < bytes.length; at += pieceSize) yield bytes.subarray(at, Math.min(at + pieceSize, bytes.length));
    },
  };
}

const START: ReaderStart = { offset: 0, line: 1, rowIndex: 0, header: null, state: null };

async function readAll(format: ParseCursor["format"], text: string, pieceSize: number, delimiter: ParseCursor["delimiter"] = ",") {
  const bytes = encoder.encode(text);
  const rows: { data: Record<string, unknown>; end: number; nextLine: number }[] = [];
  let header: string[] | undefined;
  for await (const batch of openReader({ format, delimiter }, piecewise(bytes, pieceSize), START)) {
    header ??= batch.header;
    rows.push(...batch.rows.map(({ data, end, nextLine }) => ({ data, end, nextLine })));
  }
  return { header, rows };
}

async function failure(format: ParseCursor["format"], text: string, pieceSize = 64 * 1024): Promise<string> {
  try {
    await readAll(format, text, pieceSize);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the read to fail");
}

const PIECE_SIZES = [1, 2, 3, 5, 7, 13, 64 * 1024];

const documents: { format: ParseCursor["format"]; text: string; rows: number }[] = [
  { format: "csv", text: 'a,"b ""q"""\r\n"x,\r\ny",é🎉\n\n"",2\r\nlast,"🎉"', rows: 3 },
  { format: "json", text: ' [ {"s": "]}\\"\\\\", "n": [1, {"d": []}], "u": "é🎉"},\n{"e": {}} ,{"x":"\\u005d"}]\n', rows: 3 },
  { format: "jsonl", text: '{"a": "é🎉"}\r\n\n  \r\n{"b": [1, 2]}', rows: 2 },
  { format: "text", text: "One\r\nstill one\n\n \t \nTwo é🎉\n\n\n", rows: 2 },
  { format: "markdown", text: "# H\n\n~~~\ncode\n\nmore\n~~~~\n\nafter\n````md\n```\n\n````\n", rows: 3 },
];

describe("readers under arbitrary piece boundaries", () => {
  for (const document of documents) {
    it(`reads ${document.format} ${JSON.stringify(document.text.slice(0, 24))} the same in pieces of any size`, async () => {
      const whole = await readAll(document.format, document.text, 1 << 20);
      expect(whole.rows).toHaveLength(document.rows);
      for (const size of PIECE_SIZES) expect(await readAll(document.format, document.text, size), `pieces of ${size}`).toEqual(whole);
    });
  }

  it("fails a JSON line cut short the same way in pieces of any size, naming its line", async () => {
    const truncated = '{"a": "é🎉"}\r\n\n  \n{"b": [1,\n';
    const whole = await failure("jsonl", truncated, 1 << 20);
    expect(whole).toBe("line 4: not valid JSON (Unexpected end of JSON input).");
    for (const size of PIECE_SIZES) expect(await failure("jsonl", truncated, size), `pieces of ${size}`).toBe(whole);
  });

  it("resumes at each row's end offset with the same remaining rows", async () => {
    for (const document of documents.filter((entry) => entry.format !== "csv")) {
      const bytes = encoder.encode(document.text);
      const whole = await readAll(document.format, document.text, 1 << 20);
      for (const [index, row] of whole.rows.entries()) {
        const rest: unknown[] = [];
        const start: ReaderStart = { offset: row.end, line: row.nextLine, rowIndex: index + 1, header: null, state: null };
        for await (const batch of openReader({ format: document.format, delimiter: null }, piecewise(bytes, 3), start)) rest.push(...batch.rows.map((r) => r.data));
        expect(rest, `${document.format} after row ${index}`).toEqual(whole.rows.slice(index + 1).map((r) => r.data));
      }
    }
  });

  it("reads CSV values verbatim: CRLF inside quotes, doubled quotes, empty as null", async () => {
    const { header, rows } = await readAll("csv", documents[0]!.text, 4);
    expect(header).toEqual(["a", 'b "q"']);
    expect(rows.map((row) => row.data)).toEqual([
      { a: "x,\r\ny", 'b "q"': "é🎉" },
      { a: null, 'b "q"': "2" },
      { a: "last", 'b "q"': "🎉" },
    ]);
    expect(rows.map((row) => row.nextLine)).toEqual([4, 6, 6]);
  });

  it("cuts JSON array elements around brackets inside strings and nested values", async () => {
    const { rows } = await readAll("json", documents[1]!.text, 5);
    expect(rows.map((row) => row.data)).toEqual([{ s: ']}"\\', n: [1, { d: [] }], u: "é🎉" }, { e: {} }, { x: "]" }]);
  });
});

describe("JSON array errors", () => {
  it.each([
    ['{"a": 1}', 'line 1: expected a JSON array of objects ("["), found "{".'],
    ['[{"a": 1} {"b": 2}]', 'line 1: expected "," or "]" after the object at row_index 0, found "{".'],
    ['[{"a": 1}]\n[]', 'line 2: unexpected "[" after the end of the array.'],
    ['[\n  "text"\n]', "line 2 (row_index 0): expected an object, found a string."],
    ['[{"a": [1, 2}]', 'line 1 (row_index 0): not valid JSON (Expected \',\' or \']\' after array element in JSON at position 11 (line 1 column 12)).'],
    ['[{"a": "x"}, {"b": "\\u0000"}]', 'line 1 (row_index 1): contains a NUL character (\\u0000), which cannot be stored.'],
    ['[{"a": 1},\n{"b": "open', "The file ends inside the object starting at line 2 (row_index 1)."],
    ["   ", "The file contains no JSON array."],
  ])("%j fails with a message saying where", async (text, message) => {
    expect(await failure("json", text)).toBe(message);
    expect(await failure("json", text, 1)).toBe(message);
  });

  it("accepts an escaped backslash before u0000", async () => {
    const { rows } = await readAll("json", '[{"path": "C:\\\\u0000"}]', 2);
    expect(rows[0]!.data).toEqual({ path: "C:\\u0000" });
  });
});

describe("other reader errors", () => {
  it("names the line of a ragged CSV record after quoted line breaks", async () => {
    expect(await failure("csv", 'h1,h2\n"a\nb",c\nd\n', 3)).toBe("line 4 (row_index 1): 1 fields, but the header has 2 columns.");
  });

  it("reports invalid UTF-8 with its byte offset, even split across pieces", async () => {
    const bytes = new Uint8Array([...encoder.encode("a,b\nok,"), 0xc3, 0x28, 0x0a]);
    const read = async (pieceSize: number) => {
      try {
        for await (const _ of openReader({ format: "csv", delimiter: "," }, piecewise(bytes, pieceSize), START)) {
          // draining
        }
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    };
    expect(await read(1024)).toBe("The file is not valid UTF-8 text (invalid byte sequence at byte 7); save it as UTF-8.");
    expect(await read(1)).toMatch(/^The file is not valid UTF-8 text \(invalid byte sequence at byte [78]\)/);
  });

  it("names the line of a JSON Lines line that is not an object", async () => {
    expect(await failure("jsonl", '{"a": 1}\n\n"text"\n')).toBe("line 3: expected a JSON object, found a string.");
  });
});

describe("format detection", () => {
  const detect = (text: string | Uint8Array, filename: string, contentType = "application/octet-stream") => {
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    return detectFormat(bytes, { filename, contentType }, true);
  };

  it.each([
    ["a,b\n1,2\n", "x.csv", "text/csv", { format: "csv", delimiter: "," }],
    ["a\tb,c\n1\t2,3\n", "x.tsv", "application/octet-stream", { format: "csv", delimiter: "\t" }],
    ["a;b\n1,5;2\n", "x.csv", "text/csv", { format: "csv", delimiter: ";" }],
    ["a|b\n1|2\n", "data", "application/octet-stream", { format: "csv", delimiter: "|" }],
    ["only\none\n", "x.csv", "text/csv", { format: "csv", delimiter: "," }],
    ["  [ {} ]", "x.json", "application/json", { format: "json" }],
    ['{"a":1}\n', "x.json", "application/json", { format: "jsonl" }],
    ['{"a":1}\n', "x.ndjson", "text/plain", { format: "jsonl" }],
    ["# Title\n", "x.md", "text/plain", { format: "markdown" }],
    ["hello world\n", "x", "application/octet-stream", { format: "text" }],
    ["a,b\n1,2\n", "x.csv", "application/vnd.ms-excel", { format: "csv", delimiter: "," }],
  ])("reads %j named %s (%s) as %j", (text, filename, contentType, expected) => {
    expect(detect(text, filename, contentType)).toMatchObject(expected);
  });

  it("reads byte-order marks", () => {
    expect(detect(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a]), "x.txt")).toMatchObject({ encoding: "utf-8", bomLength: 3 });
    expect(detect(new Uint8Array([0xff, 0xfe, 0x61, 0x00]), "x.txt")).toMatchObject({ encoding: "utf-16le", bomLength: 2 });
    expect(detect(new Uint8Array([0xfe, 0xff, 0x00, 0x61]), "x.txt")).toMatchObject({ encoding: "utf-16be", bomLength: 2 });
  });

  it.each([
    ["%PDF-1.7", "x.json", "application/json", '"x.json" is declared as JSON (content type application/json) but its content is a PDF document.'],
    ["PK\u0003\u0004rest", "x.csv", "text/csv", '"x.csv" is declared as CSV (content type text/csv) but its content is a ZIP archive (such as an XLSX workbook).'],
    ["a,b", "x.json", "application/json", '"x.json" is declared as JSON (content type application/json) but its content is not JSON (it does not start with "[" or "{").'],
    ["a\u0000b", "x.csv", "text/csv", '"x.csv" is declared as CSV (content type text/csv) but its content is binary data, not text (UTF-16 text needs a byte-order mark).'],
    ["\u00d0\u00cf\u0011\u00e0", "x.xlsx", "application/octet-stream", '"x.xlsx" is a legacy Office document (.xls/.doc); save it as .xlsx or CSV, which cannot be parsed into tables.'],
    [" \n\t", "x.txt", "text/plain", '"x.txt" is empty.'],
  ])("refuses %j named %s (%s)", (text, filename, contentType, message) => {
    const bytes = Uint8Array.from(text, (char) => char.charCodeAt(0));
    expect(() => detect(bytes, filename, contentType)).toThrow(message);
  });
});

describe("column types and headers", () => {
  it.each([
    ["0", "integer"],
    ["-42", "integer"],
    ["9007199254740993", "string"],
    ["007", "string"],
    ["3.14", "number"],
    ["-1e-3", "number"],
    ["1.", "string"],
    [".5", "string"],
    ["NaN", "string"],
    ["TRUE", "boolean"],
    ["yes", "string"],
    ["2024-02-29", "date"],
    ["2023-02-29", "string"],
    ["2024-01-31 23:59", "datetime"],
    ["2024-01-31T23:59:60Z", "string"],
    ["2024-01-31T10:00:00.123456+05:30", "datetime"],
    ["31/01/2024", "string"],
  ])("types the text %j as %s", (text, type) => {
    expect(textValueType(text)).toBe(type);
  });

  it("types JSON values by their own types; strings only as dates", () => {
    expect([1, 1.5, true, "42", "2024-01-01", "2024-01-01T00:00:00Z", [1], { a: 1 }, null].map(typedValueType)).toEqual([
      "integer", "number", "boolean", "string", "date", "datetime", "json", "json", null,
    ]);
  });

  it("normalises headers: trimmed, empty named by position, duplicates suffixed", () => {
    expect(normalizeHeaders([" a ", "a", "a_2", "", "  ", null, "b"], "the header")).toEqual(["a", "a_2", "a_2_2", "column_4", "column_5", "column_6", "b"]);
  });
});
