import { describe, expect, it } from "vitest";
import { annotationProject, eventActions, staffedJob } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

type Token = { token: string };

const suggestionsPath = (tableId: number) => `/api/v1/file-tables/${tableId}/suggestions`;

function suggest(account: Token, tableId: number, body: unknown, headers: Record<string, string> = {}) {
  return request("POST", suggestionsPath(tableId), { token: account.token, body, headers });
}

function putSchema(account: Token, projectId: number, questions: unknown[]) {
  return request("PUT", `/api/v1/projects/${projectId}/label-schema`, { token: account.token, body: { questions } });
}

const QUESTIONS = [
  { name: "sentiment", type: "label", options: ["positive", "negative"] },
  { name: "quality", type: "rating", min: 1, max: 5 },
  { name: "entities", type: "span", field: "text", options: ["person"] },
];

async function schemaProject(rows = 5) {
  const staffed = await staffedJob({ rows });
  const put = await putSchema(staffed.pm, staffed.project_id, QUESTIONS);
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  return staffed;
}

async function stored(tableId: number) {
  const result = await db.execute(sql`select row_index, question, agent, value, score from suggestion where table_id = ${tableId}
    order by row_index, question, agent`);
  return result.rows;
}

describe("POST /file-tables/{table_id}/suggestions", () => {
  it("upserts valid suggestions in one round trip, audited, and job items carry them", async () => {
    const { pm, table_id, project_id, job, annotator } = await schemaProject();
    // The first write of this isolate learns the table's schemas (a second round trip); later ones take one.
    const first = await suggest(pm, table_id, { agent: "model-a", suggestions: [{ row_index: 0, question: "sentiment", value: "positive", score: 0.9 }] });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ table_id, agent: "model-a", received: 1, created: 1, updated: 0 });

    const second = await suggest(pm, table_id, {
      agent: "model-a",
      suggestions: [
        { row_index: 0, question: "sentiment", value: "negative", score: 0.4 },
        { row_index: 1, question: "quality", value: 3 },
        { row_index: 2, question: "entities", value: [{ start: 0, end: 3, label: "person" }] },
      ],
    }, { "x-request-id": "suggest-second" });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.roundTrips).toBe(1);
    expect(second.body).toMatchObject({ received: 3, created: 2, updated: 1 });
    await suggest(pm, table_id, { agent: "model-b", suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }] });

    expect(await stored(table_id)).toEqual([
      { row_index: 0, question: "sentiment", agent: "model-a", value: "negative", score: 0.4 },
      { row_index: 0, question: "sentiment", agent: "model-b", value: "positive", score: null },
      { row_index: 1, question: "quality", agent: "model-a", value: 3, score: null },
      { row_index: 2, question: "entities", agent: "model-a", value: [{ start: 0, end: 3, label: "person" }], score: null },
    ]);
    const events = await eventActions({ entity_type: "file_table", entity_id: table_id });
    expect(events.filter((event) => event.request_id === "suggest-second")).toEqual([
      expect.objectContaining({ action: "suggestion.upsert", actor_id: pm.user_id, after: { agent: "model-a", created: 2, updated: 1 } }),
    ]);
    const audited = await db.execute(sql`select project_id from event_log where request_id = 'suggest-second'`);
    expect(audited.rows).toEqual([{ project_id }]);

    const items = await request("GET", `/api/v1/annotation-jobs/${job.job_id}/items`, { token: annotator.token });
    expect(items.status).toBe(200);
    expect(items.roundTrips).toBe(1);
    const byRow = Object.fromEntries(items.body.data.map((item: { row_index: number; suggestions: unknown[] }) => [item.row_index, item.suggestions]));
    expect(byRow[0]).toEqual([
      { question: "sentiment", agent: "model-a", value: "negative", score: 0.4, updated_at: expect.stringMatching(/Z$/) },
      { question: "sentiment", agent: "model-b", value: "positive", score: null, updated_at: expect.any(String) },
    ]);
    expect(byRow[1]).toEqual([expect.objectContaining({ question: "quality", value: 3 })]);
    expect(byRow[3]).toEqual([]);
  });

  it("accepts any JSON while no project using the table has a schema, in one round trip", async () => {
    const { pm, table_id } = await annotationProject({ rows: 2 });
    const response = await suggest(pm, table_id, { agent: "free", suggestions: [{ row_index: 1, question: "anything", value: { nested: [1, 2] } }] });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(await stored(table_id)).toEqual([{ row_index: 1, question: "anything", agent: "free", value: { nested: [1, 2] }, score: null }]);
  });

  it("answers 422 for a null value while no project using the table has a schema, and writes nothing", async () => {
    const { pm, table_id } = await annotationProject({ rows: 2 });
    const response = await suggest(pm, table_id, { agent: "free", suggestions: [{ row_index: 0, question: "anything", value: 1 }, { row_index: 1, question: "anything", value: null }] });
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    expect((response.body as { errors: { path: string; message: string }[] }).errors).toEqual([
      { path: "body.suggestions.1.value", message: "a suggestion needs a value (null answers nothing)" },
    ]);
    expect(await stored(table_id)).toEqual([]);
  });

  it("answers 422 with the path of every invalid suggestion and writes nothing", async () => {
    const { pm, table_id } = await schemaProject(3);
    const response = await suggest(pm, table_id, {
      agent: "model-a",
      suggestions: [
        { row_index: 0, question: "sentiment", value: "positive" },
        { row_index: 0, question: "quality", value: 9 },
        { row_index: 1, question: "unknown_question", value: "x" },
        { row_index: 1, question: "sentiment", value: null },
      ],
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      { path: "body.suggestions.1.value", message: expect.stringContaining("integer from 1 to 5") },
      { path: "body.suggestions.2.question", message: expect.stringContaining("unknown question") },
      { path: "body.suggestions.3.value", message: expect.stringContaining("needs a value") },
    ]);

    const outside = await suggest(pm, table_id, {
      agent: "model-a",
      suggestions: [
        { row_index: 3, question: "sentiment", value: "positive" },
        { row_index: 0, question: "entities", value: [{ start: 0, end: 500, label: "person" }] },
      ],
    });
    expect(outside.status).toBe(422);
    expect(outside.body.errors).toEqual([{ path: "body.suggestions.0.row_index", message: expect.stringContaining("has 3 rows") }]);
    const span = await suggest(pm, table_id, { agent: "model-a", suggestions: [{ row_index: 0, question: "entities", value: [{ start: 0, end: 500, label: "person" }] }] });
    expect(span.status).toBe(422);
    expect(span.body.errors).toEqual([{ path: "body.suggestions.0.value", message: expect.stringContaining("beyond the end of column \"text\"") }]);

    const duplicate = await suggest(pm, table_id, {
      agent: "model-a",
      suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }, { row_index: 0, question: "sentiment", value: "negative" }],
    });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.errors).toEqual([{ path: "body.suggestions.1", message: expect.stringContaining("already suggestion 0") }]);

    const tooMany = await suggest(pm, table_id, {
      agent: "bulk",
      suggestions: Array.from({ length: 5001 }, (_, i) => ({ row_index: i, question: "q", value: 1 })),
    });
    expect(tooMany.status).toBe(422);
    expect(await stored(table_id)).toEqual([]);
  });

  it("validates against the schema of every project using the table, and sees a schema change at once", async () => {
    const { pm, table_id } = await schemaProject(3);
    // A second project of another pm runs a job over the same table with a schema of its own.
    const other = await annotationProject({ rows: 1 });
    await putSchema(other.pm, other.project_id, [{ name: "sentiment", type: "label", options: ["positive", "mixed"] }, { name: "note", type: "text" }]);
    await db.execute(sql`insert into annotation_job (project_id, table_id, name, row_start, row_end)
      values (${other.project_id}, ${table_id}, 'shared', 0, 2)`);

    const both = await suggest(pm, table_id, { agent: "m", suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }, { row_index: 0, question: "note", value: "ok" }] });
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    const onlyOne = await suggest(pm, table_id, { agent: "m", suggestions: [{ row_index: 1, question: "sentiment", value: "negative" }] });
    expect(onlyOne.status).toBe(422);
    expect(onlyOne.body.errors).toEqual([{ path: "body.suggestions.0.value", message: expect.stringContaining(`project ${other.project_id}`) }]);

    // The schema changes behind this isolate's back: the write sees the new version.
    await putSchema(other.pm, other.project_id, [{ name: "sentiment", type: "label", options: ["positive", "mixed", "negative"] }]);
    const after = await suggest(pm, table_id, { agent: "m", suggestions: [{ row_index: 1, question: "sentiment", value: "negative" }] });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
  });

  it("is 404 for a table the caller cannot see and 403 without file:update", async () => {
    const { table_id, annotator, client } = await schemaProject(1);
    const member = await createUser("client_member", client.org_id);
    const refused = await suggest(member, table_id, { agent: "m", suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }] });
    expect(refused.status).toBe(403);
    const stranger = await registerClient();
    const missing = await suggest(stranger, table_id, { agent: "m", suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }] });
    expect(missing.status).toBe(404);
    const reviewer = await createUser("reviewer");
    expect((await suggest(reviewer, table_id, { agent: "m", suggestions: [{ row_index: 0, question: "sentiment", value: "positive" }] })).status).toBe(404);
    expect((await suggest(annotator, 2_147_483_647, { agent: "m", suggestions: [{ row_index: 0, question: "x", value: 1 }] })).status).toBe(404);
    expect(await stored(table_id)).toEqual([]);
  });

  it("takes 5,000 suggestions in one request", async () => {
    const { pm, table_id } = await annotationProject({ rows: 2500 });
    const suggestions = Array.from({ length: 5000 }, (_, i) => ({ row_index: i % 2500, question: i < 2500 ? "a" : "b", value: i, score: i / 5000 }));
    const response = await suggest(pm, table_id, { agent: "bulk", suggestions });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ created: 5000, updated: 0 });
    const count = await db.execute(sql`select count(*)::integer as n from suggestion where table_id = ${table_id}`);
    expect(count.rows).toEqual([{ n: 5000 }]);
  });
});
