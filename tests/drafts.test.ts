import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/env.ts";
import { RetryLater } from "../src/features/drafts/chat-completions.ts";
import { consumeDraftBatch, consumeDraftDeadLetters, DEAD_LETTER_DRAFT_ERROR } from "../src/features/drafts/draft-consumer.ts";
import { runDraftMessage, type DraftDependencies, type DraftOptions } from "../src/features/drafts/draft-run.ts";
import { createDraft } from "../src/features/drafts/drafts.service.ts";
import { ApiError } from "../src/lib/errors.ts";
import { createLogger } from "../src/lib/logger.ts";
import type { DraftMessage } from "../src/queues/messages.ts";
import { staffedJob } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

const QUESTIONS = [
  { name: "sentiment", type: "label", options: ["positive", "negative", "neutral"] },
  { name: "quality", type: "rating", min: 1, max: 5 },
  { name: "topics", type: "multi_label", options: ["a", "b"] },
];

async function schemaTable(rows = 10) {
  const staffed = await staffedJob({ rows });
  const put = await request("PUT", `/api/v1/projects/${staffed.project_id}/label-schema`, { token: staffed.pm.token, body: { questions: QUESTIONS } });
  expect(put.status).toBe(200);
  return staffed;
}

/** A run inserted straight into the database (no queue message), for driving the consumer by hand. */
async function insertDraft(table: { table_id: number; org_id: number; project_id: number }, scenario: string, rows: [number, number], questions = ["sentiment", "quality"]) {
  const result = await db.execute(sql`insert into draft_run (table_id, org_id, project_id, questions, instructions, model, row_start, row_end, next_row, total)
    values (${table.table_id}, ${table.org_id}, ${table.project_id}, ${JSON.stringify(questions)}::jsonb, ${`scenario:${scenario}`}, 'test-model',
      ${rows[0]}, ${rows[1]}, ${rows[0]}, ${rows[1] - rows[0] + 1})
    returning draft_id`);
  return (result.rows[0] as { draft_id: number }).draft_id;
}

function recordingQueue() {
  const sent: DraftMessage[] = [];
  return { sent, queue: { async send(body: DraftMessage) { sent.push(body); } } as unknown as Queue<DraftMessage> };
}

function deps(queue: Queue<DraftMessage>): DraftDependencies {
  return {
    db,
    queue,
    logger: createLogger({ test: "drafts" }, "error"),
    llm: { baseUrl: env.LLM_BASE_URL!, apiKey: env.LLM_API_KEY, model: "test-model", timeoutMs: 1000 },
    batchRows: 4,
  };
}

const fast: DraftOptions = { batchesPerMessage: 20, call: { attempts: 3, backoffMs: 10 } };
const message = (draftId: number): DraftMessage => ({ kind: "draft", draft_id: draftId });

async function callsOf(scenario: string): Promise<number[][]> {
  const response = await fetch(`${env.LLM_BASE_URL!.replace(/\/v1$/, "")}/__calls?scenario=${scenario}`);
  return response.json();
}

async function runOf(draftId: number) {
  const result = await db.execute(sql`select status, done, total, next_row, invalid, invalid_count, error from draft_run where draft_id = ${draftId}`);
  return result.rows[0] as { status: string; done: number; total: number; next_row: number; invalid: { row_index: number; question: string | null; message: string }[]; invalid_count: number; error: string | null };
}

async function suggestionsOf(tableId: number) {
  const result = await db.execute(sql`select row_index, question, agent, value from suggestion where table_id = ${tableId} order by row_index, question`);
  return result.rows as { row_index: number; question: string; agent: string; value: unknown }[];
}

describe("POST /file-tables/{table_id}/drafts and GET /drafts/{draft_id}", () => {
  it("queues a run (202, one round trip) that the draft queue works to the end: suggestions by the model, progress complete", async () => {
    const table = await schemaTable(10);
    const created = await request("POST", `/api/v1/file-tables/${table.table_id}/drafts`, {
      token: table.pm.token,
      body: { questions: ["sentiment", "quality"], instructions: "scenario:api" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.roundTrips).toBe(1);
    expect(created.body).toMatchObject({ table_id: table.table_id, status: "queued", progress: { done: 0, total: 10 }, model: "test-model", row_start: 0, row_end: 9 });

    const path = `/api/v1/drafts/${created.body.draft_id}`;
    let run = await request("GET", path, { token: table.pm.token });
    for (let waited = 0; run.body.status !== "succeeded" && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = await request("GET", path, { token: table.pm.token });
    }
    expect(run.status).toBe(200);
    expect(run.roundTrips).toBe(1);
    expect(run.body).toMatchObject({ status: "succeeded", progress: { done: 10, total: 10 }, invalid: [], invalid_count: 0 });
    expect(await callsOf("api")).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);

    const stored = await suggestionsOf(table.table_id);
    expect(stored).toHaveLength(20);
    expect(stored.slice(0, 2)).toEqual([
      { row_index: 0, question: "quality", agent: "test-model", value: 1 },
      { row_index: 0, question: "sentiment", agent: "test-model", value: "positive" },
    ]);
    const items = await request("GET", `/api/v1/annotation-jobs/${table.job.job_id}/items?limit=2`, { token: table.annotator.token });
    expect(items.body.data[1].suggestions).toEqual([
      expect.objectContaining({ question: "quality", agent: "test-model", value: 2 }),
      expect.objectContaining({ question: "sentiment", agent: "test-model", value: "negative" }),
    ]);
  });

  it("stops at the per-run row cap, refuses unknown questions and empty ranges, and is 503 without LLM_BASE_URL", async () => {
    const table = await schemaTable(20);
    const capped = await request("POST", `/api/v1/file-tables/${table.table_id}/drafts`, { token: table.pm.token, body: { questions: ["sentiment"], row_start: 2, instructions: "scenario:cap" } });
    expect(capped.status).toBe(202);
    expect(capped.body).toMatchObject({ row_start: 2, row_end: 13, progress: { done: 0, total: 12 } });

    const unknown = await request("POST", `/api/v1/file-tables/${table.table_id}/drafts`, { token: table.pm.token, body: { questions: ["sentiment", "nope"] } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ path: "body.questions.1", message: expect.stringContaining("not a question") }]);
    const beyond = await request("POST", `/api/v1/file-tables/${table.table_id}/drafts`, { token: table.pm.token, body: { questions: ["sentiment"], row_start: 20 } });
    expect(beyond.status).toBe(422);
    expect(beyond.body.errors).toEqual([expect.objectContaining({ path: "body.row_start" })]);

    const config = loadConfig({ ...env, LLM_BASE_URL: undefined });
    const ctx = { db, config, logger: createLogger({}, "error"), requestId: "r", principal: {} as never, idempotency: null };
    const refused = await createDraft(ctx, table.table_id, { questions: ["sentiment"] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(503);
    expect((refused as ApiError).message).toContain("LLM_BASE_URL");
  });
});

describe("the draft consumer", () => {
  it("waits out a 429 for its Retry-After, then goes on without repeating done rows", async () => {
    const table = await schemaTable(10);
    const draftId = await insertDraft(table, "rate-1", [0, 9]);
    const batch = createMessageBatch("grandscale-draft", [{ id: "m1", timestamp: new Date(), attempts: 1, body: message(draftId) }]);
    const ctx = createExecutionContext();
    const retry = vi.spyOn(batch.messages[0]!, "retry");
    await consumeDraftBatch(batch, { config: loadConfig(env), logger: createLogger({}, "error") });
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 7 });
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([{ msgId: "m1" }]);
    expect((await runOf(draftId)).done).toBe(0);

    const { queue } = recordingQueue();
    expect(await runDraftMessage(message(draftId), deps(queue), fast)).toBe("succeeded");
    expect(await callsOf("rate-1")).toEqual([[0, 1, 2, 3], [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it("retries 5xx and timeouts with back-off, and after the last attempt hands the message back to the queue", async () => {
    const table = await schemaTable(4);
    const { queue } = recordingQueue();
    const down = await insertDraft(table, "down-2", [0, 3]);
    expect(await runDraftMessage(message(down), deps(queue), fast)).toBe("succeeded");
    expect(await callsOf("down-2")).toHaveLength(3);

    const slow = await insertDraft(table, "slow-1", [0, 3]);
    expect(await runDraftMessage(message(slow), deps(queue), fast)).toBe("succeeded");
    expect(await callsOf("slow-1")).toHaveLength(2);

    const out = await insertDraft(table, "down-9", [0, 3]);
    const error = await runDraftMessage(message(out), deps(queue), fast).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RetryLater);
    expect(await runOf(out)).toMatchObject({ status: "queued", done: 0 });
  });

  it("records malformed and invalid answers per row, writing only valid ones", async () => {
    const table = await schemaTable(4);
    const { queue } = recordingQueue();
    const malformed = await insertDraft(table, "malformed", [0, 3]);
    expect(await runDraftMessage(message(malformed), deps(queue), fast)).toBe("succeeded");
    const run = await runOf(malformed);
    expect(run).toMatchObject({ status: "succeeded", done: 4, invalid_count: 4 });
    expect(run.invalid[0]).toEqual({ row_index: 0, question: null, message: expect.stringContaining("not the JSON") });
    expect(await suggestionsOf(table.table_id)).toEqual([]);

    const wrong = await insertDraft(table, "wrong", [0, 1]);
    expect(await runDraftMessage(message(wrong), deps(queue), fast)).toBe("succeeded");
    const judged = await runOf(wrong);
    expect(judged.invalid).toEqual([
      { row_index: 0, question: "sentiment", message: expect.stringContaining("expected one of the options") },
      { row_index: 1, question: "sentiment", message: expect.stringContaining("expected one of the options") },
    ]);
    expect((await suggestionsOf(table.table_id)).map((row) => `${row.row_index}:${row.question}`)).toEqual(["0:quality", "1:quality"]);
  });

  it("resumes after a crash after any batch without asking the model again for done rows, and ignores duplicates", async () => {
    for (const crashAfter of [1, 2]) {
      const table = await schemaTable(10);
      const scenario = `crash${crashAfter}`;
      const draftId = await insertDraft(table, scenario, [0, 9]);
      const { queue } = recordingQueue();
      const crashing: DraftOptions = { ...fast, afterCommit: (batch) => { if (batch === crashAfter) throw new Error("isolate killed"); } };
      await expect(runDraftMessage(message(draftId), deps(queue), crashing)).rejects.toThrow("isolate killed");
      expect(await runDraftMessage(message(draftId), deps(queue), fast)).toBe("succeeded");
      expect(await runDraftMessage(message(draftId), deps(queue), fast)).toBe("finished");
      expect(await callsOf(scenario)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
      expect(await runOf(draftId)).toMatchObject({ status: "succeeded", done: 10, total: 10 });
      expect(await suggestionsOf(table.table_id)).toHaveLength(20);
    }
  });

  it("hands a long run on to a new message, and a dead-lettered run fails with a readable error", async () => {
    const table = await schemaTable(10);
    const draftId = await insertDraft(table, "handoff", [0, 9]);
    const { queue, sent } = recordingQueue();
    expect(await runDraftMessage(message(draftId), deps(queue), { ...fast, batchesPerMessage: 1 })).toBe("handed-off");
    expect(sent).toEqual([message(draftId)]);
    expect((await runOf(draftId)).done).toBe(4);

    const batch = createMessageBatch("grandscale-draft-dlq", [{ id: "dead", timestamp: new Date(), attempts: 1, body: message(draftId) }]);
    await consumeDraftDeadLetters(batch, { config: loadConfig(env), logger: createLogger({}, "error") });
    expect(await runOf(draftId)).toMatchObject({ status: "failed", error: DEAD_LETTER_DRAFT_ERROR, done: 4 });
  });
});
