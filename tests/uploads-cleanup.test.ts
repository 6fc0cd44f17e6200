/**
 * The scheduled sweep (the Worker's `scheduled` handler, as the cron trigger runs it):
 * abandoned uploads are aborted in R2 and their rows removed; stalled parses are
 * re-queued. Uploads are made to look old by moving their timestamps back.
 */
import { createScheduledController, env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/env.ts";
import { sweepUploads } from "../src/features/uploads/uploads.cleanup.ts";
import worker from "../src/background.ts";
import { runParseMessage, type ParseOptions, type ParseOutcome } from "../src/features/parsing/parse-run.ts";
import { createLogger } from "../src/lib/logger.ts";
import type { ParseMessage } from "../src/queues/messages.ts";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient, type Account } from "./helpers/factories.ts";
import { allRowsOf, createParseTarget, parseDependencies, recordingQueue } from "./helpers/parse.ts";
import { eventsOf, insertFile, insertProject, insertVersion, type ProjectFixture } from "./helpers/projects.ts";
import { completeUpload, csvBytes, objectKeyOf, putObject, startUpload, uploadFile, type MultipartUpload } from "./helpers/uploads.ts";

const db = testDb();
const MIB = 1024 * 1024;

let client: Account;
let project: ProjectFixture;

beforeAll(async () => {
  client = await registerClient();
  project = await insertProject(client.org_id);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The Worker's `scheduled` entry point, as the cron trigger runs it: a sweep of the whole
 * database. Only the first test goes through it; what it acts on (uploads an hour past
 * expiry, parses queued for 15 minutes) is made only by this file, in its organization.
 */
async function runScheduled() {
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" }), env);
}

/** The same sweep over this file's organization (or `orgId`'s) only, so it never reaches other files' rows. */
async function sweepOwn(orgId = client.org_id) {
  const config = loadConfig(env);
  await sweepUploads({ db: testDb(), config, logger: createLogger({ test: "uploads-cleanup" }, "error"), requestId: "cron:test", orgId });
}

/** The parse messages a sweep sends, kept rather than delivered: no parse runs in the background after a test. */
async function parseMessagesOfSweep(orgId?: number): Promise<ParseMessage[]> {
  const queue = vi.spyOn(env.PARSE_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
  await sweepOwn(orgId);
  const sent = queue.mock.calls.flatMap(([messages]) => [...messages].map((message) => message.body as ParseMessage));
  queue.mockRestore();
  return sent;
}

/** Delivers `first`, then every message the parse sends, until none is left. */
async function drainParse(first: ParseMessage, options: ParseOptions): Promise<ParseOutcome[]> {
  const { queue, sent } = recordingQueue();
  const outcomes: ParseOutcome[] = [];
  for (let next: ParseMessage | undefined = first; next; next = sent.shift()) outcomes.push(await runParseMessage(next, parseDependencies(queue), options));
  return outcomes;
}

/** Moves an upload's life back so that it expired `ago` (a Postgres interval) ago. */
async function expire(uploadId: number, ago: string) {
  await db.execute(sql`update upload set created_at = now() - interval '1 day', expires_at = now() - ${ago}::interval
    where upload_id = ${uploadId}`);
}

async function exists(table: "upload" | "file_version" | "file", column: string, id: number): Promise<boolean> {
  const result = await db.execute(sql`select 1 from ${sql.identifier(table)} where ${sql.identifier(column)} = ${id}`);
  return result.rows.length > 0;
}

describe("the scheduled sweep", () => {
  it("removes an abandoned single-PUT upload: its stray bytes, its version, the file it created, with audit rows", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    expect((await putObject(started.body, bytes)).status).toBe(200);
    const key = await objectKeyOf(started.body.upload_id);
    await expire(started.body.upload_id, "2 hours");

    await runScheduled();

    expect(await exists("upload", "upload_id", started.body.upload_id)).toBe(false);
    expect(await exists("file_version", "version_id", started.body.version_id)).toBe(false);
    expect(await exists("file", "file_id", started.body.file_id)).toBe(false);
    expect(await env.FILES.head(key)).toBeNull();
    const [versionEvent] = (await eventsOf("file_version", started.body.version_id)).filter((event) => event.action === "file_version.expire");
    expect(versionEvent).toMatchObject({
      actor_id: null,
      org_id: client.org_id,
      project_id: project.project_id,
      before: { status: "pending", upload_id: started.body.upload_id, file_id: started.body.file_id, filename: "data.csv" },
    });
    expect(versionEvent!.request_id).toMatch(/^cron:/);
    const actors = await db.execute(sql`select actor_kind from event_log where entity_type = 'file' and entity_id = ${started.body.file_id} and action = 'file.expire'`);
    expect(actors.rows).toEqual([{ actor_kind: "system" }]);
  });

  it("aborts an abandoned multipart upload in R2", async () => {
    const bytes = new Uint8Array(5 * MIB + 1).fill(66);
    const started = await startUpload(client.token, project.project_id, bytes);
    const upload = started.body as MultipartUpload;
    const firstPart = await fetch(upload.parts[0]!.url, { method: "PUT", body: bytes.slice(0, upload.part_size) });
    expect(firstPart.status).toBe(200);
    const row = await db.execute(sql`select r2_key, multipart_upload_id from upload where upload_id = ${upload.upload_id}`);
    const { r2_key, multipart_upload_id } = row.rows[0] as { r2_key: string; multipart_upload_id: string };
    await expire(upload.upload_id, "3 hours");

    await sweepOwn();

    expect(await exists("upload", "upload_id", upload.upload_id)).toBe(false);
    const aborted = env.FILES.resumeMultipartUpload(r2_key, multipart_upload_id);
    await expect(aborted.uploadPart(2, "more bytes")).rejects.toThrow(/multipart upload does not exist|NoSuchUpload|10024/i);
    const secondPart = await fetch(upload.parts[1]!.url, { method: "PUT", body: bytes.slice(upload.part_size) });
    expect(secondPart.status).toBe(404);
  });

  it("keeps a file with completed versions when only its new version's upload is abandoned", async () => {
    const { version } = await uploadFile(client.token, project.project_id, csvBytes());
    const bytes = csvBytes(7);
    const started = await startUpload(client.token, project.project_id, bytes, { file_id: version.file_id });
    await expire(started.body.upload_id, "90 minutes");

    await sweepOwn();

    expect(await exists("file_version", "version_id", started.body.version_id)).toBe(false);
    const file = await db.execute(sql`select current_version_id, status from file where file_id = ${version.file_id}`);
    expect(file.rows[0]).toEqual({ current_version_id: version.version_id, status: "ready_for_annotation" });
    expect((await eventsOf("file", version.file_id)).map((event) => event.action)).not.toContain("file.expire");
  });

  it("leaves alone uploads inside the grace hour after expiry, and completed ones", async () => {
    const bytes = csvBytes();
    const recent = await startUpload(client.token, project.project_id, bytes);
    await expire(recent.body.upload_id, "10 minutes");
    const done = await startUpload(client.token, project.project_id, bytes);
    await putObject(done.body, bytes);
    expect((await completeUpload(client.token, done.body.upload_id)).status).toBe(200);
    await expire(done.body.upload_id, "5 hours");

    await sweepOwn();

    expect(await exists("upload", "upload_id", recent.body.upload_id)).toBe(true);
    expect(await exists("file_version", "version_id", done.body.version_id)).toBe(true);
    expect(await exists("upload", "upload_id", done.body.upload_id)).toBe(true);
  });

  it("re-sends the parse message of a version left queued, once per quarter hour", async () => {
    const fileId = await insertFile(project, { status: "ready_for_annotation" });
    const versionId = await insertVersion(fileId);
    const stored = await db.execute(sql`update file_version set parse_status = 'queued', parse_cursor = null, parse_progress_done = 0,
        parse_progress_total = null, updated_at = now() - interval '1 hour'
      where version_id = ${versionId} returning r2_key`);
    await env.FILES.put((stored.rows[0] as { r2_key: string }).r2_key, csvBytes());

    expect(await parseMessagesOfSweep()).toContainEqual({ kind: "parse", version_id: versionId });
    expect(await parseMessagesOfSweep()).not.toContainEqual({ kind: "parse", version_id: versionId });
  });

  it("re-sends a reparse's message with its generation, which the consumer would otherwise take for a stale one", async () => {
    const target = await createParseTarget({ filename: "reparse.csv", contentType: "text/csv", bytes: csvOfRows(3) });
    await db.execute(sql`update file_version set parse_generation = 2, updated_at = now() - interval '1 hour' where version_id = ${target.version_id}`);
    expect(await parseMessagesOfSweep(target.org_id)).toEqual([{ kind: "parse", version_id: target.version_id, generation: 2 }]);
  });

  it("re-sends the message of a parse running with nothing committed for 30 minutes, and the parse ends with every row once", async () => {
    const target = await createParseTarget({ filename: "stalled.csv", contentType: "text/csv", bytes: csvOfRows(40) });
    const options: ParseOptions = { chunkRows: 7, chunkPayloadBytes: 1_000_000, sliceMs: 60_000 };
    // The delivery is killed after its third chunk and its message is lost with it.
    const killed = { ...options, faults: { afterCommit: (chunk: number) => { if (chunk === 3) throw new Error("isolate killed"); } } };
    await expect(runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(recordingQueue().queue), killed)).rejects.toThrow("isolate killed");
    const stalled = await db.execute(sql`select parse_status, parse_cursor is not null as has_cursor from file_version where version_id = ${target.version_id}`);
    expect(stalled.rows[0]).toEqual({ parse_status: "running", has_cursor: true });

    // Still within the longest retry delay and a slice: its message may yet come.
    await db.execute(sql`update file_version set updated_at = now() - interval '20 minutes' where version_id = ${target.version_id}`);
    expect(await parseMessagesOfSweep(target.org_id)).toEqual([]);

    await db.execute(sql`update file_version set updated_at = now() - interval '31 minutes' where version_id = ${target.version_id}`);
    const resent = await parseMessagesOfSweep(target.org_id);
    expect(resent).toEqual([{ kind: "parse", version_id: target.version_id, offset: await cursorOffset(target.version_id) }]);
    expect(await parseMessagesOfSweep(target.org_id)).toEqual([]);

    expect((await drainParse(resent[0]!, options)).at(-1)).toBe("succeeded");
    await expectEveryRowOnce(target.version_id, 40);
  });

  it("carries a parse on from its cursor when the hand-off message the cursor records as sent was lost", async () => {
    const target = await createParseTarget({ filename: "lost-hand-off.csv", contentType: "text/csv", bytes: csvOfRows(40) });
    const options: ParseOptions = { chunkRows: 7, chunkPayloadBytes: 1_000_000, sliceMs: 0 };
    // A slice of 0 ms commits one chunk and hands the rest to a new message, which is lost.
    const { queue, sent } = recordingQueue();
    expect(await runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(queue), options)).toBe("chunk-committed");
    expect(sent).toHaveLength(1);
    const handedOff = await db.execute(sql`select (parse_cursor ->> 'handed_off')::boolean as handed_off from file_version where version_id = ${target.version_id}`);
    expect(handedOff.rows[0]).toEqual({ handed_off: true });
    // Without the offset the consumer would take the message for a duplicate of the lost one.
    expect(await runParseMessage({ kind: "parse", version_id: target.version_id }, parseDependencies(recordingQueue().queue), options)).toBe("duplicate");

    await db.execute(sql`update file_version set updated_at = now() - interval '31 minutes' where version_id = ${target.version_id}`);
    const resent = await parseMessagesOfSweep(target.org_id);
    expect(resent).toEqual([{ kind: "parse", version_id: target.version_id, offset: sent[0]!.offset }]);
    expect((await drainParse(resent[0]!, options)).at(-1)).toBe("succeeded");
    await expectEveryRowOnce(target.version_id, 40);
  });
});

/** A CSV of `rows` rows `id,label`. */
function csvOfRows(rows: number): Uint8Array {
  const lines = ["id,label", ...Array.from({ length: rows }, (_, i) => `${i},row ${i}`)];
  return new TextEncoder().encode(`${lines.join("\n")}\n`);
}

async function cursorOffset(versionId: number): Promise<number> {
  const result = await db.execute(sql`select (parse_cursor ->> 'offset')::int as offset from file_version where version_id = ${versionId}`);
  return (result.rows[0] as { offset: number }).offset;
}

/** The version's rows are the CSV's `rows` rows (csvOfRows), each once, in order. */
async function expectEveryRowOnce(versionId: number, rows: number) {
  const written = await allRowsOf(versionId);
  expect(written.map((row) => row.row_index)).toEqual([...Array(rows).keys()]);
  expect(written.map((row) => row.data)).toEqual([...Array(rows).keys()].map((i) => ({ id: String(i), label: `row ${i}` })));
}
