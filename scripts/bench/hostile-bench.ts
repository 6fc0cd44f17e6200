/**
 * The hostile-file bench: each file of the tests' corpus (tests/helpers/hostile-files.ts)
 * through the parse queue consumer of the production bundle, one at a time, with the
 * CPU time and the peak memory its parse took, against the budget of PRODUCT.md's
 * "hostile files fail fast": 2 s of CPU and 64 MiB each.
 *
 * - CPU: workerd's user + system time from sending the message to the failed status
 *   (/proc/<pid>/stat). The same process runs Miniflare's R2 and Queues simulators, so
 *   the figure is an upper bound of the isolate's own.
 * - memory: workerd's peak resident set size, reset before each file (writing 5 to
 *   /proc/<pid>/clear_refs), less its resident size just before: how much the file made
 *   the process grow, an upper bound of what the isolate needed. A heap sampled every
 *   100 ms (memory.ts) would miss a parse that fails in 50 ms.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { sendParseMessages } from "../../src/queues/producers.ts";
import { HOSTILE_FILES, type HostileFile } from "../../tests/helpers/hostile-files.ts";
import type { Bundle } from "./bundle.ts";
import { cpuSecondsOf } from "./cpu.ts";
import { gatewayQueries } from "./gateway-queries.ts";
import { pollDatabase, putFile, R2_LOADER, startConsumerRuntime } from "./queue-bench.ts";
import { processMemory, r2LoaderWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import type { BenchDatabase } from "./services.ts";

const MiB = 1024 * 1024;
export const HOSTILE_BUDGET = { cpu_seconds: 2, memory_bytes: 64 * MiB };

/** What the parse consumer logs when it retries a message (src/queues/consume.ts). */
const RETRYING = "queue message failed; retrying";

export type HostileFileResult = {
  name: string;
  bytes: number;
  parse_status: string | null;
  parse_error: string | null;
  /** Whether parse_error is the one the tests expect: the limit, and where. */
  limit_named: boolean;
  retries: number;
  wall_seconds: number;
  cpu_seconds: number | null;
  peak_growth_bytes: number | null;
  within_budget: boolean;
};

export type HostileBenchReport = { budget: typeof HOSTILE_BUDGET; files: HostileFileResult[]; notes: string[]; worker_log: string[] };

type Stored = { file: HostileFile; bytes: number; r2_key: string; version_id: number };

/** Writes each file, stores it in the local R2 (on disk in `persistDir`) and creates its version as a completed upload leaves it. */
async function storeCorpus(workDir: string, databaseUrl: string): Promise<{ persistDir: string; stored: Stored[] }> {
  const dir = resolve(workDir, "hostile");
  mkdirSync(dir, { recursive: true });
  const persistDir = resolve(workDir, "miniflare-hostile");
  const loader = await startRuntime([r2LoaderWorker(R2_LOADER)], { persistDir });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const project = await client.query(
      `with org as (insert into organization (name) values ('Hostile bench ' || gen_random_uuid()) returning org_id)
       insert into project (org_id, name) select org_id, 'Hostile files' from org returning project_id, org_id`,
    );
    const { project_id, org_id } = project.rows[0];
    const stored: Stored[] = [];
    for (const file of HOSTILE_FILES) {
      const bytes = file.bytes();
      const path = resolve(dir, file.filename);
      writeFileSync(path, bytes);
      const r2Key = `bench/hostile/${file.filename}`;
      await putFile(loader, R2_LOADER, r2Key, path, file.contentType);
      const version = await client.query(
        `with created_file as (
            insert into file (project_id, org_id, filename, content_type, file_type) values ($1, $2, $3, $4, 'dataset') returning file_id
          ), created_version as (
            insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
            select file_id, 1, $3, $5, $6::bigint, $4, 'ready', 'queued', now() from created_file returning version_id, file_id
          ), current as (
            update file set current_version_id = created_version.version_id from created_version where file.file_id = created_version.file_id
          )
          select version_id from created_version`,
        [project_id, org_id, file.filename, file.contentType, r2Key, bytes.length],
      );
      stored.push({ file, bytes: bytes.length, r2_key: r2Key, version_id: version.rows[0].version_id });
    }
    return { persistDir, stored };
  } finally {
    await client.end();
    await loader.dispose();
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS: Linux ≥ 4.0, for our own child. */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

export async function runHostileBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  workDir: string;
  timeoutSeconds: number;
  log: (line: string) => void;
}): Promise<HostileBenchReport> {
  const { bundle, bindings, database, workDir, timeoutSeconds, log } = options;
  const { persistDir, stored } = await storeCorpus(workDir, database.url);
  log(`  ${stored.length} hostile files stored in the local R2`);
  const runtime = await startConsumerRuntime(bundle, bindings, persistDir, [RETRYING]);
  const report: HostileBenchReport = { budget: HOSTILE_BUDGET, files: [], notes: [], worker_log: [] };
  try {
    const pid = runtime.pid;
    if (!pid) throw new Error("the consumer's workerd process was not found");
    const producer = await runtime.mf.getQueueProducer("PARSE_QUEUE", "api");
    const queries = gatewayQueries(bindings.NEON_GATEWAY_URL!, database.url);
    for (const { file, bytes, version_id } of stored) {
      const retriesBefore = runtime.logLineCounts.get(RETRYING) ?? 0;
      resetPeakRss(pid);
      const before = processMemory(pid);
      const cpuBefore = cpuSecondsOf(pid);
      const started = performance.now();
      await sendParseMessages(producer, [{ version_id, generation: 0 }]);
      const { value: state, timedOut } = await pollDatabase(queries, timeoutSeconds, async (client) => {
        const result = await client.query("select parse_status, parse_error from file_version where version_id = $1", [version_id]);
        const row = result.rows[0] as { parse_status: string | null; parse_error: string | null };
        return { done: row.parse_status === "failed" || row.parse_status === "succeeded", value: row };
      });
      const wallSeconds = (performance.now() - started) / 1000;
      const cpuAfter = cpuSecondsOf(pid);
      const after = processMemory(pid);
      const cpuSeconds = cpuAfter === null || cpuBefore === null ? null : Math.round((cpuAfter - cpuBefore) * 100) / 100;
      const growth = after && before ? after.peak_rss_bytes - before.rss_bytes : null;
      const result: HostileFileResult = {
        name: file.name,
        bytes,
        parse_status: timedOut ? `unfinished after ${timeoutSeconds} s` : state.parse_status,
        parse_error: state.parse_error,
        limit_named: file.error.test(state.parse_error ?? ""),
        retries: (runtime.logLineCounts.get(RETRYING) ?? 0) - retriesBefore,
        wall_seconds: wallSeconds,
        cpu_seconds: cpuSeconds,
        peak_growth_bytes: growth,
        within_budget: cpuSeconds !== null && growth !== null && cpuSeconds <= HOSTILE_BUDGET.cpu_seconds && growth <= HOSTILE_BUDGET.memory_bytes,
      };
      report.files.push(result);
      log(`  ${file.name}: ${result.parse_status}, ${cpuSeconds ?? "–"} s CPU, +${growth === null ? "–" : (growth / MiB).toFixed(1)} MiB${result.within_budget ? "" : " — OVER BUDGET"}`);
    }
    const over = report.files.filter((file) => !file.within_budget || !file.limit_named || file.retries > 0 || file.parse_status !== "failed");
    if (over.length) report.notes.push(`not failing fast and cleanly within the budget: ${over.map((file) => file.name).join("; ")}`);
    report.worker_log = runtime.problems.slice(0, 5).map((line) => line.slice(0, 2000));
  } finally {
    await runtime.dispose();
  }
  return report;
}

const mib = (bytes: number | null) => (bytes === null ? "–" : `${(bytes / MiB).toFixed(1)} MiB`);
const cpu = (seconds: number | null) => (seconds === null ? "–" : `${seconds.toFixed(2)} s`);

/** One row per file: the figures both the stdout table and the Markdown show. */
function rows(report: HostileBenchReport): string[][] {
  return report.files.map((file) => [
    file.name,
    `${(file.bytes / 1024).toFixed(0)} KiB`,
    `${file.parse_status}${file.limit_named ? "" : " (limit not named)"}${file.retries ? `, ${file.retries} retries` : ""}`,
    cpu(file.cpu_seconds),
    `+${mib(file.peak_growth_bytes)}`,
    file.within_budget ? "yes" : "**no**",
  ]);
}

export const HOSTILE_COLUMNS = ["hostile file", "size", "outcome", "workerd CPU", "peak RSS growth", "within 2 s / 64 MiB"];

export function hostileLines(report: HostileBenchReport | null, table: (header: string[], rows: string[][]) => string): string[] {
  if (!report) return [];
  return ["hostile files: each through the parse consumer alone; CPU and peak RSS growth of the consumer's workerd", table(HOSTILE_COLUMNS, rows(report)).replaceAll("**", ""), ""];
}

export function hostileMarkdown(report: HostileBenchReport | null, table: (header: string[], rows: string[][]) => string): string[] {
  if (!report) return [];
  return ["**Hostile files**: each through the parse consumer alone, one after another in one workerd (the first PDF also pays for loading unpdf).", "", table(HOSTILE_COLUMNS, rows(report)), "", ...report.notes.map((note) => `- ${note}`), ""];
}
