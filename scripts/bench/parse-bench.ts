/**
 * The parse bench: a generated CSV (BENCH_PARSE_MB, 1 GiB by default) through the real
 * parse consumer, beside PostgreSQL's own COPY of the same file into the same server.
 *
 * The file goes where an upload puts it (the local R2 bucket, at its version's r2_key),
 * its file and version rows are written as a completed upload leaves them (ready,
 * parse queued), and the message is sent with the uploads feature's own producer
 * function (src/queues/producers.ts). From there it is the production bundle in workerd:
 * the parse queue consumer reads the object as a stream, commits a chunk of rows per
 * message and hands the next chunk to the queue, until the version is succeeded.
 */
import { resolve } from "node:path";
import pg from "pg";
import { sendParseMessages } from "../../src/queues/producers.ts";
import type { Bundle } from "./bundle.ts";
import { CSV_TABLE_COLUMNS, generateCsv, type GeneratedCsv } from "./csv-file.ts";
import type { Dataset } from "./dataset.ts";
import { countCpu, type StackProcesses } from "./cpu.ts";
import { watchMemory } from "./memory.ts";
import { configuredBatchWindowSeconds, r2LoaderWorker, startRuntime, BACKGROUND_WORKER, type BenchBindings } from "./runtime.ts";
import type { BenchDatabase } from "./services.ts";
import { gatewayQueries, type Queryable } from "./gateway-queries.ts";
import { consumerWired, emptyReport, PARSE_COMMIT_SENT_AGAIN, PARSE_MESSAGE_HANDLED, flagMemory, keepWorkerLog, pollDatabase, putFile, R2_LOADER, startConsumerRuntime, throughput, type QueueBenchReport } from "./queue-bench.ts";

type ParseState = { parse_status: string | null; done: number; total: number | null; chunks: number | null; rows: number | null; parse_error: string | null };

async function createVersion(databaseUrl: string, dataset: Dataset, bytes: number, r2Key: string): Promise<{ version_id: number; r2_key: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      `with target as (
          select project_id, org_id from project where org_id = $1 order by project_id limit 1
        ), created_file as (
          insert into file (project_id, org_id, filename, content_type, file_type, status)
          select project_id, org_id, 'bench-parse.csv', 'text/csv', 'dataset', 'pending' from target returning file_id
        ), created_version as (
          insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
          select file_id, 1, 'bench-parse.csv', $3, $2::bigint, 'text/csv', 'ready', 'queued', now()
          from created_file returning version_id, file_id, r2_key
        ), current as (
          update file set current_version_id = created_version.version_id from created_version where file.file_id = created_version.file_id
        )
        select version_id, r2_key from created_version`,
      [dataset.reader.org_id, bytes, r2Key],
    );
    return result.rows[0];
  } finally {
    await client.end();
  }
}

async function parseState(client: Queryable, versionId: number): Promise<ParseState> {
  const result = await client.query(
    `select parse_status, parse_progress_done as done, parse_progress_total as total, parse_error,
        (parse_cursor ->> 'chunk')::int as chunks,
        (select sum(row_count)::bigint from file_table t where t.version_id = v.version_id and t.state = 'active') as rows
      from file_version v where version_id = $1`,
    [versionId],
  );
  const row = result.rows[0];
  return { ...row, done: Number(row.done), total: row.total === null ? null : Number(row.total), rows: row.rows === null ? null : Number(row.rows) };
}

/** What the parse bench parses, made ready before any measurement starts (it overlaps the seeding). */
export type ParseInput = { csv: GeneratedCsv; persistDir: string; r2_key: string; seconds: number };

const R2_KEY = "bench/parse/bench-parse.csv";

/**
 * Generates the CSV and stores it in the local R2 as an upload would, through a workerd
 * of its own whose R2 lives on disk in `persistDir`, where the consumer's workerd finds it.
 */
export async function prepareParseInput(workDir: string, bytes: number, log: (line: string) => void): Promise<ParseInput> {
  const started = performance.now();
  const csv = await generateCsv(resolve(workDir, "bench-parse.csv"), bytes);
  log(`  generated ${csv.rows} CSV rows, ${(csv.bytes / 1e6).toFixed(0)} MB`);
  const persistDir = resolve(workDir, "miniflare-parse");
  const loader = await startRuntime([r2LoaderWorker(R2_LOADER)], { persistDir });
  try {
    await putFile(loader, R2_LOADER, R2_KEY, csv.path, "text/csv");
  } finally {
    await loader.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  log(`  stored the CSV in the local R2 (${seconds.toFixed(0)} s with its generation)`);
  return { csv, persistDir, r2_key: R2_KEY, seconds };
}

export async function runParseBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  processes: StackProcesses;
  dataset: Dataset;
  input: ParseInput | null;
  timeoutSeconds: number;
  log: (line: string) => void;
}): Promise<QueueBenchReport> {
  const { bundle, bindings, database, processes, dataset, input, timeoutSeconds, log } = options;
  if (!consumerWired("parse") || !input) {
    return emptyReport("a generated CSV through the parse queue consumer, beside COPY", "not available", "src/queues/index.ts does not wire src/queues/parse.ts yet");
  }
  const { csv } = input;
  const description = `a generated ${(csv.bytes / 1e6).toFixed(0)} MB CSV (${csv.rows} rows) through the parse queue consumer, beside COPY`;
  const target = await createVersion(database.url, dataset, csv.bytes, input.r2_key);
  const runtime = await startConsumerRuntime(bundle, bindings, input.persistDir, [PARSE_MESSAGE_HANDLED, PARSE_COMMIT_SENT_AGAIN]);
  const report = emptyReport(description, "measured", null);
  report.input = { bytes: csv.bytes, rows: csv.rows };
  report.setup_seconds = input.seconds;
  try {
    const memory = await watchMemory(runtime, BACKGROUND_WORKER);
    const cpu = countCpu({ workerd: runtime.pid, ...processes });
    const started = performance.now();
    await sendParseMessages(await runtime.mf.getQueueProducer("PARSE_QUEUE", "api"), [{ version_id: target.version_id, generation: 0 }]);
    // The cursor (and its chunk count) is cleared when the parse ends: keep the last one seen.
    let chunksSeen = 0;
    const { value: state, timedOut } = await pollDatabase(
      gatewayQueries(bindings.NEON_GATEWAY_URL!, database.url),
      timeoutSeconds,
      async (client) => {
        const value = await parseState(client, target.version_id);
        chunksSeen = Math.max(chunksSeen, value.chunks ?? 0);
        return { done: value.parse_status === "succeeded" || value.parse_status === "failed", value };
      },
      (value) => log(`  … ${((value.done / (value.total ?? csv.bytes)) * 100).toFixed(0)}% after ${((performance.now() - started) / 1000).toFixed(0)} s`),
    );
    const seconds = (performance.now() - started) / 1000;
    report.memory = await memory.stop();
    const cpuSeconds = cpu.stop();
    const doneBytes = state.parse_status === "succeeded" ? csv.bytes : state.done;
    const rows = state.rows ?? 0;
    const outcome = timedOut
      ? `unfinished after ${timeoutSeconds} s (BENCH_QUEUE_TIMEOUT) at ${((state.done / csv.bytes) * 100).toFixed(1)}%; rates are of the part done`
      : state.parse_status === "succeeded"
        ? `succeeded: ${rows} of ${csv.rows} rows stored${rows === csv.rows ? "" : " — MISMATCH"}`
        : `failed: ${state.parse_error}`;
    // The chunk that finished the parse is one more than the last cursor seen (at least).
    const chunks = state.parse_status === "succeeded" ? chunksSeen + 1 : chunksSeen;
    const messages = runtime.logLineCounts.get(PARSE_MESSAGE_HANDLED) ?? 0;
    report.consumer = { ...throughput(seconds, doneBytes, timedOut ? Math.round((state.done / csv.bytes) * csv.rows) : rows), outcome, messages, cpu_seconds: cpuSeconds };
    if (state.parse_status !== "succeeded" && !timedOut) report.status = "failed";
    const batchWindow = configuredBatchWindowSeconds("parse");
    const sentAgain = runtime.logLineCounts.get(PARSE_COMMIT_SENT_AGAIN) ?? 0;
    report.notes.push(`${chunks} chunks committed by ${messages} queue message${messages === 1 ? "" : "s"} (time slices); ${sentAgain} commit${sentAgain === 1 ? "" : "s"} sent again for reaching the database before the previous one`);
    if (messages > 1 && batchWindow) {
      report.notes.push(
        `in production each hand-off to the next message also waits up to the parse queue's max_batch_timeout ` +
          `(${batchWindow} s in wrangler.toml), up to ${(messages - 1) * batchWindow} s more for this file; ` +
          "the bench delivers immediately to measure the consumer itself",
      );
    }
    log(`  consumer: ${outcome} in ${seconds.toFixed(1)} s`);
    flagMemory(report);
    keepWorkerLog(report, runtime.problems);
  } finally {
    await runtime.dispose();
  }

  log("  COPY of the same file");
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`create table bench_copy_parse (${CSV_TABLE_COLUMNS})`);
    const started = performance.now();
    const copied = await database.copyCsvFile("bench_copy_parse", csv.path);
    const seconds = (performance.now() - started) / 1000;
    report.postgres_copy = { ...throughput(seconds, copied.bytes, copied.rows), method: copied.method };
    await client.query("drop table bench_copy_parse");
  } finally {
    await client.end();
  }
  if (report.consumer && report.postgres_copy) {
    report.ratio = {
      mb_per_s: report.consumer.mb_per_s / report.postgres_copy.mb_per_s,
      rows_per_s: report.consumer.rows_per_s / report.postgres_copy.rows_per_s,
    };
  }
  return report;
}
