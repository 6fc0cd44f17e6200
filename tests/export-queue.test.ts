/**
 * The export consumer: resumable multipart writing, byte-identical on duplicate delivery
 * and after a crash at any part, retries with back-off, and the dead-letter verdict.
 *
 * Miniflare's R2 enforces the real limits (every part but the last at least 5 MiB and all
 * of one size), so these exports are a few 5 MiB parts long: ~3,000 rows of ~4 KiB.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { MIN_PART_SIZE } from "../src/features/exports/export-parts.ts";
import { writeExport, type ExportWorkOptions } from "../src/features/exports/export-writer.ts";
import worker from "../src/background.ts";
import { createLogger } from "../src/lib/logger.ts";
import type { ExportMessage } from "../src/queues/messages.ts";
import { sql, testDb } from "./helpers/db.ts";
import {
  createLargeExportFixture,
  exportedFiles,
  exportEvents,
  insertExport,
  sha256Hex,
  storedExport,
  type ExportFixture,
} from "./helpers/exports.ts";

const ROWS = 3000;
const ROW_BYTES = 4000;

const fresh = () => ({ id: crypto.randomUUID(), attempt: 1 });

const deps = () => ({ db: testDb(), bucket: env.FILES, logger: createLogger({ test: "export-queue" }, "error") });

/** Runs the worker's own queue handler on one batch, as the runtime would. */
async function deliver(queue: string, messages: { id: string; body: ExportMessage; attempts?: number }[]) {
  const batch = createMessageBatch<ExportMessage>(queue, messages.map((message) => ({
    id: message.id,
    timestamp: new Date(),
    attempts: message.attempts ?? 1,
    body: message.body,
  })));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  await waitOnExecutionContext(ctx);
  return getQueueResult(batch, ctx);
}

const exportQueue = "grandscale-export";
const deadLetterQueue = "grandscale-export-dlq";
const message = (exportId: number, id = crypto.randomUUID()) => ({ id, body: { kind: "export" as const, export_id: exportId } });

async function objectSha(key: string) {
  const object = await env.FILES.get(key);
  return sha256Hex(new Uint8Array(await object!.arrayBuffer()));
}

/**
 * The stored object is the one `sha256` names. A writer that produced the whole file
 * records the hash of the bytes it wrote, which "a clean run" holds to the stored bytes
 * themselves; one that resumed records the hash of the object read back from storage
 * (sha256OfObject). The other tests compare that record with the clean run's and the
 * object's size, so each 12 MB export is read back at most once.
 */
async function expectStoredObject(stored: { r2_key: string; sha256: string | null; size_bytes: number }, sha256: string) {
  expect(stored.sha256).toBe(sha256);
  expect((await env.FILES.head(stored.r2_key))?.size).toBe(stored.size_bytes);
}

/** A crash of the writer right after part `k` was uploaded and saved. */
const crashAfter = (k: number): ExportWorkOptions["onPartSaved"] => (part) => {
  if (part === k) throw new Error(`injected crash after part ${k}`);
};

let fixture: ExportFixture;
let cleanSha: string;
let cleanSize: number;

beforeAll(async () => {
  fixture = await createLargeExportFixture(ROWS, ROW_BYTES);
  const exportId = await insertExport(fixture, { format: "jsonl" });
  const result = await deliver(exportQueue, [message(exportId)]);
  expect(result.explicitAcks).toHaveLength(1);
  const clean = await storedExport(exportId);
  expect(clean.status).toBe("succeeded");
  cleanSha = clean.sha256!;
  cleanSize = clean.size_bytes;
}, 120_000);

describe("a clean run", () => {
  it("writes a multipart object whose sha256 and size are recorded, with its rows and file versions", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const parts: number[] = [];
    const outcome = await writeExport(deps(), exportId, { delivery: fresh(), partSize: MIN_PART_SIZE, onPartSaved: (part) => void parts.push(part) });
    expect(outcome).toBe("succeeded");
    const stored = await storedExport(exportId);
    expect(stored).toMatchObject({ status: "succeeded", row_count: ROWS, sha256: cleanSha, size_bytes: cleanSize });
    expect(cleanSize).toBeGreaterThan(2 * MIN_PART_SIZE);
    // Parts of exactly one size but the last, as R2 requires.
    expect(parts).toEqual([1, 2, 3]);
    expect(stored.uploaded_parts.map((part) => part.part_number)).toEqual([1, 2, 3]);
    expect(await objectSha(stored.r2_key)).toBe(cleanSha);
    expect(await exportedFiles(exportId)).toEqual([{ file_version_id: fixture.tables[0]!.version_id, row_count: ROWS }]);
    expect(await exportEvents(exportId)).toEqual(["export_log.succeed"]);
  });
});

describe("duplicate delivery", () => {
  it("two messages for one export in one batch: one file, byte-identical, one verdict", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const result = await deliver(exportQueue, [message(exportId), message(exportId)]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    const stored = await storedExport(exportId);
    expect(stored).toMatchObject({ status: "succeeded", sha256: cleanSha, row_count: ROWS });
    await expectStoredObject(stored, cleanSha);
    expect(await exportEvents(exportId)).toEqual(["export_log.succeed"]);
    const rows = await testDb().execute(sql`select count(*)::integer as n from export_log where r2_key = ${stored.r2_key}`);
    expect(rows.rows[0]).toEqual({ n: 1 });
  });

  it("two deliveries at the same time: one file, one verdict", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const [first, second] = await Promise.all([deliver(exportQueue, [message(exportId)]), deliver(exportQueue, [message(exportId)])]);
    expect([...first.explicitAcks, ...second.explicitAcks]).toHaveLength(2);
    const stored = await storedExport(exportId);
    expect(stored).toMatchObject({ status: "succeeded", sha256: cleanSha });
    expect(await exportEvents(exportId)).toEqual(["export_log.succeed"]);
  });
});

describe("a crash after part k", () => {
  for (const k of [1, 2, 3]) {
    it(`after part ${k} of 3: the redelivered message resumes after it and the file is byte-identical`, async () => {
      const exportId = await insertExport(fixture, { format: "jsonl" });
      const delivery = message(exportId);
      await expect(writeExport(deps(), exportId, { delivery: { id: delivery.id, attempt: 1 }, partSize: MIN_PART_SIZE, onPartSaved: crashAfter(k) }))
        .rejects.toThrow(`injected crash after part ${k}`);
      const crashed = await storedExport(exportId);
      expect(crashed.status).toBe("running");
      expect(crashed.uploaded_parts).toHaveLength(k);
      expect(crashed.size_bytes).toBe(k === 3 ? cleanSize : k * MIN_PART_SIZE);

      // The runtime redelivers the same message; the saved parts are not written again.
      const resumedParts: number[] = [];
      const outcome = await writeExport(deps(), exportId, { delivery: { id: delivery.id, attempt: 2 }, onPartSaved: (part) => void resumedParts.push(part) });
      expect(outcome).toBe("succeeded");
      expect(resumedParts).toEqual([1, 2, 3].filter((part) => part > k));
      const stored = await storedExport(exportId);
      expect(stored).toMatchObject({ status: "succeeded", sha256: cleanSha, size_bytes: cleanSize, row_count: ROWS, error: null });
      await expectStoredObject(stored, cleanSha);
      expect(await exportEvents(exportId)).toEqual(["export_log.succeed"]);
      expect(await exportedFiles(exportId)).toEqual([{ file_version_id: fixture.tables[0]!.version_id, row_count: ROWS }]);
    });
  }

  it("a crash in CSV after part 1, resumed through the queue handler, gives the clean CSV", async () => {
    const clean = await insertExport(fixture, { format: "csv" });
    expect(await writeExport(deps(), clean, { delivery: fresh(), partSize: MIN_PART_SIZE })).toBe("succeeded");
    const crashed = await insertExport(fixture, { format: "csv" });
    await expect(writeExport(deps(), crashed, { delivery: fresh(), partSize: MIN_PART_SIZE, onPartSaved: crashAfter(1) })).rejects.toThrow();
    const result = await deliver(exportQueue, [message(crashed)]);
    expect(result.explicitAcks).toHaveLength(1);
    const [cleanRow, resumedRow] = [await storedExport(clean), await storedExport(crashed)];
    expect(resumedRow.status).toBe("succeeded");
    await expectStoredObject(resumedRow, cleanRow.sha256!);
  });

  it("a killed attempt's claim: another message leaves it alone, the same message's next attempt takes over at once", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    await expect(writeExport(deps(), exportId, { delivery: fresh(), partSize: MIN_PART_SIZE, onPartSaved: crashAfter(1) })).rejects.toThrow();
    // A killed isolate releases nothing: its claim stays until it expires.
    await testDb().execute(sql`update export_log set lease_owner = 'killed-message 1 nonce', lease_expires_at = now() + interval '5 minutes'
      where export_id = ${exportId}`);
    expect(await writeExport(deps(), exportId, { delivery: fresh() })).toBe("skipped");
    expect(await writeExport(deps(), exportId, { delivery: { id: "killed-message", attempt: 1 } })).toBe("skipped");
    expect((await storedExport(exportId)).uploaded_parts).toHaveLength(1);
    expect(await writeExport(deps(), exportId, { delivery: { id: "killed-message", attempt: 2 } })).toBe("succeeded");
    expect((await storedExport(exportId)).sha256).toBe(cleanSha);
  });

  it("the same delivery running twice at once: one run writes, the other stands back", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const delivery = fresh();
    const outcomes = await Promise.all([
      writeExport(deps(), exportId, { delivery, partSize: MIN_PART_SIZE }),
      writeExport(deps(), exportId, { delivery, partSize: MIN_PART_SIZE }),
    ]);
    expect(outcomes.sort()).toEqual(["skipped", "succeeded"]);
    expect((await storedExport(exportId)).sha256).toBe(cleanSha);
    expect(await exportEvents(exportId)).toEqual(["export_log.succeed"]);
  });
});

describe("time slices", () => {
  it("stops after a part when its slice is over, asks to be continued, and the continued file is identical", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    const outcomes: string[] = [];
    for (let slice = 0; slice < 5; slice += 1) {
      const outcome = await writeExport(deps(), exportId, { delivery: fresh(), partSize: MIN_PART_SIZE, sliceMs: 0 });
      outcomes.push(outcome);
      if (outcome === "succeeded") break;
    }
    expect(outcomes).toEqual(["continue", "continue", "succeeded"]);
    expect((await storedExport(exportId)).sha256).toBe(cleanSha);
  });

  it("the consumer acks a sliced message and sends a fresh one for the export, which finishes it", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    // Every reading of the clock is ten minutes after the last: the slice ends after the first part.
    const realNow = Date.now.bind(Date);
    let skew = 0;
    vi.spyOn(Date, "now").mockImplementation(() => realNow() + (skew += 600_000));
    // Kept, not delivered: this test delivers the continuation itself.
    const send = vi.spyOn(env.EXPORT_QUEUE, "send").mockResolvedValue(undefined as never);
    let continuation: ExportMessage;
    try {
      const sliced = await deliver(exportQueue, [message(exportId)]);
      expect(sliced.explicitAcks).toHaveLength(1);
      expect(sliced.retryMessages).toEqual([]);
      expect(send.mock.calls).toEqual([[{ kind: "export", export_id: exportId }, { contentType: "json" }]]);
      continuation = send.mock.calls[0]![0] as ExportMessage;
    } finally {
      vi.restoreAllMocks();
    }
    const halfway = await storedExport(exportId);
    expect(halfway.status).toBe("running");
    expect(halfway.uploaded_parts).toHaveLength(1);

    const continued = await deliver(exportQueue, [{ id: crypto.randomUUID(), body: continuation }]);
    expect(continued.explicitAcks).toHaveLength(1);
    expect(await storedExport(exportId)).toMatchObject({ status: "succeeded", sha256: cleanSha, row_count: ROWS });
  });
});

describe("failures", () => {
  it("are retried with exponential delay and leave a readable error for the dead-letter verdict", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl", r2_key: null });
    const first = await deliver(exportQueue, [{ ...message(exportId), attempts: 1 }]);
    expect(first.retryMessages.map((retried) => retried.msgId)).toHaveLength(1);
    // getQueueResult does not report delays: a batch of our own records what the consumer asks for.
    const delays: (number | undefined)[] = [];
    for (const attempts of [2, 3, 4]) {
      const retrying = {
        id: crypto.randomUUID(), timestamp: new Date(), attempts, body: { kind: "export", export_id: exportId },
        ack: () => delays.push(-1),
        retry: (options?: QueueRetryOptions) => delays.push(options?.delaySeconds),
      };
      await worker.queue({ queue: exportQueue, messages: [retrying], ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch<unknown>, env);
    }
    expect(delays).toEqual([20, 40, 80]);
    const stored = await storedExport(exportId);
    expect(stored.status).toBe("running");
    expect(stored.error).toBe("The export has no storage key.");
  });

  it("the dead-letter consumer marks the export failed with its error and aborts the multipart upload", async () => {
    const exportId = await insertExport(fixture, { format: "jsonl" });
    await expect(writeExport(deps(), exportId, { delivery: fresh(), partSize: MIN_PART_SIZE, onPartSaved: crashAfter(1) })).rejects.toThrow();
    const running = await storedExport(exportId);
    expect(running.multipart_upload_id).not.toBeNull();

    const result = await deliver(deadLetterQueue, [message(exportId)]);
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await storedExport(exportId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("Unexpected internal error while writing the export.");
    expect(await exportEvents(exportId)).toEqual(["export_log.fail"]);
    // Aborted: the upload takes no more parts and cannot be completed.
    const upload = env.FILES.resumeMultipartUpload(failed.r2_key, failed.multipart_upload_id!);
    await expect(upload.uploadPart(2, new Uint8Array(10))).rejects.toThrow();
    await expect(upload.complete(failed.uploaded_parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })))).rejects.toThrow();
    expect(await env.FILES.head(failed.r2_key)).toBeNull();

    // A late duplicate of the export message changes nothing; a redelivered dead letter is harmless.
    expect(await writeExport(deps(), exportId, { delivery: fresh() })).toBe("skipped");
    expect((await deliver(deadLetterQueue, [message(exportId)])).explicitAcks).toHaveLength(1);
    expect(await exportEvents(exportId)).toEqual(["export_log.fail"]);
  });

  it("a message for an export that no longer exists is acknowledged and dropped", async () => {
    const result = await deliver(exportQueue, [message(2_000_000_000)]);
    expect(result.explicitAcks).toHaveLength(1);
  });
});
