/**
 * Exports end to end: POST → the real `export` queue consumer (Miniflare delivers the
 * message) → GET until succeeded → download through the presigned URL over real HTTP
 * (the local S3 endpoint checks the signature) → parse → equal to the rows and
 * annotations the fixture put in the database.
 */
import { env } from "cloudflare:test";
import { parse as parseCsv } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.ts";
import { createExport } from "../src/features/exports/exports.service.ts";
import { chunksAfter, type ChunkReader } from "../src/features/exports/export-chunks.ts";
import { rowLineSql, type ExportRow } from "../src/features/exports/export-format.ts";
import { readChunk, type ExportChunk } from "../src/features/exports/export-rows.ts";
import type { RowKey } from "../src/features/exports/export-state.ts";
import { writeExport } from "../src/features/exports/export-writer.ts";
import type { Principal } from "../src/features/auth/principal.ts";
import { createLogger } from "../src/lib/logger.ts";
import { sql, testDb } from "./helpers/db.ts";
import { exportedFiles, exportEvents, createExportFixture, insertExport, sha256Hex, storedExport, type ExportFixture } from "./helpers/exports.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

// Values a CSV or JSON writer can get wrong: separators, quotes, line breaks, non-ASCII,
// empty versus missing, nested values, formula-looking text.
const TABLE_0 = {
  columns: ["id", "name", "score", "active", "tags", "meta", "note"],
  rows: [
    { id: 1, name: 'Alice, "the" first', score: 9.5, active: true, tags: ["a", "b"], meta: { x: 1, y: { z: null } }, note: "" },
    { id: 2, name: "Zoë\nnew line", score: -0.25, active: false, tags: [], meta: {}, note: null },
    { id: 3, name: "emoji 🚀 and \r\n CRLF", score: 0, active: true, tags: ["c"], meta: { "key with space": "v" } },
    { id: 4, name: "=SUM(A1:A2)", score: 1e-7, active: null, tags: null, meta: null, note: "plain" },
    { id: 5, name: "  padded  ", score: 123456789, active: false, tags: ["x,y"], meta: { q: '"' }, note: "ünï" },
  ],
};
const TABLE_1 = {
  columns: ["text", "id"],
  rows: [
    { text: "great product", id: "t1" },
    { text: "awful, really", id: "t2" },
  ],
};

let client: Account;
// Clients may export only approved results: the `all` scope is the platform's.
let admin: Account;
let fixture: ExportFixture;
let jobA: number;
let jobB: number;
let jobC: number;
let jobD: number;

beforeAll(async () => {
  [client, admin] = await Promise.all([registerClient(), createUser("admin")]);
  fixture = await createExportFixture({
    org_id: client.org_id,
    tables: [TABLE_0, TABLE_1],
    jobs: [
      // Approved: exported in both scopes.
      {
        table: 0, row_start: 0, row_end: 2, status: "reviewed", reviews: ["approved"],
        annotations: {
          0: { label: "cat", confidence: 0.9, boxes: [{ x: 1, y: 2 }] },
          1: { label: 'dog, "big"' },
          2: { label: "", extra: { nested: true } },
        },
      },
      // Rejected and back in progress, one row not annotated yet: scope `all` only.
      { table: 0, row_start: 3, row_end: 4, status: "in_progress", reviews: ["rejected"], annotations: { 3: { label: "bird" } } },
      // Rejected, then approved: the latest verdict counts. A bare (non-object) annotation.
      { table: 1, row_start: 0, row_end: 1, status: "reviewed", reviews: ["rejected", "approved"], annotations: { 0: "positive", 1: { label: "neutral" } } },
      // Submitted, overlapping job A's rows: each job exports its own view of the rows.
      { table: 0, row_start: 1, row_end: 2, status: "submitted", annotations: { 1: { label: "x" } } },
    ],
  });
  [jobA, jobB, jobC, jobD] = fixture.jobs.map((job) => job.job_id) as [number, number, number, number];
});

type ExportedObject = {
  job_id: number;
  table_id: number;
  file_id: number;
  version_id: number;
  row_index: number;
  data: Record<string, unknown>;
  annotation: unknown;
  status: string;
  annotator_id: number | null;
  annotated_at: string | null;
  reviewer_id: number | null;
  reviewed_at: string | null;
  responses: { annotator_id: number; data: unknown; submitted_at: string | null }[];
  final: Record<string, unknown> | null;
  agreed: boolean;
};

/** One response's consensus: its answered (non-null) keys; a non-object response answers no question. */
function singleFinal(annotation: unknown): Record<string, unknown> {
  if (typeof annotation !== "object" || annotation === null || Array.isArray(annotation)) return {};
  return Object.fromEntries(Object.entries(annotation).filter(([, value]) => value !== null));
}

/** What the export must contain, from the fixture's own inputs and the database's timestamps. */
async function expectedRows(jobIds: number[], from: ExportFixture = fixture): Promise<ExportedObject[]> {
  const times = await db.execute(sql`
    select a.job_id, a.row_index, a.updated_at, null as reviewed_at from annotation a where a.job_id in (${sql.join(jobIds.map((id) => sql`${id}`), sql`, `)})
    union all
    select r.job_id, -1, null, max(r.created_at) from review r where r.status = 'approved' and r.job_id in (${sql.join(jobIds.map((id) => sql`${id}`), sql`, `)})
    group by r.job_id`);
  const annotatedAt = new Map<string, string>();
  const reviewedAt = new Map<number, string>();
  for (const row of times.rows as { job_id: number; row_index: number; updated_at: string | null; reviewed_at: string | null }[]) {
    if (row.row_index >= 0) annotatedAt.set(`${row.job_id}:${row.row_index}`, new Date(row.updated_at!).toISOString());
    else reviewedAt.set(row.job_id, new Date(row.reviewed_at!).toISOString());
  }
  const rows: ExportedObject[] = [];
  for (const job of [...from.jobs].filter((job) => jobIds.includes(job.job_id)).sort((a, b) => a.job_id - b.job_id)) {
    const table = from.tables[job.table]!;
    const approved = job.reviews?.at(-1) === "approved";
    for (let index = job.row_start; index <= job.row_end && index < table.rows.length; index += 1) {
      const annotation = job.annotations?.[index];
      rows.push({
        job_id: job.job_id,
        table_id: table.table_id,
        file_id: table.file_id,
        version_id: table.version_id,
        row_index: index,
        data: table.rows[index]!,
        annotation: annotation ?? null,
        status: job.status,
        annotator_id: annotation === undefined ? null : from.annotator_id,
        annotated_at: annotatedAt.get(`${job.job_id}:${index}`) ?? null,
        reviewer_id: approved ? from.reviewer_id : null,
        reviewed_at: approved ? reviewedAt.get(job.job_id)! : null,
        responses: annotation === undefined ? [] : [{ annotator_id: from.annotator_id, data: annotation, submitted_at: null }],
        final: annotation === undefined ? null : singleFinal(annotation),
        agreed: annotation !== undefined,
      });
    }
  }
  return rows;
}

async function requestExport(body: Record<string, unknown>, token = client.token) {
  return request("POST", `/api/v1/projects/${fixture.project_id}/exports`, { token, body });
}

/** Reads the export back until the consumer has finished it. */
async function finished(exportId: number, token = client.token) {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const response = await request("GET", `/api/v1/exports/${exportId}`, { token });
    expect(response.status).toBe(200);
    if (response.body.status === "succeeded" || response.body.status === "failed") return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`export ${exportId} did not finish`);
}

/** Downloads through the presigned URL, as any HTTP client would, and checks the bytes against the recorded sha256 and size. */
async function download(exported: { download_url: string; sha256: string; size_bytes: number; export_id: number }) {
  const response = await fetch(exported.download_url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-disposition")).toContain(`export-${exported.export_id}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(bytes.length).toBe(exported.size_bytes);
  expect(await sha256Hex(bytes)).toBe(exported.sha256);
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}

async function exportAndDownload(body: Record<string, unknown>, token = body.scope === "all" ? admin.token : client.token) {
  const created = await requestExport(body, token);
  expect(created.status).toBe(201);
  const done = await finished(created.body.export_id, token);
  expect(done.body).toMatchObject({ status: "succeeded", error: null });
  return { exported: done.body, text: await download(done.body) };
}

describe("round trip: export → download → parse = the source rows and annotations", () => {
  it("JSONL, approved scope: one object per line, exactly the approved rows", async () => {
    const { exported, text } = await exportAndDownload({ format: "jsonl", scope: "approved" });
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    const expected = await expectedRows([jobA, jobC]);
    expect(lines.map((line) => JSON.parse(line))).toEqual(expected);
    expect(exported).toMatchObject({ row_count: 5, progress: { done: 5, total: 5 }, format: "jsonl", scope: "approved" });
    expect(await exportedFiles(exported.export_id)).toEqual([
      { file_version_id: fixture.tables[0]!.version_id, row_count: 3 },
      { file_version_id: fixture.tables[1]!.version_id, row_count: 2 },
    ].sort((a, b) => a.file_version_id - b.file_version_id));
  });

  it("JSON, all scope: one array of every job's rows, annotated or not", async () => {
    const { exported, text } = await exportAndDownload({ format: "json", scope: "all" });
    expect(JSON.parse(text)).toEqual(await expectedRows([jobA, jobB, jobC, jobD]));
    expect(exported.row_count).toBe(9);
    expect(text.startsWith("[\n{")).toBe(true);
    expect(text.endsWith("}\n]\n")).toBe(true);
  });

  it("CSV, all scope: RFC 4180 with the documented flattening", async () => {
    const { text } = await exportAndDownload({ format: "csv", scope: "all" });
    expect(text.includes("\r\n")).toBe(true);
    // Unquoted empty = missing (null); quoted empty = the empty string.
    const records = parseCsv(text, { cast: (value, context) => (value === "" && !context.quoting ? null : value) }) as (string | null)[][];
    const header = records.shift()!;
    const sourceColumns = ["id", "name", "score", "active", "tags", "meta", "note", "text"];
    const annotationKeys = ["boxes", "confidence", "extra", "label"];
    expect(header).toEqual([
      "job_id", "table_id", "file_id", "version_id", "row_index",
      ...sourceColumns,
      ...annotationKeys.map((key) => `annotation.${key}`),
      "annotation",
      "status", "annotator_id", "annotated_at", "reviewer_id", "reviewed_at", "responses", "final", "agreed",
    ]);
    const expected = await expectedRows([jobA, jobB, jobC, jobD]);
    expect(records).toHaveLength(expected.length);
    for (const [i, record] of records.entries()) {
      const row = expected[i]!;
      const cells = Object.fromEntries(header.map((name, column) => [name, record[column] ?? null]));
      expect(cells).toMatchObject({
        job_id: String(row.job_id), table_id: String(row.table_id), file_id: String(row.file_id), version_id: String(row.version_id),
        row_index: String(row.row_index), status: row.status, annotator_id: row.annotator_id === null ? null : String(row.annotator_id),
        annotated_at: row.annotated_at, reviewer_id: row.reviewer_id === null ? null : String(row.reviewer_id), reviewed_at: row.reviewed_at,
      });
      for (const column of sourceColumns) expectCell(cells[column], row.data[column]);
      const annotation = row.annotation;
      const isObject = typeof annotation === "object" && annotation !== null && !Array.isArray(annotation);
      for (const key of annotationKeys) expectCell(cells[`annotation.${key}`], isObject ? (annotation as Record<string, unknown>)[key] : undefined);
      expect(JSON.parse(cells.responses!)).toEqual(row.responses);
      expect(cells.final === null ? null : JSON.parse(cells.final)).toEqual(row.final);
      expect(cells.agreed).toBe(String(row.agreed));
      if (isObject || annotation === null) expect(cells.annotation).toBeNull();
      else expect(JSON.parse(cells.annotation!)).toEqual(annotation);
    }
  });

  it("an export of nothing is a valid empty file in each format", async () => {
    const empty = await createExportFixture({ org_id: client.org_id, tables: [TABLE_1], jobs: [{ table: 0, row_start: 0, row_end: 1, status: "in_progress" }] });
    const bodies: Record<string, string> = {};
    for (const format of ["jsonl", "json", "csv"]) {
      const created = await request("POST", `/api/v1/projects/${empty.project_id}/exports`, { token: client.token, body: { format, scope: "approved" } });
      const done = await finished(created.body.export_id);
      expect(done.body).toMatchObject({ status: "succeeded", row_count: 0, progress: { done: 0, total: 0 } });
      bodies[format] = await download(done.body);
    }
    expect(bodies).toEqual({
      jsonl: "",
      json: "[]\n",
      csv: "job_id,table_id,file_id,version_id,row_index,status,annotator_id,annotated_at,reviewer_id,reviewed_at,responses,final,agreed\r\n",
    });
  });
});

/** A CSV cell against its source value, per the documented flattening (strings that look like formulas get a `'`). */
function expectCell(cell: string | null | undefined, value: unknown) {
  if (value === undefined || value === null) expect(cell).toBeNull();
  else if (typeof value === "object") expect(JSON.parse(cell!)).toEqual(value);
  else if (typeof value === "number") expect(Number(cell)).toBe(value);
  else if (typeof value === "string" && /^[-=+@\t\r]/.test(value)) expect(cell).toBe(`'${value}`);
  else expect(cell).toBe(String(value));
}

describe("chunks", () => {
  // Ranges past a table's last row (a job of rows 0..5 of a 2-row table), a job with no
  // row at all, jobs of two tables interleaved: every chunk size must give the same rows.
  it("every chunk size writes every row once, in order, across jobs whose ranges have gaps", async () => {
    const gappy = await createExportFixture({
      org_id: client.org_id,
      tables: [TABLE_0, TABLE_1],
      jobs: [
        { table: 1, row_start: 0, row_end: 5, status: "in_progress", annotations: { 1: { label: "b" } } },
        { table: 1, row_start: 3, row_end: 6, status: "in_progress" },
        { table: 0, row_start: 0, row_end: 2, status: "reviewed", reviews: ["approved"], annotations: { 0: { label: "a" } } },
        { table: 1, row_start: 4, row_end: 9, status: "not_started" },
        { table: 0, row_start: 2, row_end: 4, status: "submitted" },
      ],
    });
    const expected = await expectedRows(gappy.jobs.map((job) => job.job_id), gappy);
    expect(expected).toHaveLength(2 + 0 + 3 + 0 + 3);
    const deps = { db, bucket: env.FILES, logger: createLogger({ test: "exports" }, "error") };
    for (const chunkRows of [1, 2, 3, 50]) {
      const exportId = await insertExport(gappy, { format: "jsonl", scope: "all" });
      expect(await writeExport(deps, exportId, { delivery: { id: crypto.randomUUID(), attempt: 1 }, chunkRows })).toBe("succeeded");
      const stored = await storedExport(exportId);
      const text = await (await env.FILES.get(stored.r2_key))!.text();
      expect(text.trimEnd().split("\n").map((line) => JSON.parse(line)), `chunkRows ${chunkRows}`).toEqual(expected);
      expect(stored.row_count).toBe(expected.length);
    }
  });
  it("many one-row jobs, a third of them past their table's end: every chunk size writes every row once, in order", async () => {
    // More jobs than a chunk reads (limit + ahead + 3), so the chunks' own job limit and
    // their short chunks are both on the path.
    const single = await createExportFixture({
      org_id: client.org_id,
      tables: [TABLE_0, TABLE_1],
      jobs: Array.from({ length: 18 }, (_, index) => ({
        table: index % 2, row_start: index % 6, row_end: index % 6, status: "in_progress" as const,
      })),
    });
    const expected = await expectedRows(single.jobs.map((job) => job.job_id), single);
    expect(expected.length).toBeGreaterThan(6);
    expect(expected.length).toBeLessThan(18);
    const selection = { project_id: single.project_id, scope: "all" as const, filters: {} };
    for (const chunkRows of [1, 2, 3]) {
      const read: ChunkReader = (after, limit, ahead) => readChunk(db, selection, rowLineSql("jsonl", null), after, limit, ahead);
      const rows: unknown[] = [];
      for await (const chunk of chunksAfter(read, null, { chunkRows, chunkBytes: 1_000_000 })) rows.push(...chunk.map((row) => JSON.parse(row.line)));
      expect(rows, `chunkRows ${chunkRows}`).toEqual(expected);
    }
  });

  it("rows of changing widths: every chunk asked for ahead is used, two at a time, and each follows the one before", async () => {
    const widths = Array.from({ length: 60 }, (_, index) => ({ text: "w".repeat(((index * 37) % 11) * 150 + 5), id: `r${index}` }));
    const uneven = await createExportFixture({
      org_id: client.org_id,
      tables: [{ columns: ["text", "id"], rows: widths }],
      jobs: [
        { table: 0, row_start: 0, row_end: 24, status: "in_progress" },
        { table: 0, row_start: 25, row_end: 59, status: "in_progress" },
      ],
    });
    const selection = { project_id: uneven.project_id, scope: "all" as const, filters: {} };
    const asked: { after: RowKey | null; limit: number }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const read: ChunkReader = async (after, limit, ahead) => {
      asked.push({ after, limit });
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        return await readChunk(db, selection, rowLineSql("jsonl", null), after, limit, ahead);
      } finally {
        inFlight -= 1;
      }
    };
    const chunks: ExportRow[][] = [];
    for await (const chunk of chunksAfter(read, null, { chunkRows: 20, chunkBytes: 4_000 })) chunks.push(chunk);
    const rows = chunks.flat();
    expect(rows.map((row) => JSON.parse(row.line))).toEqual(await expectedRows(uneven.jobs.map((job) => job.job_id), uneven));
    // Every query asked for was a chunk the writer got: no prediction was wrong.
    expect(asked).toHaveLength(chunks.length);
    expect(chunks.every((chunk) => chunk.length > 0)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.length)).size).toBeGreaterThan(2);
    expect(mostInFlight).toBe(2);
    for (const [index, chunk] of chunks.entries()) {
      expect(chunk.length).toBe(Math.min(asked[index]!.limit, rows.length - chunks.slice(0, index).flat().length));
      const start = asked[index]!.after;
      const previous = chunks[index - 1]?.at(-1);
      expect(start).toEqual(previous ? { job_id: previous.job_id, row_index: previous.row_index } : null);
    }
  });

  it("a chunk asked for ahead is dropped and asked again when the rows moved under its prediction", async () => {
    const moving = await createExportFixture({
      org_id: client.org_id,
      tables: [TABLE_0],
      jobs: [0, 1, 2].map(() => ({ table: 0, row_start: 0, row_end: 4, status: "in_progress" as const })),
    });
    const [first, second, third] = moving.jobs.map((job) => job.job_id) as [number, number, number];
    const selection = { project_id: moving.project_id, scope: "all" as const, filters: {} };
    // The second query (the first chunk's successor) waits until the test lets it go; the
    // third (the chunk after it, asked for at the same time) runs at once.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: Promise<ExportChunk>[] = [];
    const read: ChunkReader = async (after, limit, ahead) => {
      const call = calls.length + 1;
      const chunk = (async () => {
        if (call === 2) await gate;
        return readChunk(db, selection, rowLineSql("jsonl", null), after, limit, ahead);
      })();
      calls.push(chunk);
      return chunk;
    };
    const chunks = chunksAfter(read, null, { chunkRows: 2, chunkBytes: 1_000_000 });
    const keys = (rows: { job_id: number; row_index: number }[]) => rows.map((row) => [row.job_id, row.row_index]);
    const firstChunk = await chunks.next();
    expect(keys(firstChunk.value as ExportRow[])).toEqual([[first, 0], [first, 1]]);
    expect(calls).toHaveLength(3);
    // The third chunk was read from the prediction (rows 4 of the first job on) …
    expect(keys((await calls[2]!).rows)).toEqual([[first, 4], [second, 0]]);
    // … and then the first job is deleted, so its successor finds other rows.
    await db.execute(sql`update annotation_job set deleted_at = now() where job_id = ${first}`);
    release();
    const rest: number[][] = [];
    for await (const chunk of chunks) rest.push(...keys(chunk));
    expect(rest).toEqual([
      ...[0, 1, 2, 3, 4].map((row) => [second, row]),
      ...[0, 1, 2, 3, 4].map((row) => [third, row]),
    ]);
  });
});

describe("filters", () => {
  it("job_ids and file_ids narrow the rows", async () => {
    const byJob = await exportAndDownload({ format: "jsonl", scope: "all", job_ids: [jobD, jobB] });
    expect(byJob.exported.filters).toEqual({ job_ids: [jobB, jobD].sort((a, b) => a - b) });
    expect(byJob.text.trimEnd().split("\n").map((line) => JSON.parse(line))).toEqual(await expectedRows([jobB, jobD]));

    const byFile = await exportAndDownload({ format: "json", scope: "all", file_ids: [fixture.tables[1]!.file_id] });
    expect(JSON.parse(byFile.text)).toEqual(await expectedRows([jobC]));
  });

  it("a job or file that is not a live one of the project is a 422 naming it, and nothing is created", async () => {
    const other = await createExportFixture({ tables: [TABLE_1], jobs: [{ table: 0, row_start: 0, row_end: 0, status: "reviewed" }] });
    const before = await db.execute(sql`select count(*)::integer as n from export_log where project_id = ${fixture.project_id}`);
    const response = await requestExport({ format: "csv", scope: "all", job_ids: [jobA, other.jobs[0]!.job_id], file_ids: [other.tables[0]!.file_id] }, admin.token);
    expect(response.status).toBe(422);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    expect(response.body.errors).toEqual([
      { path: "body.job_ids", message: `job ${other.jobs[0]!.job_id} is not a live job of project ${fixture.project_id}` },
      { path: "body.file_ids", message: `file ${other.tables[0]!.file_id} is not a live file of project ${fixture.project_id}` },
    ]);
    const after = await db.execute(sql`select count(*)::integer as n from export_log where project_id = ${fixture.project_id}`);
    expect(after.rows).toEqual(before.rows);
  });

  it("rejects an unknown format or scope, unknown fields and empty id lists (422)", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ format: "xml" }, "body.format", "csv"],
      [{ format: "csv", scope: "some" }, "body.scope", "approved"],
      // An unknown field is the body's error, naming the field.
      [{ format: "csv", extra: 1 }, "body", "extra"],
      [{ format: "csv", job_ids: [] }, "body.job_ids", ""],
      [{}, "body.format", ""],
    ];
    for (const [body, path, named] of cases) {
      const response = await requestExport(body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.errors, JSON.stringify(body)).toEqual([{ path, message: expect.stringContaining(named) }]);
    }
  });
});

describe("the export resource", () => {
  it("POST answers 201 queued in one round trip, with its audit row; GET answers it with an ETag in one", async () => {
    const created = await requestExport({ format: "jsonl" });
    expect(created.status).toBe(201);
    expect(created.roundTrips).toBe(1);
    expect(created.body).toMatchObject({
      project_id: fixture.project_id, status: "queued", format: "jsonl", scope: "approved", filters: {},
      progress: { done: 0, total: null }, row_count: 0, size_bytes: 0, sha256: null, error: null, download_url: null,
      requested_by: client.user_id, completed_at: null,
    });
    const events = await db.execute(sql`select action, actor_id, org_id, project_id, after from event_log
      where entity_type = 'export_log' and entity_id = ${created.body.export_id} and action = 'export_log.create'`);
    expect(events.rows).toEqual([{
      action: "export_log.create", actor_id: client.user_id, org_id: client.org_id, project_id: fixture.project_id,
      after: { format: "jsonl", scope: "approved", filters: {}, status: "queued" },
    }]);
    const done = await finished(created.body.export_id);
    const read = await request("GET", `/api/v1/exports/${created.body.export_id}`, { token: client.token });
    expect(read.roundTrips).toBe(1);
    expect(read.headers.get("etag")).toMatch(/^"[\w-]+"$/);
    expect(read.body).toMatchObject({ status: "succeeded", sha256: done.body.sha256, row_count: 5 });
    expect(read.body.download_url).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
    expect(Date.parse(read.body.download_expires_at)).toBeGreaterThan(Date.now());
    expect(await exportEvents(created.body.export_id)).toEqual(["export_log.create", "export_log.succeed"]);
  });

  it("a tampered download URL is refused by storage", async () => {
    const { exported } = await exportAndDownload({ format: "jsonl" });
    const forged = exported.download_url.replace(/X-Amz-Signature=([0-9a-f])/, (_: string, digit: string) => `X-Amz-Signature=${digit === "0" ? "1" : "0"}`);
    expect((await fetch(forged)).status).toBe(403);
  });

  it("an Idempotency-Key replay answers the same export and queues nothing new", async () => {
    const headers = { "idempotency-key": crypto.randomUUID() };
    const first = await request("POST", `/api/v1/projects/${fixture.project_id}/exports`, { token: client.token, body: { format: "csv" }, headers });
    const replay = await request("POST", `/api/v1/projects/${fixture.project_id}/exports`, { token: client.token, body: { format: "csv" }, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.export_id).toBe(first.body.export_id);
    await finished(first.body.export_id);
  });

  it("lists a project's exports newest first, by cursor, filtered by status, in one round trip", async () => {
    const project = await createExportFixture({ org_id: client.org_id, tables: [TABLE_1], jobs: [] });
    const ids: number[] = [];
    for (const format of ["jsonl", "csv", "json"]) {
      const created = await request("POST", `/api/v1/projects/${project.project_id}/exports`, { token: client.token, body: { format } });
      ids.push(created.body.export_id);
    }
    for (const id of ids) await finished(id);
    const first = await request("GET", `/api/v1/projects/${project.project_id}/exports?limit=2`, { token: client.token });
    expect(first.status).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body.data.map((item: { export_id: number }) => item.export_id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[0].download_url).toMatch(/^http/);
    const second = await request("GET", `/api/v1/projects/${project.project_id}/exports?limit=2&cursor=${first.body.next_cursor}`, { token: client.token });
    expect(second.body).toEqual({ data: [expect.objectContaining({ export_id: ids[0] })], next_cursor: null });
    const oldestFirst = await request("GET", `/api/v1/projects/${project.project_id}/exports?sort=created_at`, { token: client.token });
    expect(oldestFirst.body.data.map((item: { export_id: number }) => item.export_id)).toEqual(ids);
    const failed = await request("GET", `/api/v1/projects/${project.project_id}/exports?status=failed`, { token: client.token });
    expect(failed.body).toEqual({ data: [], next_cursor: null });
    const badCursor = await request("GET", `/api/v1/projects/${project.project_id}/exports?cursor=nonsense`, { token: client.token });
    expect(badCursor.status).toBe(422);
  });

  it("when the queue refuses the message, the export is recorded failed and the answer is 503", async () => {
    const config = loadConfig(env);
    const principal: Principal = {
      user_id: client.user_id, org_id: client.org_id, org_kind: "client", roles: ["client_admin"],
      permissions: new Set(["export:create", "export:read"]), credentials_version: 0,
      credential: { kind: "access_token", session_id: null },
    };
    const refusingQueue = { send: async () => { throw new Error("queue unavailable"); } } as unknown as Queue;
    const ctx = {
      db, config: { ...config, EXPORT_QUEUE: refusingQueue }, logger: createLogger({}, "error"),
      requestId: crypto.randomUUID(), principal, idempotency: null,
    };
    await expect(createExport(ctx, fixture.project_id, { format: "jsonl", scope: "approved" })).rejects.toMatchObject({ status: 503 });
    const latest = await db.execute(sql`select export_id from export_log where project_id = ${fixture.project_id} order by export_id desc limit 1`);
    const stored = await storedExport((latest.rows[0] as { export_id: number }).export_id);
    expect(stored).toMatchObject({ status: "failed", error: "The export could not be queued." });
  });
});

describe("access", () => {
  it("another organization gets 404 for the project's exports and for an export", async () => {
    const outsider = await registerClient();
    const created = await requestExport({ format: "jsonl" });
    expect((await requestExport({ format: "jsonl" }, outsider.token)).status).toBe(404);
    expect((await request("GET", `/api/v1/projects/${fixture.project_id}/exports`, { token: outsider.token })).status).toBe(404);
    const read = await request("GET", `/api/v1/exports/${created.body.export_id}`, { token: outsider.token });
    expect(read.status).toBe(404);
    expect(read.body.detail).toBe(`Export ${created.body.export_id} does not exist.`);
    expect((await request("GET", "/api/v1/exports/2000000000", { token: client.token })).status).toBe(404);
  });

  it("an annotator assigned to one of the project's jobs sees the project but may not export (403); unassigned, 404", async () => {
    const annotator = await createUser("annotator");
    const created = await requestExport({ format: "jsonl" });
    expect((await requestExport({ format: "jsonl" }, annotator.token)).status).toBe(404);
    await db.execute(sql`insert into assignment (job_id, user_id, role) values (${jobA}, ${annotator.user_id}, 'annotator')`);
    const refused = await requestExport({ format: "jsonl" }, annotator.token);
    expect(refused.status).toBe(403);
    expect(refused.roundTrips).toBe(1);
    expect((await request("GET", `/api/v1/projects/${fixture.project_id}/exports`, { token: annotator.token })).status).toBe(403);
    expect((await request("GET", `/api/v1/exports/${created.body.export_id}`, { token: annotator.token })).status).toBe(403);
  });

  it("a client_member and the project's pm may export; another pm may not see it", async () => {
    const [member, pm, otherPm] = await Promise.all([createUser("client_member", client.org_id), createUser("pm"), createUser("pm")]);
    await db.execute(sql`update project set our_pm_id = ${pm.user_id} where project_id = ${fixture.project_id}`);
    expect((await requestExport({ format: "csv" }, member.token)).status).toBe(201);
    const byPm = await requestExport({ format: "csv" }, pm.token);
    expect(byPm.status).toBe(201);
    expect((await request("GET", `/api/v1/exports/${byPm.body.export_id}`, { token: member.token })).status).toBe(200);
    expect((await requestExport({ format: "csv" }, otherPm.token)).status).toBe(404);
    expect((await request("GET", `/api/v1/exports/${byPm.body.export_id}`, { token: otherPm.token })).status).toBe(404);
  });

  it("a client asking for scope `all` is refused with 403 naming the rule, and nothing is created", async () => {
    const member = await createUser("client_member", client.org_id);
    const before = await db.execute(sql`select count(*)::integer as n from export_log where project_id = ${fixture.project_id}`);
    for (const account of [client, member]) {
      const refused = await requestExport({ format: "csv", scope: "all" }, account.token);
      expect(refused.status).toBe(403);
      expect(refused.roundTrips).toBe(1);
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
      expect(refused.body).toMatchObject({ type: "urn:grandscale:problem:forbidden", status: 403 });
      expect(refused.body.detail).toMatch(/Clients may export only approved results/);
    }
    const after = await db.execute(sql`select count(*)::integer as n from export_log where project_id = ${fixture.project_id}`);
    expect(after.rows).toEqual(before.rows);
  });

  it("a client never reads an `all` export made by platform staff: not in the list, 404 by id", async () => {
    const byAdmin = await requestExport({ format: "jsonl", scope: "all" }, admin.token);
    expect(byAdmin.status).toBe(201);
    const read = await request("GET", `/api/v1/exports/${byAdmin.body.export_id}`, { token: client.token });
    expect(read.status).toBe(404);
    expect(read.roundTrips).toBe(1);
    const list = await request("GET", `/api/v1/projects/${fixture.project_id}/exports?limit=200`, { token: client.token });
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    expect(list.body.data.every((item: { scope: string }) => item.scope === "approved")).toBe(true);
    expect((await request("GET", `/api/v1/exports/${byAdmin.body.export_id}`, { token: admin.token })).status).toBe(200);
    await finished(byAdmin.body.export_id, admin.token);
  });

  it("declares the scope rule's 403 in /openapi.json", async () => {
    const { body } = await request("GET", "/openapi.json");
    const forbidden = body.paths["/api/v1/projects/{project_id}/exports"].post.responses["403"];
    expect(forbidden.description).toMatch(/clients may export only approved results/);
    expect(forbidden.content["application/problem+json"]).toBeDefined();
  });

  it("a soft-deleted project's exports are gone with it", async () => {
    const project = await createExportFixture({ org_id: client.org_id, tables: [TABLE_1], jobs: [] });
    const created = await request("POST", `/api/v1/projects/${project.project_id}/exports`, { token: client.token, body: { format: "json" } });
    await finished(created.body.export_id);
    await db.execute(sql`update project set deleted_at = now() where project_id = ${project.project_id}`);
    expect((await request("GET", `/api/v1/exports/${created.body.export_id}`, { token: client.token })).status).toBe(404);
    expect((await request("POST", `/api/v1/projects/${project.project_id}/exports`, { token: client.token, body: { format: "json" } })).status).toBe(404);
  });
});
