/// <reference types="vite/client" />
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/env.ts";
import { DEFAULT_PARSE_OPTIONS, runParseMessage, type ChunkFaults, type ParseOptions, type ParseOutcome } from "../src/features/parsing/parse-run.ts";
import { createLogger } from "../src/lib/logger.ts";
import { consumeParseBatch, DEAD_LETTER_PARSE_ERROR } from "../src/queues/parse.ts";
import type { ParseMessage } from "../src/queues/messages.ts";
import { testDb } from "./helpers/db.ts";
import { allRowsOf, createParseTarget, deliverBatch, parseDependencies, parseSnapshot, recordingQueue } from "./helpers/parse.ts";

/**
 * The parse consumer under at-least-once delivery. Chunked runs use a recording queue
 * and deliver its messages one by one. Where a message's commits in flight could race,
 * a test holds them back (`sendCommit`) or accepts each outcome the race allows.
 */
const encoder = new TextEncoder();

/** 40 rows, some with quoted line breaks and delimiters, so chunk cuts land in awkward places. */
function sampleCsv(rows = 40): Uint8Array {
  const lines = ["id,label,amount"];
  for (let i = 0; i < rows; i++) lines.push(i % 3 === 0 ? `${i},"multi\nline, ${i}",${i}.5` : `${i},plain ${i},${i}`);
  return encoder.encode(`${lines.join("\r\n")}\r\n`);
}

/** The sample CSV as a file version, with a recording queue and the consumer's dependencies. */
async function sampleTarget() {
  const bytes = sampleCsv();
  const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes });
  const { queue, sent } = recordingQueue();
  return { bytes, target, sent, deps: parseDependencies(queue) };
}

function start(versionId: number): ParseMessage {
  return { kind: "parse", version_id: versionId };
}

/** Delivers `first`, then every message the work sends, in order, until none is left. */
async function drain(first: ParseMessage, options: ParseOptions) {
  const { queue, sent } = recordingQueue();
  const deps = parseDependencies(queue);
  const delivered: ParseMessage[] = [];
  const outcomes: ParseOutcome[] = [];
  for (let next: ParseMessage | undefined = first; next; next = sent.shift()) {
    delivered.push(next);
    outcomes.push(await runParseMessage(next, deps, options));
  }
  return { delivered, outcomes };
}

async function cleanRun(bytes: Uint8Array, filename = "sample.csv", contentType = "text/csv") {
  const target = await createParseTarget({ filename, contentType, bytes });
  await drain(start(target.version_id), DEFAULT_PARSE_OPTIONS);
  return parseSnapshot(target.version_id);
}

function batchOf(queue: string, bodies: ParseMessage[], attempts = 1) {
  return createMessageBatch(
    queue,
    bodies.map((body, index) => ({ id: `message-${index}`, timestamp: new Date(), attempts, body })),
  );
}

/** A promise to resolve from outside: the tests' hold on a commit until another has been answered. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const small: ParseOptions = { chunkRows: 7, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes };

describe("chunking", () => {
  it("cuts a long file into chunks, each sent only after its rows and progress are committed", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();

    expect(await runParseMessage(start(target.version_id), deps, small)).toBe("chunk-committed");
    expect(sent).toHaveLength(1);
    const [next] = sent;
    // The next chunk starts right after row_index 6, i.e. after the header and 7 records.
    const text = new TextDecoder().decode(bytes);
    const afterSeventhRow = encoder.encode(text.slice(0, text.indexOf("\r\n7,") + 2)).length;
    expect(next).toEqual({ kind: "parse", version_id: target.version_id, generation: 0, offset: afterSeventhRow });
    const progress = await testDb().execute(sql`
      select parse_status, parse_progress_done::int as done, parse_progress_total::int as total, (parse_cursor->>'handed_off')::boolean as handed_off
      from file_version where version_id = ${target.version_id}`);
    expect(progress.rows[0]).toEqual({ parse_status: "running", done: afterSeventhRow, total: bytes.length, handed_off: true });
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    sent.length = 0;
    const rest = await drain(next!, small);
    expect(rest.outcomes).toEqual(["chunk-committed", "chunk-committed", "chunk-committed", "chunk-committed", "succeeded"]);
    expect(rest.delivered.map((message) => message.offset)).toEqual([...rest.delivered.map((message) => message.offset)].sort((a, b) => a! - b!));
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
  });

  it("cuts by payload size as well as by row count", async () => {
    const bytes = sampleCsv(20);
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes });
    const { outcomes } = await drain(start(target.version_id), { chunkRows: 1_000, chunkPayloadBytes: 300 });
    expect(outcomes.length).toBeGreaterThan(3);
    expect(outcomes.at(-1)).toBe("succeeded");
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
  });

  it("streams a file of many R2 pieces, in UTF-8 and UTF-16, to the same rows", async () => {
    const text = new TextDecoder().decode(sampleCsv(6_000)).replaceAll("plain", "plain é🎉");
    const utf8 = encoder.encode(text);
    const utf16 = new Uint8Array(2 + text.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) new DataView(utf16.buffer).setUint16(2 + i * 2, text.charCodeAt(i), true);
    expect(utf8.length).toBeGreaterThan(2 * 64 * 1024);

    const chunked: ParseOptions = { chunkRows: 1_500, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes };
    const snapshots = [];
    for (const bytes of [utf8, utf16]) {
      const target = await createParseTarget({ filename: "big.csv", contentType: "text/csv", bytes });
      const { outcomes } = await drain(start(target.version_id), chunked);
      expect(outcomes).toEqual(["chunk-committed", "chunk-committed", "chunk-committed", "succeeded"]);
      snapshots.push(await parseSnapshot(target.version_id));
    }
    expect(snapshots[0]!.tables[0]!.row_count).toBe(6_000);
    expect(snapshots[1]).toEqual(snapshots[0]);
  });

  const fixtures = import.meta.glob(
    [
      "./fixtures/parse/rfc4180.csv",
      "./fixtures/parse/types-bom.csv",
      "./fixtures/parse/utf16le.tsv",
      "./fixtures/parse/utf16be.tsv",
      "./fixtures/parse/array.json",
      "./fixtures/parse/rows.jsonl",
      "./fixtures/parse/notes.txt",
      "./fixtures/parse/guide.md",
    ],
    { query: "?url&inline", import: "default", eager: true },
  ) as Record<string, string>;
  const contentTypes: Record<string, string> = { csv: "text/csv", tsv: "text/tab-separated-values", json: "application/json", jsonl: "application/x-ndjson", txt: "text/plain", md: "text/markdown" };

  it("finds every listed fixture (a missing one would silently drop its test)", () => {
    expect(Object.keys(fixtures).map((path) => path.slice(path.lastIndexOf("/") + 1)).sort()).toEqual([
      "array.json", "guide.md", "notes.txt", "rfc4180.csv", "rows.jsonl", "types-bom.csv", "utf16be.tsv", "utf16le.tsv",
    ]);
  });

  for (const [path, url] of Object.entries(fixtures)) {
    const filename = path.slice(path.lastIndexOf("/") + 1);
    it(`resumes ${filename} after every single row with the same result`, async () => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const contentType = contentTypes[filename.slice(filename.lastIndexOf(".") + 1)]!;
      const target = await createParseTarget({ filename, contentType, bytes });
      const { outcomes } = await drain(start(target.version_id), { chunkRows: 1, chunkPayloadBytes: DEFAULT_PARSE_OPTIONS.chunkPayloadBytes });
      const snapshot = await parseSnapshot(target.version_id);
      // One chunk per row; the last one also finds the end of the file.
      expect(outcomes).toEqual([...Array(snapshot.tables[0]!.row_count - 1).fill("chunk-committed"), "succeeded"]);
      expect(snapshot).toEqual(await cleanRun(bytes, filename, contentType));
    });
  }
});

describe("time slices: one message, many chunks", () => {
  const sliced: ParseOptions = { ...small, sliceMs: 60_000 };

  it("commits chunk after chunk, each in its own statement, within one message", async () => {
    const bytes = sampleCsv();
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes });
    const { queue, sent } = recordingQueue();
    const committed: number[] = [];
    const outcome = await runParseMessage(start(target.version_id), parseDependencies(queue), { ...sliced, faults: { afterCommit: (chunk) => void committed.push(chunk) } });
    expect(outcome).toBe("succeeded");
    expect(committed).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
  });

  it("a slice of 0 ms commits one chunk and hands the rest to a new message", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const { queue, sent } = recordingQueue();
    expect(await runParseMessage(start(target.version_id), parseDependencies(queue), { ...small, sliceMs: 0 })).toBe("chunk-committed");
    expect(sent).toHaveLength(1);
    expect(await allRowsOf(target.version_id)).toHaveLength(7);
  });

  it("a crash after chunk k of a slice: the redelivered message sends the rest, ending with a clean run's rows", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const crashing: ParseOptions = { ...sliced, faults: { afterCommit: (chunk) => { if (chunk === 3) throw new Error("isolate killed"); } } };

    await expect(runParseMessage(start(target.version_id), deps, crashing)).rejects.toThrow("isolate killed");
    // Chunk 4's commit was already in flight (PARSE_LIMITS.commitsInFlight): it landed, or
    // it reached the database before chunk 3's and claimed nothing.
    const written = (await allRowsOf(target.version_id)).map((row) => row.row_index);
    expect([[...Array(21).keys()], [...Array(28).keys()]]).toContainEqual(written);
    expect(sent).toEqual([]);

    expect(await runParseMessage(start(target.version_id), deps, sliced)).toBe("handed-off");
    const { outcomes } = await drain(sent.shift()!, sliced);
    expect(outcomes).toEqual(["succeeded"]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(40).keys()]);
  });

  it("a write failing while the previous chunk commits leaves that chunk in and retries the rest", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const failing: ParseOptions = { ...sliced, faults: { beforeCommit: (chunk) => { if (chunk === 4) throw new Error("connection reset"); } } };

    await expect(runParseMessage(start(target.version_id), deps, failing)).rejects.toThrow("connection reset");
    // Chunk 3's commit, in flight, landed; or it reached the database before chunk 2's and
    // claimed nothing, and the failure came before it could be sent again.
    const written = (await allRowsOf(target.version_id)).map((row) => row.row_index);
    expect([[...Array(21).keys()], [...Array(14).keys()]]).toContainEqual(written);

    const { outcomes } = await drain(start(target.version_id), sliced);
    expect(outcomes).toEqual(["handed-off", "succeeded"]);
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
  });

  it("two deliveries of one message at once: one does the work, each row is written once", async () => {
    const bytes = sampleCsv();
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes });
    const { queue, sent } = recordingQueue();
    const deps = parseDependencies(queue);
    const outcomes = await Promise.all([runParseMessage(start(target.version_id), deps, sliced), runParseMessage(start(target.version_id), deps, sliced)]);
    // The twin that arrives once the first has committed a chunk cannot tell a live parse
    // from a crashed one: it hands the parse off (a message for the committed cursor)
    // rather than give up on it. Either way one delivery did the work, and the message
    // handed off finds the parse finished.
    expect(outcomes.sort()).toContain("succeeded");
    expect([["duplicate", "succeeded"], ["handed-off", "succeeded"]]).toContainEqual(outcomes);
    for (const handedOff of sent.splice(0)) expect(await runParseMessage(handedOff, deps, sliced)).toBe("finished");
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect(await allRowsOf(target.version_id)).toHaveLength(40);
  });

  it("a commit that reaches the database before its predecessor has landed claims nothing, and is sent again once it has", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const claims: string[] = [];
    const committed: number[] = [];
    const thirdAnswered = deferred();
    const faults: ChunkFaults = {
      afterCommit: (chunk) => void committed.push(chunk),
      async sendCommit(chunk, send) {
        // Chunk 2's commit is held back until chunk 3's has been answered.
        if (chunk === 2) await thirdAnswered.promise;
        const claimed = await send();
        claims.push(`${chunk}:${claimed}`);
        if (chunk === 3) thirdAnswered.resolve();
        return claimed;
      },
    };
    expect(await runParseMessage(start(target.version_id), deps, { ...sliced, faults })).toBe("succeeded");
    // Chunk 3, known to have claimed nothing, was sent again before chunk 4 went out.
    expect(claims.slice(0, 5)).toEqual(["1:true", "3:false", "2:true", "3:true", "4:true"]);
    expect(committed).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(40).keys()]);
  });

  // Needs a server: the embedded PGlite runs one statement at a time, in the order they arrive.
  it("a commit sent while its predecessor's waits on the cursor's row lock claims once that has committed, without being sent again", async (context) => {
    const db = testDb();
    const { version } = (await db.execute(sql`select version()`)).rows[0] as { version: string };
    if (version.includes("PGlite")) return context.skip();
    const { bytes, target, sent, deps } = await sampleTarget();
    const poll = async <T>(what: string, found: () => Promise<T | null>): Promise<T> => {
      for (let polls = 0; ; polls++) {
        expect(polls, what).toBeLessThan(500);
        const value = await found();
        if (value !== null) return value;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const marker = `cursor lock holder ${target.version_id}`;
    const holderPid = () => poll("the lock holder never started sleeping", async () => {
      const found = await db.execute(sql`select pid from pg_stat_activity where query like ${`%${marker}%`} and wait_event = 'PgSleep'`);
      return (found.rows[0] as { pid: number } | undefined)?.pid ?? null;
    });
    /** Backends waiting, directly or behind another waiter, on the holder's lock. */
    const waitingBehind = (pid: number, count: number) => poll(`fewer than ${count} commits ever waited behind the holder`, async () => {
      const found = await db.execute(sql`
        with recursive blocked(pid) as (
          select pid from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))
          union select a.pid from pg_stat_activity a join blocked b on b.pid = any(pg_blocking_pids(a.pid))
        ) select count(*)::int as n from blocked`);
      return (found.rows[0] as { n: number }).n >= count ? true : null;
    });
    const firstAnswered = deferred();
    let holder: Promise<unknown> = Promise.resolve();
    let holding: Promise<number> = Promise.resolve(0);
    const events: string[] = [];
    const faults: ChunkFaults = {
      async sendCommit(chunk, send) {
        if (chunk === 2) {
          // Once chunk 1 has landed, another transaction holds the cursor's row for 3 s…
          await firstAnswered.promise;
          holder = db.batch([
            db.execute(sql`select version_id from file_version where version_id = ${target.version_id} for update`),
            db.execute(sql.raw(`select pg_sleep(3) /* ${marker} */`)),
          ]);
          holding = holderPid();
          await holding;
        }
        // … chunk 2's commit waits for it, and chunk 3's is sent meanwhile and waits behind it.
        if (chunk === 3) await waitingBehind(await holding, 1);
        events.push(`send ${chunk}`);
        const claimed = send();
        if (chunk === 3) await waitingBehind(await holding, 2);
        events.push(`${chunk}:${await claimed}`);
        if (chunk === 1) firstAnswered.resolve();
        return claimed;
      },
    };
    expect(await runParseMessage(start(target.version_id), deps, { ...sliced, faults })).toBe("succeeded");
    await holder;
    expect(events.indexOf("send 3")).toBeLessThan(events.indexOf("2:true"));
    expect(events.filter((event) => event.startsWith("3:"))).toEqual(["3:true"]);
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(40).keys()]);
  });

  it("two deliveries at once: one whose chunk the other claimed stops, though its next commit was in flight and found the cursor where it ends", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    expect(await runParseMessage(start(target.version_id), deps, { ...small, sliceMs: 0 })).toBe("chunk-committed");
    const message = sent.shift()!;
    const landed = { first: [] as number[], second: [] as number[] };
    const claimsOfFirst: string[] = [];
    const firstReachedChunk2 = deferred();
    const secondAnsweredChunk2 = deferred();
    const firstFinished = deferred();

    // The second delivery claims chunk 2, then holds its later commits until the first is done.
    const second = runParseMessage(message, deps, {
      ...sliced,
      faults: {
        afterCommit: (chunk) => void landed.second.push(chunk),
        async sendCommit(chunk, send) {
          await (chunk === 2 ? firstReachedChunk2.promise : firstFinished.promise);
          const claimed = await send();
          if (chunk === 2) secondAnsweredChunk2.resolve();
          return claimed;
        },
      },
    });
    // The first sends its commits of chunks 2 and 3 only once the second's chunk 2 has
    // landed: the cursor then stands where its chunk 3 starts, but it is the second's.
    const first = runParseMessage(message, deps, {
      ...sliced,
      faults: {
        afterCommit: (chunk) => void landed.first.push(chunk),
        async sendCommit(chunk, send) {
          if (chunk === 2) firstReachedChunk2.resolve();
          if (chunk <= 3) await secondAnsweredChunk2.promise;
          const claimed = await send();
          claimsOfFirst.push(`${chunk}:${claimed}`);
          return claimed;
        },
      },
    }).finally(() => firstFinished.resolve());

    expect(await Promise.all([first, second])).toEqual(["duplicate", "succeeded"]);
    expect(claimsOfFirst.sort()).toEqual(["2:false", "3:false"]);
    expect(landed).toEqual({ first: [], second: [2, 3, 4, 5, 6] });
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(40).keys()]);
  });

  it("bad data found while a chunk commits fails the version and drops every row written", async () => {
    const text = new TextDecoder().decode(sampleCsv()).replace("\r\n31,plain 31,31\r\n", "\r\n31,plain 31\r\n");
    const target = await createParseTarget({ filename: "ragged.csv", contentType: "text/csv", bytes: encoder.encode(text) });
    expect(await runParseMessage(start(target.version_id), parseDependencies(recordingQueue().queue), sliced)).toBe("failed");
    const snapshot = await parseSnapshot(target.version_id);
    expect(snapshot.parse_status).toBe("failed");
    expect(snapshot.parse_error).toMatch(/row_index 31\): 2 fields, but the header has 3 columns/);
    expect(await allRowsOf(target.version_id)).toEqual([]);
  });
});

describe("exactly once under at-least-once delivery", () => {
  it("a message delivered twice in one batch ends with the rows of a clean run", async () => {
    const bytes = sampleCsv();
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes });
    const result = await deliverBatch(batchOf("grandscale-parse", [start(target.version_id), start(target.version_id)]));
    expect(result.explicitAcks).toEqual(["message-0", "message-1"]);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect(await allRowsOf(target.version_id)).toHaveLength(40);
  });

  it("concurrent duplicates of every chunk write each row once", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const outcomes: ParseOutcome[] = [];
    for (let next: ParseMessage | undefined = start(target.version_id); next; next = sent.shift()) {
      const body: ParseMessage = next;
      outcomes.push(...(await Promise.all([runParseMessage(body, deps, small), runParseMessage(body, deps, small)])));
    }
    // Each chunk: one delivery does the work, its twin finds it done.
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(outcomes.length / 2);
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect(await allRowsOf(target.version_id)).toHaveLength(40);
  });

  it("a stale chunk message arriving later is acked without effect", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const { delivered } = await drain(start(target.version_id), small);
    const before = await parseSnapshot(target.version_id);
    const { queue, sent } = recordingQueue();
    for (const message of delivered) expect(await runParseMessage(message, parseDependencies(queue), small)).toBe("finished");
    expect(sent).toEqual([]);
    expect(await parseSnapshot(target.version_id)).toEqual(before);
  });

  it("a chunk whose write fails is retried and ends with no duplicates and no gaps", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const failing: ParseOptions = { ...small, faults: { beforeCommit: (chunk) => { if (chunk === 3) throw new Error("connection reset"); } } };

    expect(await runParseMessage(start(target.version_id), deps, failing)).toBe("chunk-committed");
    expect(await runParseMessage(sent.shift()!, deps, failing)).toBe("chunk-committed");
    const third = sent.shift()!;
    await expect(runParseMessage(third, deps, failing)).rejects.toThrow("connection reset");
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(14).keys()]);
    expect(sent).toEqual([]);

    // The queue redelivers the failed message; this time the write goes through.
    const { outcomes } = await drain(third, small);
    expect(outcomes.at(-1)).toBe("succeeded");
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
    expect((await allRowsOf(target.version_id)).map((row) => row.row_index)).toEqual([...Array(40).keys()]);
  });

  it("a crash after a chunk's commit, before its successor is sent, is repaired by the retry", async () => {
    const { bytes, target, sent, deps } = await sampleTarget();
    const crashing: ParseOptions = { ...small, faults: { afterCommit: (chunk) => { if (chunk === 2) throw new Error("isolate killed"); } } };

    expect(await runParseMessage(start(target.version_id), deps, crashing)).toBe("chunk-committed");
    const second = sent.shift()!;
    await expect(runParseMessage(second, deps, crashing)).rejects.toThrow("isolate killed");
    expect(sent).toEqual([]);
    expect(await allRowsOf(target.version_id)).toHaveLength(14);

    // Redelivered: its rows are in, so it only sends the message that was lost.
    expect(await runParseMessage(second, deps, small)).toBe("handed-off");
    expect(sent).toHaveLength(1);
    const { outcomes } = await drain(sent.shift()!, small);
    expect(outcomes.at(-1)).toBe("succeeded");
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes));
  });

  it("parses a workbook delivered twice at once into the same tables", async () => {
    const url = Object.values(import.meta.glob("./fixtures/parse/workbook.xlsx", { query: "?url&inline", import: "default", eager: true }))[0] as string;
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const target = await createParseTarget({ filename: "workbook.xlsx", contentType, bytes });
    const deps = parseDependencies(recordingQueue().queue);
    const outcomes = await Promise.all([runParseMessage(start(target.version_id), deps), runParseMessage(start(target.version_id), deps)]);
    expect(outcomes).toContain("succeeded");
    expect(await parseSnapshot(target.version_id)).toEqual(await cleanRun(bytes, "workbook.xlsx", contentType));
    expect(await allRowsOf(target.version_id)).toHaveLength(5);
  });
});

describe("failures", () => {
  const context = () => ({ config: loadConfig(env), logger: createLogger({ test: "parse-queue" }, "error") });

  it("retries a transient failure with exponential delay", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const unavailable: ParseOptions = { ...DEFAULT_PARSE_OPTIONS, faults: { beforeCommit: () => { throw new Error("database unavailable"); } } };
    const delays: unknown[] = [];
    for (const attempts of [1, 2, 3]) {
      const batch = batchOf("grandscale-parse", [start(target.version_id)], attempts);
      // The test queue records that a message was retried, not with which delay.
      const retry = vi.spyOn(batch.messages[0]!, "retry");
      await consumeParseBatch(batch, context(), unavailable);
      const result = await getQueueResult(batch, createExecutionContext());
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toEqual([{ msgId: "message-0" }]);
      delays.push(...retry.mock.calls.map(([options]) => options?.delaySeconds));
    }
    expect(delays).toEqual([10, 20, 40]);
    expect((await parseSnapshot(target.version_id)).parse_status).toBe("running");
  });

  it("a poison message ends in the dead-letter queue, whose consumer fails the version", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const unavailable: ParseOptions = { ...small, faults: { beforeCommit: () => { throw new Error("database unavailable"); } } };
    const batch = batchOf("grandscale-parse", [start(target.version_id)], 6);
    await consumeParseBatch(batch, context(), unavailable);
    expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toHaveLength(1);

    // After max_retries the queue moves the message to grandscale-parse-dlq.
    const dead = await deliverBatch(batchOf("grandscale-parse-dlq", [start(target.version_id)]));
    expect(dead.explicitAcks).toEqual(["message-0"]);
    expect(await parseSnapshot(target.version_id)).toEqual({ parse_status: "failed", parse_error: DEAD_LETTER_PARSE_ERROR, tables: [] });
    // The half-built table is gone with it.
    expect(await allRowsOf(target.version_id)).toEqual([]);
  });

  it("a dead letter for a parse that already finished changes nothing", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    await drain(start(target.version_id), DEFAULT_PARSE_OPTIONS);
    const before = await parseSnapshot(target.version_id);
    const dead = await deliverBatch(batchOf("grandscale-parse-dlq", [start(target.version_id)]));
    expect(dead.explicitAcks).toEqual(["message-0"]);
    expect(await parseSnapshot(target.version_id)).toEqual(before);
  });

  it("bad data is final at once: acked, not retried", async () => {
    const target = await createParseTarget({ filename: "bad.jsonl", contentType: "application/x-ndjson", bytes: encoder.encode('{"a":1}\n{"a":\n') });
    const result = await deliverBatch(batchOf("grandscale-parse", [start(target.version_id)]));
    expect(result.explicitAcks).toEqual(["message-0"]);
    expect(result.retryMessages).toEqual([]);
    expect((await parseSnapshot(target.version_id)).parse_status).toBe("failed");
  });

  it("a message for a version that does not exist is acked", async () => {
    const result = await deliverBatch(batchOf("grandscale-parse", [start(2_000_000_000)]));
    expect(result.explicitAcks).toEqual(["message-0"]);
  });

  it("caps the back-off at 900 s", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const unavailable: ParseOptions = { ...DEFAULT_PARSE_OPTIONS, faults: { beforeCommit: () => { throw new Error("database unavailable"); } } };
    const delays: unknown[] = [];
    for (const attempts of [7, 8, 20]) {
      const batch = batchOf("grandscale-parse", [start(target.version_id)], attempts);
      const retry = vi.spyOn(batch.messages[0]!, "retry");
      await consumeParseBatch(batch, context(), unavailable);
      delays.push(...retry.mock.calls.map(([options]) => options?.delaySeconds));
    }
    expect(delays).toEqual([640, 900, 900]);
  });

  it("retries malformed message bodies (for the dead-letter queue) without touching the database", async () => {
    const batch = createMessageBatch<unknown>("grandscale-parse", [
      { id: "wrong-kind", timestamp: new Date(), attempts: 1, body: { kind: "export", version_id: 1 } },
      { id: "no-version", timestamp: new Date(), attempts: 1, body: { kind: "parse", version_id: "one" } },
      { id: "not-json", timestamp: new Date(), attempts: 1, body: "parse 1" },
    ]);
    const retry = batch.messages.map((message) => vi.spyOn(message, "retry"));
    const result = await deliverBatch(batch);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((message) => message.msgId).sort()).toEqual(["no-version", "not-json", "wrong-kind"]);
    expect(retry.flatMap((spy) => spy.mock.calls.map(([options]) => options?.delaySeconds))).toEqual([10, 10, 10]);
  });

  it("retries a whole batch from a queue it does not know", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    const result = await deliverBatch(batchOf("grandscale-unknown", [start(target.version_id)]));
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
    expect((await parseSnapshot(target.version_id)).parse_status).toBe("queued");
  });

  it("retries a version whose upload has not completed, and parses nothing", async () => {
    const target = await createParseTarget({ filename: "sample.csv", contentType: "text/csv", bytes: sampleCsv() });
    await testDb().execute(sql`update file_version set status = 'pending', version_number = null, completed_at = null,
      parse_status = null where version_id = ${target.version_id}`);
    const result = await deliverBatch(batchOf("grandscale-parse", [start(target.version_id)]));
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "message-0" }]);
    expect(await parseSnapshot(target.version_id)).toEqual({ parse_status: null, parse_error: null, tables: [] });
    expect(await allRowsOf(target.version_id)).toEqual([]);
  });
});
