/**
 * What the parse and export benches share: their report shape, whether a consumer is
 * wired into the Worker yet, a fresh workerd for the consumer (so its peak RSS is its
 * own), putting a big file into the local R2, and waiting on the database for the end.
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { resolve } from "node:path";
import type { Bundle } from "./bundle.ts";
import type { CpuAccount } from "./cpu.ts";
import type { Queryable } from "./gateway-queries.ts";
import type { MemoryReport } from "./memory.ts";
import type { ProfileSummary } from "./profile.ts";
import { apiWorker, backgroundWorker, startRuntime, type BenchBindings, type Runtime } from "./runtime.ts";

/** The name of the helper Worker that streams files into R2 (runtime.ts r2LoaderWorker). */
export const R2_LOADER = "r2-loader";

/** What the parse consumer logs once per message it handled (src/queues/parse.ts). */
export const PARSE_MESSAGE_HANDLED = "parse message handled";
/** What it logs for a chunk commit sent again, having reached the database before the previous one (parsing/chunked-parse.ts). */
export const PARSE_COMMIT_SENT_AGAIN = "parse commit sent again";

export type Throughput = { seconds: number; bytes: number; rows: number; mb_per_s: number; rows_per_s: number };

export type QueueBenchReport = {
  status: "measured" | "not available" | "failed";
  reason: string | null;
  description: string;
  input: { bytes: number; rows: number } | null;
  /** `cpu_seconds`: CPU time of each process while the consumer worked (where the time went). */
  consumer: (Throughput & { outcome: string; messages: number | null; cpu_seconds: CpuAccount }) | null;
  postgres_copy: (Throughput & { method: string }) | null;
  /** consumer ÷ COPY: the share of the physical limit the consumer reaches. */
  ratio: { mb_per_s: number; rows_per_s: number } | null;
  memory: MemoryReport | null;
  /** Where the consumer's JavaScript time goes, per input row (`unit`), from a profiled run after the measured ones. */
  consumer_profile?: ProfileSummary & { unit: string };
  setup_seconds: number;
  notes: string[];
  /** The Worker's warnings and errors while it ran (first few), e.g. retried messages. */
  worker_log: string[];
};

export function emptyReport(description: string, status: QueueBenchReport["status"], reason: string | null): QueueBenchReport {
  return { status, reason, description, input: null, consumer: null, postgres_copy: null, ratio: null, memory: null, setup_seconds: 0, notes: [], worker_log: [] };
}

const ISOLATE_LIMIT_BYTES = 128 * 1024 * 1024;

/** Flags live memory (after a full collection) near Workers' 128 MB isolate limit. */
export function flagMemory(report: QueueBenchReport): void {
  const live = report.memory?.isolate_live_peak_bytes;
  if (live && live >= 0.5 * ISOLATE_LIMIT_BYTES) {
    report.notes.push(
      `the isolate held up to ${(live / 1024 / 1024).toFixed(1)} MiB of live memory, ${((live / ISOLATE_LIMIT_BYTES) * 100).toFixed(0)}% of the 128 MB isolate limit`,
    );
  }
}

/** Keeps the Worker's warnings in the report and says how many there were. */
export function keepWorkerLog(report: QueueBenchReport, problems: string[]): void {
  if (problems.length === 0) return;
  report.worker_log = problems.slice(0, 5).map((line) => line.slice(0, 2000));
  report.notes.push(`the Worker logged ${problems.length}${problems.length >= 50 ? "+" : ""} warnings or errors (first ones in worker_log), e.g. ${problems[0]!.slice(0, 160)}`);
}

/** MB = 10^6 bytes, as disk and network rates are quoted. */
export function throughput(seconds: number, bytes: number, rows: number): Throughput {
  return { seconds, bytes, rows, mb_per_s: bytes / 1e6 / seconds, rows_per_s: rows / seconds };
}

/** Whether src/queues/index.ts hands the queue to its consumer module (queues/parse.ts, queues/export.ts). */
export function consumerWired(queue: "parse" | "export"): boolean {
  try {
    const index = readFileSync(resolve(import.meta.dirname, "../../src/queues/index.ts"), "utf8");
    return index.includes(`from "./${queue}.ts"`);
  } catch {
    return false;
  }
}

/**
 * The consumer's own workerd: the API Worker (the producer) and the background Worker with
 * its queue consumers (their heap is BACKGROUND_WORKER's isolate), the inspector on (for
 * the isolate's heap) and R2 kept on disk in the run's directory (a 1 GB object held in
 * memory would count as the consumer's).
 *
 * Delivery is immediate (max_batch_timeout 0) instead of wrangler.toml's 2 s: the bench
 * measures the consumer, and a chain of chunk messages would otherwise wait up to the
 * batch window before each chunk. The report adds what that wait costs in production.
 */
export async function startConsumerRuntime(bundle: Bundle, bindings: BenchBindings, persistDir: string, countLogLines: string[] = []): Promise<Runtime> {
  return startRuntime(
    [apiWorker(bundle, "api", bindings), backgroundWorker(bundle.background, bindings, { queueConsumers: true, immediateDelivery: true })],
    { persistDir, inspector: true, countLogLines },
  );
}

/** A file into the local R2 bucket, streamed in one PUT through the loader Worker (runtime.ts r2LoaderWorker). */
export async function putFile(runtime: Runtime, loader: string, key: string, path: string, contentType: string): Promise<void> {
  const url = new URL(`/${encodeURIComponent(key)}`, await runtime.url(loader));
  const size = statSync(path).size;
  await new Promise<void>((resolvePromise, reject) => {
    const put = request(url, { method: "PUT", headers: { "content-type": contentType, "content-length": String(size) } }, (response) => {
      let body = "";
      response.on("data", (data) => (body += data));
      response.on("end", () => (response.statusCode === 200 ? resolvePromise() : reject(new Error(`storing ${key} in R2 answered ${response.statusCode}: ${body}`))));
    });
    put.on("error", reject);
    createReadStream(path, { highWaterMark: 1024 * 1024 }).pipe(put);
  });
}

export type Poll<T> = { done: boolean; value: T };

/** Polls the database (through the gateway) every 500 ms until `check` says done or the time is up; progress once a minute. */
export async function pollDatabase<T>(
  database: Queryable,
  timeoutSeconds: number,
  check: (database: Queryable) => Promise<Poll<T>>,
  onProgress?: (value: T) => void,
): Promise<{ value: T; timedOut: boolean; seconds: number }> {
  const started = performance.now();
  let lastReport = started;
  for (;;) {
    const poll = await check(database);
    const seconds = (performance.now() - started) / 1000;
    if (poll.done || seconds > timeoutSeconds) return { value: poll.value, timedOut: !poll.done, seconds };
    if (onProgress && performance.now() - lastReport > 60_000) {
      lastReport = performance.now();
      onProgress(poll.value);
    }
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 500));
  }
}
