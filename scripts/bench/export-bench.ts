/**
 * The export bench: BENCH_EXPORT_ROWS annotated, approved rows (1,000,000 by default)
 * exported as JSON Lines through the real export consumer, beside PostgreSQL's own
 * `COPY (SELECT …) TO STDOUT` of the same rows with their annotations.
 *
 * The rows are seeded set-based into one project of the first organization (one parsed
 * table, jobs of 10,000 rows, every row annotated, every job reviewed and approved);
 * the export is requested through the API (POST /projects/{id}/exports) by that
 * organization's client_admin, exactly as a client would, and the consumer runs in its
 * own workerd until export_log says succeeded.
 */
import { join, resolve } from "node:path";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import type { Bundle } from "./bundle.ts";
import { seedingStep, startBulkLoad, type Dataset } from "./dataset.ts";
import { countCpu, type StackProcesses } from "./cpu.ts";
import { PROFILE_DIR, profileWhile } from "./profile.ts";
import { watchMemory } from "./memory.ts";
import type { BenchDatabase } from "./services.ts";
import { callApi, signIn } from "./session.ts";
import { gatewayQueries, type Queryable } from "./gateway-queries.ts";
import { consumerWired, emptyReport, flagMemory, keepWorkerLog, pollDatabase, startConsumerRuntime, throughput, type QueueBenchReport } from "./queue-bench.ts";
import { BACKGROUND_WORKER, type BenchBindings } from "./runtime.ts";
import { exportResponsesLateral } from "../../src/features/responses/export-responses.ts";

const ROWS_PER_JOB = 10_000;
const COPY_RUNS = 3;

type ExportState = { status: string; done: number; total: number | null; row_count: number; size_bytes: number; error: string | null; r2_key: string | null };

/** The project to export, seeded in a handful of set-based statements (before any measurement). */
export type ExportInput = { project_id: number; seconds: number };

export async function seedExportProject(databaseUrl: string, dataset: Dataset, rows: number, log: (line: string) => void): Promise<ExportInput> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await startBulkLoad(client);
  const step = seedingStep(client, log);
  try {
    const [project] = await step(
      "export project",
      `with created_project as (
          insert into project (org_id, name, status, our_pm_id, client_pm_id)
          select $1, 'Bench export', 'in_progress', (select user_id from "user" where email = $2), (select user_id from "user" where email = $3)
          returning project_id, org_id
        ), created_file as (
          insert into file (project_id, org_id, filename, content_type, file_type, status)
          select project_id, org_id, 'export-source.csv', 'text/csv', 'dataset', 'completed' from created_project returning file_id, project_id
        ), created_version as (
          insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
          select file_id, 1, 'export-source.csv', 'bench/export/' || file_id || '/v1', 0, 'text/csv', 'ready', 'succeeded', now()
          from created_file returning version_id
        ), created_table as (
          insert into file_table (version_id, name, state, columns, row_count)
          select version_id, 'export-source', 'active',
            '[{"name":"id","type":"integer","nullable":false},{"name":"text","type":"string","nullable":false},{"name":"source","type":"string","nullable":false}]'::jsonb, $4::int
          from created_version returning table_id
        )
        select (select project_id from created_project) as project_id, (select table_id from created_table) as table_id`,
      [dataset.reader.org_id, dataset.pm.email, dataset.reader.email, rows],
    );
    await step(
      `${rows} table rows`,
      `insert into file_table_row (table_id, row_index, data)
        select $1::int, g, jsonb_build_object('id', g + 1, 'text', 'Message ' || g || ': ' || md5(g::text) || md5((g + 1)::text),
          'source', (array['email','chat','phone','social'])[1 + g % 4])
        from generate_series(0, $2::int - 1) g`,
      [project.table_id, rows],
    );
    await step(
      "jobs (reviewed)",
      `insert into annotation_job (project_id, table_id, name, status, priority, row_start, row_end, submitted_at, reviewed_at)
        select $1::int, $2::int, 'Export job ' || k, 'reviewed', 'medium', k * $4::int, least((k + 1) * $4::int, $3::int) - 1, now(), now()
        from generate_series(0, ceil($3::numeric / $4::int)::int - 1) k`,
      [project.project_id, project.table_id, rows, ROWS_PER_JOB],
    );
    await step(
      "approving reviews",
      `insert into review (job_id, reviewer_id, status, comments)
        select job_id, (select user_id from "user" where email = $2), 'approved', 'Looks right.' from annotation_job where project_id = $1`,
      [project.project_id, dataset.pm.email],
    );
    await step(
      `${rows} annotations`,
      `insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, version, updated_by)
        select j.job_id, g, annotator.user_id, d.data, own.final, own.agreed, 1, annotator.user_id
        from annotation_job j, generate_series(j.row_start, j.row_end) g,
          (select user_id from "user" where email = 'annotator1@bench-platform.test') annotator
        cross join lateral (select jsonb_build_object('label', (array['positive','negative','neutral'])[1 + g % 3],
          'confidence', (g % 100) / 100.0) as data) d
        cross join lateral annotation_consensus(jsonb_build_array(d.data), null, null) own
        where j.project_id = $1`,
      [project.project_id],
    );
    // One response per row: the row's consensus is the response's own (src/features/responses/consensus.ts).
    await step(
      "row consensus",
      `insert into row_consensus (job_id, row_index, responses_count, final, agreed)
        select a.job_id, a.row_index, 1, a.own_final, a.own_agreed from annotation a join annotation_job j on j.job_id = a.job_id
        where j.project_id = $1`,
      [project.project_id],
    );
    await client.query("analyze file_table_row, annotation, annotation_job, review, row_consensus");
    return { project_id: project.project_id, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

/**
 * The same rows the export writes, with the same columns, as PostgreSQL produces them
 * itself: each row's responses through the export's own lateral
 * (features/responses/export-responses.ts), which seeks them by the primary key. A plain
 * join on (job_id, row_index) let the planner scan a job's every response for each row
 * through the (job_id, annotator_id) index (BENCHMARKS.md, "Export on PostgreSQL 15").
 */
function copySelect(projectId: number): string {
  const responses = new PgDialect().sqlToQuery(exportResponsesLateral());
  if (responses.params.length > 0) throw new Error("the export's responses lateral takes parameters; COPY cannot carry them");
  return `select j.job_id, j.table_id, r.row_index, r.data, a.data as annotation, j.status, a.updated_by, a.updated_at,
      rv.reviewer_id, rv.created_at as reviewed_at, a.responses, a.final, a.agreed
    from annotation_job j
    join file_table_row r on r.table_id = j.table_id and r.row_index between j.row_start and j.row_end
    cross join lateral (${responses.sql}) a
    left join review rv on rv.job_id = j.job_id and rv.status = 'approved'
    where j.project_id = ${projectId} and j.deleted_at is null
    order by j.job_id, r.row_index`;
}

async function exportState(client: Queryable, exportId: number): Promise<ExportState> {
  const row = (await client.query(
    `select status, progress_done as done, progress_total as total, row_count, size_bytes, error, r2_key from export_log where export_id = $1`,
    [exportId],
  )).rows[0];
  return { ...row, done: Number(row.done), total: row.total === null ? null : Number(row.total), row_count: Number(row.row_count), size_bytes: Number(row.size_bytes) };
}

type ExportRun = { state: ExportState; timedOut: boolean; refused: null } | { state: null; timedOut: false; refused: string };

/** One export requested through the API (as a client would) and followed in export_log until it settles. */
async function exportThroughApi(options: {
  api: URL;
  token: string;
  projectId: number;
  filters: { job_ids?: number[] };
  bindings: BenchBindings;
  database: BenchDatabase;
  timeoutSeconds: number;
  log: (line: string) => void;
}): Promise<ExportRun> {
  const { api, token, projectId, filters, bindings, database, timeoutSeconds, log } = options;
  const started = performance.now();
  const created = await callApi(api, "POST", `/api/v1/projects/${projectId}/exports`, { token, body: { format: "jsonl", scope: "approved", ...filters } });
  if (created.status !== 201 && created.status !== 202) {
    return { state: null, timedOut: false, refused: `POST /projects/${projectId}/exports answered ${created.status}: ${JSON.stringify(created.body).slice(0, 300)}` };
  }
  const exportId = Number(created.body.export_id);
  const { value: state, timedOut } = await pollDatabase(
    gatewayQueries(bindings.NEON_GATEWAY_URL!, database.url),
    timeoutSeconds,
    async (client) => {
      const value = await exportState(client, exportId);
      return { done: value.status === "succeeded" || value.status === "failed", value };
    },
    (value) => log(`  … ${value.done} of ${value.total ?? "?"} after ${((performance.now() - started) / 1000).toFixed(0)} s`),
  );
  return { state, timedOut, refused: null };
}

/** The project's first tenth of jobs (at least one), for the profiled export. */
async function firstTenthOfJobs(databaseUrl: string, projectId: number): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select job_id from annotation_job where project_id = $1 order by job_id
        limit greatest(1, (select count(*) / 10 from annotation_job where project_id = $1))`,
      [projectId],
    );
    return rows.map((row: { job_id: number }) => row.job_id);
  } finally {
    await client.end();
  }
}

export async function runExportBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  database: BenchDatabase;
  processes: StackProcesses;
  dataset: Dataset;
  /** The project seedExportProject made (null: the consumer was not there to seed for). */
  input: ExportInput | null;
  workDir: string;
  rows: number;
  timeoutSeconds: number;
  /** A CPU profile of the consumer exporting a tenth of the rows, after the measured run. */
  profile: boolean;
  log: (line: string) => void;
}): Promise<QueueBenchReport> {
  const { bundle, bindings, database, processes, dataset, input, workDir, rows, timeoutSeconds, profile, log } = options;
  const description = `${rows} annotated, approved rows exported as JSON Lines by the export queue consumer, beside COPY (SELECT …) TO STDOUT`;
  if (!consumerWired("export") || !input) {
    return emptyReport(description, "not available", "src/queues/index.ts does not wire src/queues/export.ts yet");
  }
  const projectId = input.project_id;
  const runtime = await startConsumerRuntime(bundle, bindings, resolve(workDir, "miniflare-export"));
  const report = emptyReport(description, "measured", null);
  report.input = { bytes: 0, rows };
  try {
    const api = await runtime.url("api");
    const token = await signIn(api, dataset.reader.email);
    report.setup_seconds = input.seconds;
    const exportOnce = (filters: { job_ids?: number[] }) =>
      exportThroughApi({ api, token, projectId, filters, bindings, database, timeoutSeconds, log });

    const memory = await watchMemory(runtime, BACKGROUND_WORKER);
    const cpu = countCpu({ workerd: runtime.pid, ...processes });
    const started = performance.now();
    const run = await exportOnce({});
    const seconds = (performance.now() - started) / 1000;
    report.memory = await memory.stop();
    const cpuSeconds = cpu.stop();
    const state = run.state;
    if (!state) return { ...report, status: "failed", reason: run.refused };

    let stored: number | null = null;
    if (state.r2_key && state.status === "succeeded") stored = (await (await runtime.mf.getR2Bucket("FILES", "api")).head(state.r2_key))?.size ?? null;
    const outcome = run.timedOut
      ? `unfinished after ${timeoutSeconds} s (BENCH_QUEUE_TIMEOUT) at ${state.done} of ${state.total} rows; rates are of the part done`
      : state.status === "succeeded"
        ? `succeeded: ${state.row_count} rows, ${state.size_bytes} bytes in R2${stored === state.size_bytes ? "" : ` — the object holds ${stored} bytes`}`
        : `failed: ${state.error}`;
    const doneRows = state.status === "succeeded" ? state.row_count : state.done;
    report.consumer = { ...throughput(seconds, state.size_bytes, doneRows), outcome, messages: null, cpu_seconds: cpuSeconds };
    report.input = { bytes: state.size_bytes, rows };
    if (state.status !== "succeeded" && !run.timedOut) report.status = "failed";
    log(`  consumer: ${outcome} in ${seconds.toFixed(1)} s`);
    flagMemory(report);

    if (profile && state.status === "succeeded") {
      const jobIds = await firstTenthOfJobs(database.url, projectId);
      log(`  a CPU profile of the consumer exporting ${jobIds.length} jobs`);
      const profiled = await profileWhile(
        { inspectorUrl: await runtime.mf.getInspectorURL(), workerName: BACKGROUND_WORKER, bundleDir: bundle.background.dir, main: bundle.background.main, saveTo: join(PROFILE_DIR, "export.cpuprofile") },
        async () => (await exportOnce({ job_ids: jobIds })).state?.row_count ?? 0,
      );
      report.consumer_profile = { ...profiled, unit: "row" };
    }
    keepWorkerLog(report, runtime.problems);
  } finally {
    await runtime.dispose();
  }

  // The fastest of three: one COPY of the same rows varied by up to 1.4× between runs
  // on the same server (BENCHMARKS.md, "Export at 0.78 of COPY").
  log(`  COPY (SELECT …) TO STDOUT of the same rows, ${COPY_RUNS} times`);
  let fastest: { seconds: number; bytes: number; rows: number } | null = null;
  for (let run = 0; run < COPY_RUNS; run += 1) {
    const started = performance.now();
    const copied = await database.copyOut(copySelect(projectId));
    const seconds = (performance.now() - started) / 1000;
    if (!fastest || seconds < fastest.seconds) fastest = { seconds, ...copied };
  }
  report.postgres_copy = {
    ...throughput(fastest!.seconds, fastest!.bytes, fastest!.rows),
    method: `COPY (SELECT …) TO STDOUT over the wire protocol (pg client), output discarded; the fastest of ${COPY_RUNS} runs`,
  };
  if (report.consumer && report.postgres_copy) {
    report.ratio = {
      mb_per_s: report.consumer.mb_per_s / report.postgres_copy.mb_per_s,
      rows_per_s: report.consumer.rows_per_s / report.postgres_copy.rows_per_s,
    };
  }
  return report;
}
