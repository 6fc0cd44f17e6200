/**
 * The suggestions bench: an `llm_output` file of BENCH_SUGGESTIONS lines (JSON Lines
 * `{row_index, question, value, score, agent}`, 1,000,000 by default) imported through
 * the real parse consumer into the suggestions of a seeded table whose project has a
 * label schema, beside PostgreSQL's own COPY of the same suggestions into the same
 * `suggestion` table. The whole file and a tenth of it are also imported with the
 * isolate's live memory snapshotted: the two peaks say whether memory grows with the file
 * (it must not: the import is streamed). Last, a CPU profile of the consumer over the tenth.
 *
 * The table (a row per four lines: every row gets a suggestion for each of the schema's
 * four questions) and its project are seeded set-based before any measurement; each file
 * goes where an upload with `target_table_id` puts it (R2, a file and version as a
 * completed upload leaves them, its `suggestion_import` row) and the message is sent with
 * the uploads feature's own producer, as the parse bench does. Each run starts with the
 * table's suggestions cleared (not measured), so every run inserts the same rows.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { once } from "node:events";
import { join, resolve } from "node:path";
import pg from "pg";
import { sendParseMessages } from "../../src/queues/producers.ts";
import type { Bundle } from "./bundle.ts";
import { countCpu, type StackProcesses } from "./cpu.ts";
import { startBulkLoad, type Dataset } from "./dataset.ts";
import { gatewayQueries, type Queryable } from "./gateway-queries.ts";
import { watchMemory, type MemoryReport } from "./memory.ts";
import { consumerWired, emptyReport, PARSE_COMMIT_SENT_AGAIN, PARSE_MESSAGE_HANDLED, flagMemory, keepWorkerLog, pollDatabase, putFile, R2_LOADER, startConsumerRuntime, throughput, type QueueBenchReport } from "./queue-bench.ts";
import { r2LoaderWorker, startRuntime, BACKGROUND_WORKER, type BenchBindings } from "./runtime.ts";
import { PROFILE_DIR, profileWhile, type ProfileSummary } from "./profile.ts";
import type { BenchDatabase } from "./services.ts";

const QUESTIONS = [
  { name: "sentiment", type: "label", required: false, options: ["positive", "negative", "neutral"] },
  { name: "topics", type: "multi_label", required: false, options: ["billing", "delivery", "product", "support"] },
  { name: "urgency", type: "rating", required: false, min: 1, max: 5 },
  { name: "summary", type: "text", required: false },
];

const AGENT = "bench-model-v1";
/** Short enough for several snapshots of the tenth's run (about 2 s on PostgreSQL 15). */
const MEMORY_SNAPSHOT_MS = 250;

/** Line `i` of the file: row i/4, the (i mod 4)-th question, a valid value and a score. */
function suggestionAt(i: number) {
  const row_index = Math.floor(i / QUESTIONS.length);
  const question = QUESTIONS[i % QUESTIONS.length]!.name;
  const value = question === "sentiment"
    ? ["positive", "negative", "neutral"][row_index % 3]
    : question === "topics"
      ? ["billing", "delivery", "product", "support"].filter((_, k) => (row_index >> k) & 1)
      : question === "urgency"
        ? 1 + (row_index % 5)
        : `Customer ${row_index} asks about order ${row_index * 7 + 3}; wants a reply today.`;
  return { row_index, question, value, score: ((i * 37) % 1000) / 1000, agent: AGENT };
}

/** Writes `lines` lines through `format`, streamed to disk in 1 MiB blocks. */
async function writeLines(path: string, lines: number, format: (i: number) => string, header = ""): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let block = header;
  for (let i = 0; i < lines; i++) {
    block += format(i);
    if (block.length >= 1 << 20 || i === lines - 1) {
      bytes += Buffer.byteLength(block);
      if (!out.write(block)) await once(out, "drain");
      block = "";
    }
  }
  out.end();
  await once(out, "finish");
  return bytes;
}

const csvField = (text: string) => `"${text.replaceAll('"', '""')}"`;

export type SuggestionsInput = {
  persistDir: string;
  /** Each file is stored twice, as each is imported twice (a version's object key is unique). */
  files: { lines: number; bytes: number; path: string; r2_keys: [string, string] }[];
  table: { project_id: number; org_id: number; table_id: number; rows: number };
  seconds: number;
};

/**
 * The target table (rows for the largest file) with its project's label schema, and the
 * two files (a tenth, and all of `lines`) generated and stored in a local R2 on disk.
 */
export async function prepareSuggestionsInput(databaseUrl: string, dataset: Dataset, workDir: string, lines: number, log: (line: string) => void): Promise<SuggestionsInput> {
  const started = performance.now();
  const rows = Math.ceil(lines / QUESTIONS.length);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let table: SuggestionsInput["table"];
  try {
    await startBulkLoad(client);
    table = (await client.query(
      `with created_project as (
          insert into project (org_id, name, status, our_pm_id) select $1, 'Bench suggestions', 'in_progress', (select user_id from "user" where email = $2)
          returning project_id, org_id
        ), schema as (
          insert into label_schema (project_id, questions) select project_id, $4::jsonb from created_project
        ), created_file as (
          insert into file (project_id, org_id, filename, content_type, file_type, status)
          select project_id, org_id, 'messages.csv', 'text/csv', 'dataset', 'completed' from created_project returning file_id, project_id, org_id
        ), created_version as (
          insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
          select file_id, 1, 'messages.csv', 'bench/suggestions/' || file_id || '/v1', 0, 'text/csv', 'ready', 'succeeded', now()
          from created_file returning version_id
        ), created_table as (
          insert into file_table (version_id, name, state, columns, row_count)
          select version_id, 'messages', 'active', '[{"name":"text","type":"string","nullable":false}]'::jsonb, $3::int from created_version
          returning table_id
        )
        select (select project_id from created_file) as project_id, (select org_id from created_file) as org_id,
          (select table_id from created_table) as table_id, $3::int as rows`,
      [dataset.reader.org_id, dataset.pm.email, rows, JSON.stringify(QUESTIONS)],
    )).rows[0];
    await client.query(
      `insert into file_table_row (table_id, row_index, data)
        select $1::int, g, jsonb_build_object('text', 'Message ' || g || ': ' || md5(g::text)) from generate_series(0, $2::int - 1) g`,
      [table.table_id, rows],
    );
    await client.query("analyze file_table_row");
  } finally {
    await client.end();
  }
  log(`  seeded a table of ${rows} rows with a label schema of ${QUESTIONS.length} questions`);

  const persistDir = resolve(workDir, "miniflare-suggestions");
  const loader = await startRuntime([r2LoaderWorker(R2_LOADER)], { persistDir });
  const files: SuggestionsInput["files"] = [];
  try {
    for (const count of [Math.ceil(lines / 10), lines]) {
      const path = resolve(workDir, `llm-output-${count}.jsonl`);
      const bytes = await writeLines(path, count, (i) => `${JSON.stringify(suggestionAt(i))}\n`);
      const r2_keys: [string, string] = [`bench/suggestions/llm-output-${count}-1.jsonl`, `bench/suggestions/llm-output-${count}-2.jsonl`];
      for (const key of r2_keys) await putFile(loader, R2_LOADER, key, path, "application/x-ndjson");
      files.push({ lines: count, bytes, path, r2_keys });
    }
  } finally {
    await loader.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  log(`  generated and stored ${files.map((file) => `${file.lines} lines (${(file.bytes / 1e6).toFixed(0)} MB)`).join(" and ")} in ${seconds.toFixed(0)} s`);
  return { persistDir, files, table, seconds };
}

/** The llm_output file and version as a completed upload with target_table_id leaves them (parse queued). */
/** `copy`: which of the file's two stored objects this version is the upload of. */
async function createVersion(client: pg.Client, table: SuggestionsInput["table"], file: SuggestionsInput["files"][number], copy: 0 | 1): Promise<number> {
  const result = await client.query(
    `with created_file as (
        insert into file (project_id, org_id, filename, content_type, file_type, status)
        values ($1, $2, $3, 'application/x-ndjson', 'llm_output', 'pending') returning file_id
      ), created_version as (
        insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
        select file_id, 1, $3, $4, $5::bigint, 'application/x-ndjson', 'ready', 'queued', now() from created_file
        returning version_id, file_id
      ), current as (
        update file set current_version_id = created_version.version_id from created_version where file.file_id = created_version.file_id
      ), import as (
        insert into suggestion_import (version_id, target_table_id) select version_id, $6 from created_version
      )
      select version_id from created_version`,
    [table.project_id, table.org_id, `llm-output-${file.lines}.jsonl`, file.r2_keys[copy], file.bytes, table.table_id],
  );
  return result.rows[0].version_id;
}

/**
 * Every run (and COPY) starts from the same state: the table's suggestions deleted and
 * vacuumed, and a checkpoint, so no run pays for the previous run's dirty pages and WAL
 * (without it, one of three measured runs on PostgreSQL 15 took 12.8 s of database CPU
 * where the others took 8.8 and 9.1).
 */
async function clearSuggestions(client: pg.Client, tableId: number): Promise<void> {
  await client.query("delete from suggestion where table_id = $1", [tableId]);
  await client.query("vacuum suggestion");
  await client.query("checkpoint");
}

type ImportState = { parse_status: string | null; parse_error: string | null; done: number; imported: number; invalid: number };

async function importState(client: Queryable, versionId: number): Promise<ImportState> {
  const row = (await client.query(
    `select v.parse_status, v.parse_error, v.parse_progress_done as done, i.imported, i.invalid
      from file_version v join suggestion_import i on i.version_id = v.version_id where v.version_id = $1`,
    [versionId],
  )).rows[0];
  return { ...row, done: Number(row.done) };
}

type ImportRun = { seconds: number; state: ImportState; timedOut: boolean; memory: MemoryReport | null; cpu: Record<string, number | null>; messages: number; sentAgain: number; problems: string[] };

/**
 * One file through the parse consumer in a workerd of its own; `watch`: its live memory
 * snapshotted every so often, or its CPU profiled (written to `profileTo` and summarised),
 * or neither: the inspector takes one session at a time, and both slow the isolate.
 */
async function importFile(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  processes: StackProcesses;
  input: SuggestionsInput;
  file: SuggestionsInput["files"][number];
  timeoutSeconds: number;
  log: (line: string) => void;
  copy: 0 | 1;
  watch: { memoryEveryMs: number } | { profileTo: string } | null;
}): Promise<ImportRun & { profile: ProfileSummary | null }> {
  const { bundle, bindings, database, processes, input, file, copy, timeoutSeconds, log, watch } = options;
  const profileTo = watch && "profileTo" in watch ? watch.profileTo : null;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  let versionId: number;
  try {
    await clearSuggestions(client, input.table.table_id);
    versionId = await createVersion(client, input.table, file, copy);
  } finally {
    await client.end();
  }
  const runtime = await startConsumerRuntime(bundle, bindings, input.persistDir, [PARSE_MESSAGE_HANDLED, PARSE_COMMIT_SENT_AGAIN]);
  try {
    const memory = watch && "memoryEveryMs" in watch ? await watchMemory(runtime, BACKGROUND_WORKER, watch.memoryEveryMs) : null;
    const cpu = countCpu({ workerd: runtime.pid, ...processes });
    const started = performance.now();
    const run = async () => {
      await sendParseMessages(await runtime.mf.getQueueProducer("PARSE_QUEUE", "api"), [{ version_id: versionId, generation: 0 }]);
      return pollDatabase(
        gatewayQueries(bindings.NEON_GATEWAY_URL!, database.url),
        timeoutSeconds,
        async (db) => {
          const value = await importState(db, versionId);
          return { done: value.parse_status === "succeeded" || value.parse_status === "failed", value };
        },
        (value) => log(`  … ${value.imported} suggestions after ${((performance.now() - started) / 1000).toFixed(0)} s`),
      );
    };
    let polled: Awaited<ReturnType<typeof run>> | null = null;
    const profile = profileTo
      ? await profileWhile(
          { inspectorUrl: await runtime.mf.getInspectorURL(), workerName: BACKGROUND_WORKER, bundleDir: bundle.background.dir, main: bundle.background.main, saveTo: profileTo },
          async () => {
            polled = await run();
            return polled.value.imported;
          },
        )
      : null;
    const { value: state, timedOut } = polled ?? (await run());
    const seconds = (performance.now() - started) / 1000;
    return { seconds, state, timedOut, memory: (await memory?.stop()) ?? null, cpu: cpu.stop(), messages: runtime.logLineCounts.get(PARSE_MESSAGE_HANDLED) ?? 0, sentAgain: runtime.logLineCounts.get(PARSE_COMMIT_SENT_AGAIN) ?? 0, problems: runtime.problems, profile };
  } finally {
    await runtime.dispose();
  }
}

export async function runSuggestionsBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  processes: StackProcesses;
  input: SuggestionsInput | null;
  workDir: string;
  timeoutSeconds: number;
  /** A CPU profile of the consumer over the tenth, after the measured runs. */
  profile: boolean;
  log: (line: string) => void;
}): Promise<QueueBenchReport> {
  const { database, input, workDir, log } = options;
  const largest = input?.files.at(-1);
  const description = `an llm_output file of ${largest?.lines ?? "?"} suggestions imported by the parse queue consumer into a table with a label schema, beside COPY into the suggestion table`;
  if (!consumerWired("parse") || !input || !largest) return emptyReport(description, "not available", "src/queues/index.ts does not wire src/queues/parse.ts yet");
  const report = emptyReport(description, "measured", null);
  report.setup_seconds = input.seconds;
  report.input = { bytes: largest.bytes, rows: largest.lines };
  // The live heap is snapshotted often enough to sample even the tenth's short run, in
  // runs of their own: the snapshots pause the isolate, so the rate comes from a run of
  // the whole file with no inspector attached.
  const memoryRuns: ImportRun[] = [];
  for (const file of input.files) {
    log(`  importing ${file.lines} lines, live memory snapshotted every ${MEMORY_SNAPSHOT_MS} ms`);
    const run = await importFile({ ...options, input, file, copy: 0, watch: { memoryEveryMs: MEMORY_SNAPSHOT_MS } });
    memoryRuns.push(run);
    log(`  ${file.lines} lines: ${run.state.parse_status}, ${run.state.imported} imported, ${run.state.invalid} invalid in ${run.seconds.toFixed(1)} s`);
  }
  log(`  importing ${largest.lines} lines, measured`);
  const big = await importFile({ ...options, input, file: largest, copy: 1, watch: null });
  log(`  ${largest.lines} lines: ${big.state.parse_status}, ${big.state.imported} imported, ${big.state.invalid} invalid in ${big.seconds.toFixed(1)} s`);
  const small = memoryRuns[0]!;
  const whole = memoryRuns.at(-1)!;
  const outcome = big.timedOut
    ? `unfinished after ${options.timeoutSeconds} s (BENCH_QUEUE_TIMEOUT); rates are of the part done`
    : big.state.parse_status === "succeeded"
      ? `succeeded: ${big.state.imported} of ${largest.lines} suggestions imported${big.state.imported === largest.lines && big.state.invalid === 0 ? "" : ` — MISMATCH (${big.state.invalid} invalid)`}`
      : `failed: ${big.state.parse_error}`;
  report.consumer = { ...throughput(big.seconds, big.timedOut ? big.state.done : largest.bytes, big.state.imported), outcome, messages: big.messages, cpu_seconds: big.cpu };
  report.memory = whole.memory;
  if (big.state.parse_status !== "succeeded" && !big.timedOut) report.status = "failed";
  const mib = (bytes: number | null) => (bytes === null ? "–" : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  const snapshots = (run: ImportRun) => run.memory?.isolate_live_series.length ?? 0;
  report.notes.push(
    `peak live memory ${mib(small.memory?.isolate_live_peak_bytes ?? null)} importing ${input.files[0]!.lines} lines (${snapshots(small)} snapshots) ` +
      `against ${mib(whole.memory?.isolate_live_peak_bytes ?? null)} for ${largest.lines} (${snapshots(whole)} snapshots): ` +
      "memory does not grow with the file when these are about equal",
    `${big.messages} queue message${big.messages === 1 ? "" : "s"} (time slices); ${big.sentAgain} chunk commit${big.sentAgain === 1 ? "" : "s"} sent again for reaching the database before the previous one`,
  );
  flagMemory(report);
  keepWorkerLog(report, big.problems);

  if (options.profile) {
    const file = input.files[0]!;
    log(`  profiling the consumer over ${file.lines} lines`);
    mkdirSync(PROFILE_DIR, { recursive: true });
    const profiled = await importFile({ ...options, input, file, copy: 1, watch: { profileTo: join(PROFILE_DIR, "suggestions-import.cpuprofile") } });
    if (profiled.profile) report.consumer_profile = { ...profiled.profile, unit: "line" };
  }

  log("  COPY of the same suggestions into the suggestion table");
  const csvPath = resolve(workDir, "suggestions-copy.csv");
  const tableId = input.table.table_id;
  await writeLines(csvPath, largest.lines, (i) => {
    const s = suggestionAt(i);
    return `${tableId},${s.row_index},${s.question},${s.agent},${csvField(JSON.stringify(s.value))},${s.score}\n`;
  }, "table_id,row_index,question,agent,value,score\n");
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await clearSuggestions(client, tableId);
  } finally {
    await client.end();
  }
  const started = performance.now();
  const copied = await database.copyCsvFile("suggestion (table_id, row_index, question, agent, value, score)", csvPath);
  const seconds = (performance.now() - started) / 1000;
  report.postgres_copy = { ...throughput(seconds, largest.bytes, copied.rows), method: `${copied.method}, into the suggestion table with its keys and indexes` };
  report.ratio = { mb_per_s: report.consumer.mb_per_s / report.postgres_copy.mb_per_s, rows_per_s: report.consumer.rows_per_s / report.postgres_copy.rows_per_s };
  return report;
}
