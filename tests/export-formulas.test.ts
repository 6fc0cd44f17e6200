/**
 * CSV exports are safe to open in a spreadsheet (OWASP "CSV injection"): through the real
 * export queue consumer, every cell and header starting with `=`, `+`, `-`, `@`, tab or CR
 * carries a leading `'`, from client data and from annotation values alike; JSON numbers
 * (negative ones included) stay numbers. JSONL and JSON are not spreadsheets: untouched.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { parse as parseCsv } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/background.ts";
import type { ExportMessage } from "../src/queues/messages.ts";
import { createExportFixture, insertExport, storedExport, type ExportFixture } from "./helpers/exports.ts";

const HYPERLINK = '=HYPERLINK("http://x","y")';

const TABLE = {
  columns: ["=cmd", "id", "amount", "note"],
  rows: [
    { "=cmd": HYPERLINK, id: 1, amount: -2, note: "+1" },
    { "=cmd": "@SUM(1)", id: 2, amount: -0.25, note: "-2" },
    { "=cmd": "\tx", id: 3, amount: 7, note: "\rx" },
    { "=cmd": "a-b =c", id: 4, amount: null, note: "" },
  ],
};

const ANNOTATIONS: Record<number, unknown> = {
  0: { label: HYPERLINK, score: -2, tag: "-2" },
  1: { label: "@SUM(1)", score: -1e-7, tag: "+1" },
  2: { label: "\tx", tag: "\rx" },
  // Bare annotations land in the `annotation` column as JSON: a string's text starts with `"`.
  3: -3,
};

let fixture: ExportFixture;

beforeAll(async () => {
  fixture = await createExportFixture({
    tables: [TABLE],
    jobs: [{ table: 0, row_start: 0, row_end: 3, status: "reviewed", reviews: ["approved"], annotations: ANNOTATIONS }],
  });
});

/** Runs the worker's own queue handler on one export message, as the runtime would, and reads the object back. */
async function runExport(format: "csv" | "jsonl"): Promise<string> {
  const exportId = await insertExport(fixture, { format });
  const batch = createMessageBatch<ExportMessage>("grandscale-export", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { kind: "export", export_id: exportId } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  await waitOnExecutionContext(ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
  const stored = await storedExport(exportId);
  expect(stored.status).toBe("succeeded");
  return (await (await env.FILES.get(stored.r2_key))!.text());
}

describe("CSV formula neutralisation", () => {
  let text: string;
  let header: string[];
  let cells: Record<string, string>[];

  beforeAll(async () => {
    text = await runExport("csv");
    const records = parseCsv(text, { relax_quotes: false }) as string[][];
    header = records.shift()!;
    cells = records.map((record) => Object.fromEntries(header.map((name, column) => [name, record[column]!])));
  });

  it("prefixes a header starting with a formula character", () => {
    expect(header.slice(5, 9)).toEqual(["'=cmd", "id", "amount", "note"]);
    expect(text.startsWith(`job_id,table_id,file_id,version_id,row_index,"'=cmd",id,amount,note,`)).toBe(true);
  });

  it("prefixes client data cells starting with = + - @ tab or CR, quoted, and keeps JSON numbers", () => {
    expect(cells.map((row) => [row["'=cmd"], row.amount, row.note])).toEqual([
      [`'${HYPERLINK}`, "-2", "'+1"],
      ["'@SUM(1)", "-0.25", "'-2"],
      ["'\tx", "7", "'\rx"],
      // Only the first character counts.
      ["a-b =c", "", ""],
    ]);
    expect(text).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    // The negative JSON number is written bare; the string "-2" is quoted text.
    expect(text).toMatch(/,-2,"'\+1",/);
  });

  it("prefixes annotation values the same way", () => {
    expect(cells.map((row) => [row["annotation.label"], row["annotation.score"], row["annotation.tag"], row.annotation])).toEqual([
      [`'${HYPERLINK}`, "-2", "'-2", ""],
      ["'@SUM(1)", "-0.0000001", "'+1", ""],
      ["'\tx", "", "'\rx", ""],
      ["", "", "", "-3"],
    ]);
  });

  it("leaves no cell starting with a formula character but a JSON number", () => {
    for (const row of cells) {
      for (const [name, value] of Object.entries(row)) {
        if (/^[-=+@\t\r]/.test(value)) expect({ name, value }).toEqual({ name, value: expect.stringMatching(/^-\d+(\.\d+)?(e-?\d+)?$/) });
      }
    }
  });
});

describe("JSON formats", () => {
  it("keep the values exactly: JSONL is data, not a spreadsheet", async () => {
    const lines = (await runExport("jsonl")).trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => line.data)).toEqual(TABLE.rows);
    expect(lines.map((line) => line.annotation)).toEqual([0, 1, 2, 3].map((index) => ANNOTATIONS[index]));
  });
});
