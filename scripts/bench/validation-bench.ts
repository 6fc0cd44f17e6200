/**
 * The validation bench: the parse bench's table (the generated CSV, 1 GiB by default)
 * checked against seven rules, one of each kind and `unique` on the id, by the real
 * validation queue consumer in the production bundle. The run is requested as the API
 * does (rules snapshotted into validation_run), its message sent with the Worker's own
 * producer; from there each chunk is one set-based statement over the stored rows.
 * Rows per second is the figure: the table's rows over the wall time to `succeeded`.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { Bundle } from "./bundle.ts";
import { countCpu, type StackProcesses } from "./cpu.ts";
import { gatewayQueries } from "./gateway-queries.ts";
import { watchMemory } from "./memory.ts";
import { emptyReport, flagMemory, keepWorkerLog, pollDatabase, startConsumerRuntime, throughput, type QueueBenchReport } from "./queue-bench.ts";
import { BACKGROUND_WORKER, type BenchBindings } from "./runtime.ts";
import type { BenchDatabase } from "./services.ts";

const RULES = [
  { column: "id", rule: "required" },
  { column: "id", rule: "unique" },
  { column: "amount", rule: "type", type: "number" },
  { column: "amount", rule: "range", min: 0, max: 500 },
  { column: "city", rule: "allowed", values: ["Berlin", "Lyon", "Osaka", "Austin", "Porto"] },
  { column: "email", rule: "pattern", pattern: "^[^@ ]+@[^@ ]+\\.[a-z]+$" },
  { column: "active", rule: "type", type: "boolean" },
];

type RunState = { status: string; next_row: number; total_rows: number; violation_count: number; error: string | null };

/** The parse bench's table, with rules on its project and a queued run over it. */
async function requestRun(databaseUrl: string): Promise<{ validation_id: number; rows: number } | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      `with target as (
          select t.table_id, t.row_count, f.project_id, f.org_id
          from file_table t join file_version v on v.version_id = t.version_id join file f on f.file_id = v.file_id
          where f.filename = 'bench-parse.csv' and t.state = 'active' order by t.table_id desc limit 1
        ), rules as (
          insert into project_validation_rules (project_id, org_id, rules) select project_id, org_id, $1::jsonb from target
          on conflict (project_id) do update set rules = excluded.rules
        )
        insert into validation_run (project_id, org_id, table_id, rules, total_rows)
        select project_id, org_id, table_id, $1::jsonb, row_count from target
        returning validation_id, total_rows as rows`,
      [JSON.stringify(RULES)],
    );
    return result.rows[0] ?? null;
  } finally {
    await client.end();
  }
}

export async function runValidationBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  processes: StackProcesses;
  workDir: string;
  timeoutSeconds: number;
  log: (line: string) => void;
}): Promise<QueueBenchReport> {
  const { bundle, bindings, database, processes, workDir, timeoutSeconds, log } = options;
  const run = await requestRun(database.url);
  if (!run) return emptyReport("the parse bench's table through the validation queue consumer", "not available", "the parse bench left no table");
  const description = `the parse bench's table (${run.rows} rows) against ${RULES.length} rules (one of each kind, unique on id) through the validation queue consumer`;
  const report = emptyReport(description, "measured", null);
  report.input = { bytes: 0, rows: run.rows };
  const runtime = await startConsumerRuntime(bundle, bindings, mkdtempSync(join(workDir, "miniflare-validation-")));
  try {
    const memory = await watchMemory(runtime, BACKGROUND_WORKER);
    const cpu = countCpu({ workerd: runtime.pid, ...processes });
    const started = performance.now();
    await (await runtime.mf.getQueueProducer("VALIDATION_QUEUE", "api")).send({ kind: "validation", validation_id: run.validation_id }, { contentType: "json" });
    const { value: state, timedOut } = await pollDatabase(
      gatewayQueries(bindings.NEON_GATEWAY_URL!, database.url),
      timeoutSeconds,
      async (client) => {
        const result = await client.query(`select status, next_row, total_rows, violation_count, error from validation_run where validation_id = $1`, [run.validation_id]);
        const value = result.rows[0] as RunState;
        return { done: value.status === "succeeded" || value.status === "failed", value };
      },
      (value) => log(`  … ${value.next_row} of ${value.total_rows} rows after ${((performance.now() - started) / 1000).toFixed(0)} s`),
    );
    const seconds = (performance.now() - started) / 1000;
    report.memory = await memory.stop();
    const outcome = timedOut
      ? `unfinished after ${timeoutSeconds} s (BENCH_QUEUE_TIMEOUT) at row ${state.next_row} of ${state.total_rows}; rates are of the part done`
      : state.status === "succeeded"
        ? `succeeded: ${state.total_rows} rows checked, ${state.violation_count} violations`
        : `failed: ${state.error}`;
    report.consumer = { ...throughput(seconds, 0, state.next_row), outcome, messages: null, cpu_seconds: cpu.stop() };
    if (state.status !== "succeeded" && !timedOut) report.status = "failed";
    log(`  consumer: ${outcome} in ${seconds.toFixed(1)} s`);
    flagMemory(report);
    keepWorkerLog(report, runtime.problems);
  } finally {
    await runtime.dispose();
  }
  return report;
}
