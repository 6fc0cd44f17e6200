import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_PARSE_OPTIONS, runParseMessage, type ParseOptions, type ParseOutcome } from "../src/features/parsing/parse-run.ts";
import type { ParseMessage } from "../src/queues/messages.ts";
import { annotationProject, staffedJob } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { parseDependencies, recordingQueue } from "./helpers/parse.ts";

const db = testDb();
const encoder = new TextEncoder();
const small: ParseOptions = { chunkRows: 4, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes };

const QUESTIONS = [
  { name: "sentiment", type: "label", options: ["positive", "negative"] },
  { name: "entities", type: "span", field: "text", options: ["person"] },
];

/** A 10-row table whose project has QUESTIONS as its schema. */
async function schemaTable() {
  const staffed = await staffedJob({ rows: 10 });
  const put = await request("PUT", `/api/v1/projects/${staffed.project_id}/label-schema`, { token: staffed.pm.token, body: { questions: QUESTIONS } });
  expect(put.status).toBe(200);
  return staffed;
}

/** An llm_output version of the table's project, its bytes in R2, importing into `tableId`. */
async function llmOutputVersion(project: { project_id: number; org_id: number }, tableId: number, lines: string[]) {
  const bytes = encoder.encode(`${lines.join("\n")}\n`);
  const r2Key = `tests/llm-output/${crypto.randomUUID()}.jsonl`;
  await env.FILES.put(r2Key, bytes);
  const result = await db.execute(sql`
    with created_file as (
      insert into file (project_id, org_id, filename, content_type, file_type)
      values (${project.project_id}, ${project.org_id}, 'answers.jsonl', 'application/x-ndjson', 'llm_output') returning file_id
    ), version as (
      insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
      select file_id, 1, 'answers.jsonl', ${r2Key}, ${bytes.length}, 'application/x-ndjson', 'ready', 'queued', now() from created_file
      returning version_id
    ), import as (
      insert into suggestion_import (version_id, target_table_id) select version_id, ${tableId}::integer from version
    )
    select version_id from version`);
  return (result.rows[0] as { version_id: number }).version_id;
}

/** 20 lines: valid ones, and invalid ones at lines 3 (unknown option), 8 (row beyond the table), 12 (no agent), 15 (span beyond its cell). */
function sampleLines() {
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    const line = i + 1;
    if (line === 3) lines.push(JSON.stringify({ row_index: 2, question: "sentiment", value: "meh", agent: "m" }));
    else if (line === 8) lines.push(JSON.stringify({ row_index: 99, question: "sentiment", value: "positive", agent: "m" }));
    else if (line === 12) lines.push(JSON.stringify({ row_index: 1, question: "sentiment", value: "positive" }));
    else if (line === 15) lines.push(JSON.stringify({ row_index: 4, question: "entities", value: [{ start: 0, end: 400, label: "person" }], agent: "m" }));
    else lines.push(JSON.stringify({ row_index: i % 10, question: "sentiment", value: i % 2 ? "positive" : "negative", score: i / 20, agent: i < 10 ? "m" : "n" }));
  }
  return lines;
}

async function suggestionsOf(tableId: number) {
  const result = await db.execute(sql`select row_index, question, agent, value, score from suggestion where table_id = ${tableId} order by row_index, question, agent`);
  return result.rows;
}

/** The version's import report, project ids in messages masked (each run has its own project). */
async function reportOf(versionId: number) {
  const result = await db.execute(sql`select imported, invalid, errors from suggestion_import where version_id = ${versionId}`);
  const report = result.rows[0] as { imported: number; invalid: number; errors: { line: number; message: string }[] };
  return { ...report, errors: report.errors.map((error) => ({ ...error, message: error.message.replace(/project \d+/g, "project N") })) };
}

async function drain(first: ParseMessage, options: ParseOptions) {
  const { queue, sent } = recordingQueue();
  const deps = parseDependencies(queue);
  const outcomes: string[] = [];
  for (let next: ParseMessage | undefined = first; next; next = sent.shift()) outcomes.push(await runParseMessage(next, deps, options));
  return outcomes;
}

const start = (versionId: number): ParseMessage => ({ kind: "parse", version_id: versionId });

describe("llm_output import", () => {
  it("imports valid lines as suggestions in chunks and reports invalid lines by number", async () => {
    const project = await schemaTable();
    const versionId = await llmOutputVersion(project, project.table_id, sampleLines());
    const outcomes = await drain(start(versionId), small);
    expect(outcomes.at(-1)).toBe("succeeded");
    expect(outcomes.length).toBeGreaterThan(3);

    const report = await reportOf(versionId);
    expect(report).toEqual({
      imported: 16,
      invalid: 4,
      errors: [
        { line: 3, message: expect.stringContaining("expected one of the options") },
        { line: 8, message: expect.stringContaining("no row 99") },
        { line: 12, message: expect.stringContaining("agent") },
        { line: 15, message: expect.stringContaining("span") },
      ],
    });
    const stored = await suggestionsOf(project.table_id);
    expect(stored).toHaveLength(16);
    expect(stored[0]).toEqual({ row_index: 0, question: "sentiment", agent: "m", value: "negative", score: 0 });
    // The lines became suggestions, not rows of a table of the file's own.
    const ownTable = await db.execute(sql`select t.row_count, (select count(*)::int from file_table_row r where r.table_id = t.table_id) as stored
      from file_table t where t.version_id = ${versionId}`);
    expect(ownTable.rows).toEqual([{ row_count: 0, stored: 0 }]);

    const read = await request("GET", `/api/v1/file-versions/${versionId}/suggestion-import`, { token: project.pm.token });
    expect(read.status).toBe(200);
    expect(read.roundTrips).toBe(1);
    expect(read.body).toMatchObject({ version_id: versionId, target_table_id: project.table_id, parse_status: "succeeded", imported: 16, invalid: 4 });
  });

  it("cuts an import into chunks of importChunkLines lines where it is given, rather than chunkRows", async () => {
    const project = await schemaTable();
    const versionId = await llmOutputVersion(project, project.table_id, sampleLines());
    const outcomes = await drain(start(versionId), { chunkRows: 1, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes, importChunkLines: 10 });
    expect(outcomes).toEqual(["chunk-committed", "succeeded"]);
    expect(await reportOf(versionId)).toMatchObject({ imported: 16, invalid: 4 });
  });

  it("keeps the last line for a row, question and agent, within a chunk and across chunks, and reads each line by the line rule", async () => {
    const project = await schemaTable();
    const lines = [
      // Chunk one: two lines for row 2 (the second wins; the first's agent is trimmed to "m").
      { row_index: 2, question: "sentiment", value: "positive", score: 0.1, agent: " m " },
      { row_index: 2, question: "sentiment", value: "negative", score: 0.2, agent: "m" },
      { row_index: 1, question: "sentiment", value: "positive", agent: "m", model: "x" },
      { row_index: 0, question: "sentiment", value: "positive", score: 0.3, agent: "m" },
      // Chunk two: row 0 again (a stored suggestion: the INSERT meets it), then lines in error.
      { row_index: 0, question: "sentiment", value: "negative", score: 0.4, agent: "m" },
      { row_index: 0, question: "sentiment", value: "meh", agent: "m" },
      { row_index: 1.5, question: "sentiment", value: "positive", agent: "m" },
      { row_index: 1, question: "sentiment", value: "positive", score: "0.5", agent: "m" },
      // Chunk three.
      { row_index: 1, question: "sentiment", value: "negative", score: null, agent: "m" },
      { row_index: 3, question: "sentiment", value: null, agent: "m" },
      { row_index: 4, question: "sentiment", agent: "m" },
      { row_index: 3, question: "sentiment", value: "positive", score: 0.5, agent: "m" },
    ].map((line) => JSON.stringify(line));
    const versionId = await llmOutputVersion(project, project.table_id, lines);
    expect((await drain(start(versionId), small)).at(-1)).toBe("succeeded");

    expect(await suggestionsOf(project.table_id)).toEqual([
      { row_index: 0, question: "sentiment", agent: "m", value: "negative", score: 0.4 },
      { row_index: 1, question: "sentiment", agent: "m", value: "negative", score: null },
      { row_index: 2, question: "sentiment", agent: "m", value: "negative", score: 0.2 },
      { row_index: 3, question: "sentiment", agent: "m", value: "positive", score: 0.5 },
    ]);
    expect(await reportOf(versionId)).toEqual({
      imported: 5,
      invalid: 6,
      errors: [
        { line: 3, message: expect.stringContaining("model") },
        { line: 6, message: expect.stringContaining("expected one of the options") },
        { line: 7, message: expect.stringMatching(/^row_index: /) },
        { line: 8, message: expect.stringMatching(/^score: /) },
        { line: 10, message: "value: a suggestion needs a value (null answers nothing)" },
        { line: 11, message: "value: a suggestion needs a value (null answers nothing)" },
      ],
    });
  });

  it("reads a null or missing value as an invalid line on a table without a label schema too", async () => {
    const project = await staffedJob({ rows: 3 });
    const lines = [
      { row_index: 0, question: "anything", value: { free: "json" }, agent: "m" },
      { row_index: 1, question: "anything", value: null, agent: "m" },
      { row_index: 2, question: "anything", agent: "m" },
    ].map((line) => JSON.stringify(line));
    const versionId = await llmOutputVersion(project, project.table_id, lines);
    expect((await drain(start(versionId), small)).at(-1)).toBe("succeeded");
    expect(await suggestionsOf(project.table_id)).toEqual([{ row_index: 0, question: "anything", agent: "m", value: { free: "json" }, score: null }]);
    expect(await reportOf(versionId)).toMatchObject({ imported: 1, invalid: 2 });
  });

  it("imports a second file over stored suggestions within one message: the chunks that meet them become upserts", async () => {
    const project = await schemaTable();
    const answers = (value: string, score: number, rows: number[]) =>
      rows.map((row_index) => JSON.stringify({ row_index, question: "sentiment", value, score, agent: "m" }));
    const first = await llmOutputVersion(project, project.table_id, answers("positive", 0.1, [0, 1, 2, 3, 4, 5, 6, 7]));
    expect((await drain(start(first), small)).at(-1)).toBe("succeeded");

    const second = await llmOutputVersion(project, project.table_id, answers("negative", 0.9, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(await drain(start(second), { ...small, sliceMs: 60_000 })).toEqual(["succeeded"]);
    const stored = await suggestionsOf(project.table_id);
    expect(stored).toHaveLength(10);
    expect(stored.every((row) => row.value === "negative" && row.score === 0.9)).toBe(true);
    expect(await reportOf(second)).toEqual({ imported: 10, invalid: 0, errors: [] });
  });

  it("imports every line exactly once under duplicate delivery and a crash after any chunk", async () => {
    const clean = await schemaTable();
    await drain(start(await llmOutputVersion(clean, clean.table_id, sampleLines())), small);
    const expected = { suggestions: await suggestionsOf(clean.table_id), report: await reportOf((await db.execute(sql`select version_id from suggestion_import where target_table_id = ${clean.table_id}`)).rows[0]!.version_id as number) };

    for (const crashAfter of [1, 2, 3, 4]) {
      const project = await schemaTable();
      const versionId = await llmOutputVersion(project, project.table_id, sampleLines());
      const { queue, sent } = recordingQueue();
      const deps = parseDependencies(queue);
      const crashing: ParseOptions = { ...small, faults: { afterCommit: (chunk) => { if (chunk === crashAfter) throw new Error("isolate killed"); } } };
      const delivered: ParseMessage[] = [];
      let message: ParseMessage | undefined = start(versionId);
      let crashed = false;
      while (message) {
        delivered.push(message);
        try {
          await runParseMessage(message, deps, crashed ? small : crashing);
        } catch (error) {
          expect((error as Error).message).toBe("isolate killed");
          crashed = true;
          continue; // redelivered: the same message again
        }
        // Every message is delivered twice.
        await runParseMessage(message, deps, small);
        message = sent.shift();
      }
      expect(crashed).toBe(true);
      expect(await suggestionsOf(project.table_id)).toEqual(expected.suggestions);
      expect(await reportOf(versionId)).toEqual(expected.report);
    }
  });

  it("imports every line exactly once with commits in flight: a crash after any chunk of a slice, every message delivered twice at once", async () => {
    const sliced: ParseOptions = { ...small, sliceMs: 60_000 };
    const clean = await schemaTable();
    await drain(start(await llmOutputVersion(clean, clean.table_id, sampleLines())), small);
    const expected = { suggestions: await suggestionsOf(clean.table_id), report: await reportOf((await db.execute(sql`select version_id from suggestion_import where target_table_id = ${clean.table_id}`)).rows[0]!.version_id as number) };

    for (const crashAfter of [1, 2, 3]) {
      const project = await schemaTable();
      const versionId = await llmOutputVersion(project, project.table_id, sampleLines());
      const { queue, sent } = recordingQueue();
      const deps = parseDependencies(queue);
      const crashing: ParseOptions = { ...sliced, faults: { afterCommit: (chunk) => { if (chunk === crashAfter) throw new Error("isolate killed"); } } };
      await expect(runParseMessage(start(versionId), deps, crashing)).rejects.toThrow("isolate killed");
      const outcomes: ParseOutcome[] = [];
      for (let message: ParseMessage | undefined = start(versionId); message; message = sent.shift()) {
        outcomes.push(...(await Promise.all([runParseMessage(message, deps, sliced), runParseMessage(message, deps, sliced)])));
      }
      expect(outcomes).toContain("succeeded");
      expect(await suggestionsOf(project.table_id)).toEqual(expected.suggestions);
      expect(await reportOf(versionId)).toEqual(expected.report);
    }
  });

  it("fails a file that is not JSON Lines, or a line that is not JSON, naming the line", async () => {
    const project = await schemaTable();
    const versionId = await llmOutputVersion(project, project.table_id, [JSON.stringify({ row_index: 0, question: "sentiment", value: "positive", agent: "m" }), "{not json"]);
    const outcomes = await drain(start(versionId), small);
    expect(outcomes.at(-1)).toBe("failed");
    const failed = await db.execute(sql`select parse_error from file_version where version_id = ${versionId}`);
    expect((failed.rows[0] as { parse_error: string }).parse_error).toContain("line 2");
  });
});

describe("POST /projects/{project_id}/uploads with file_type llm_output", () => {
  function upload(token: string, projectId: number, body: Record<string, unknown>) {
    return request("POST", `/api/v1/projects/${projectId}/uploads`, {
      token,
      body: { filename: "answers.jsonl", content_type: "application/x-ndjson", size_bytes: 100, file_type: "llm_output", ...body },
    });
  }

  it("needs a target_table_id it can see, and records it for the parse", async () => {
    const project = await annotationProject({ rows: 2 });
    const missing = await upload(project.client.token, project.project_id, {});
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([expect.objectContaining({ path: "body.target_table_id" })]);
    const dataset = await upload(project.client.token, project.project_id, { file_type: "dataset", content_type: "text/csv", filename: "a.csv", target_table_id: project.table_id });
    expect(dataset.status).toBe(422);

    const foreign = await annotationProject({ rows: 1 });
    const refused = await upload(project.client.token, project.project_id, { target_table_id: foreign.table_id });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: "body.target_table_id" })]);
    const stranger = await registerClient();
    expect((await upload(stranger.token, project.project_id, { target_table_id: project.table_id })).status).toBe(404);

    const created = await upload(project.client.token, project.project_id, { target_table_id: project.table_id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const recorded = await db.execute(sql`select target_table_id from suggestion_import where version_id = ${created.body.version_id}`);
    expect(recorded.rows).toEqual([{ target_table_id: project.table_id }]);
  });
});
