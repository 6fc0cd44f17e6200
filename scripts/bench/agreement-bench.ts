/**
 * The agreement bench: GET /projects/{id}/agreement over one job of `rows` rows (100,000
 * by default), each answered by three annotators to two questions (a `label` and a
 * `rating`): 3 × rows responses, 3 pairs, nominal and ordinal α, Fleiss' and the pairs'
 * Cohen's κ. Seeded on its own (its organization, pm, three annotators, table, job,
 * schema and responses), set-based in a handful of generate_series statements, so the
 * step runs alone (`BENCH_ONLY=agreement`).
 *
 * The pm requests the figures sequentially (one warm-up, then `requests` measured):
 * latency p50/min/max, the database's share (Server-Timing `db`) and the round trips of
 * every request (the budget is 1).
 */
import pg from "pg";
import { hashPassword } from "../../src/features/auth/password.ts";
import type { Bundle } from "./bundle.ts";
import { BENCH_PASSWORD, seedingStep, startBulkLoad } from "./dataset.ts";
import { roundTripsOf } from "./load.ts";
import { apiWorker, backgroundWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import { callApi, signIn } from "./session.ts";

export type AgreementBenchReport = {
  description: string;
  status: "measured" | "failed";
  reason: string | null;
  rows: number;
  responses: number;
  seed_seconds: number;
  requests: number;
  p50_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
  db_p50_ms: number | null;
  round_trips: number[];
  /** The answer's question figures (to see that they were computed, not empty). */
  figures: unknown;
};

const QUESTIONS = [
  { name: "sentiment", type: "label", required: true, options: ["positive", "negative", "neutral"] },
  { name: "stars", type: "rating", required: true, min: 1, max: 5 },
];

type Seeded = { project_id: number; pm_email: string; seconds: number };

async function seed(databaseUrl: string, rows: number, log: (line: string) => void): Promise<Seeded> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await startBulkLoad(client);
  const suffix = Math.random().toString(36).slice(2, 8);
  const step = seedingStep(client, log);
  try {
    const pmEmail = `agreement-pm-${suffix}@bench-platform.test`;
    const [setup] = await step(
      "agreement project, pm, annotators, table, job, schema",
      `with platform as (select org_id from organization where kind = 'platform'),
        client_org as (insert into organization (name, kind) values ('Bench Agreement ' || $1, 'client') returning org_id),
        people as (
          insert into "user" (org_id, email, full_name, password_hash)
          select platform.org_id, $2, 'Agreement PM', $3 from platform
          union all select platform.org_id, 'agreement-annotator-' || k || '-' || $1 || '@bench-platform.test', 'Annotator ' || k, $3
            from platform, generate_series(1, 3) k
          returning user_id, email
        ), roles as (
          insert into user_role (user_id, role_id)
          select people.user_id, role.role_id from people join role on role.name = case when people.email = $2 then 'pm' else 'annotator' end
        ), created_project as (
          insert into project (org_id, name, status, our_pm_id)
          select client_org.org_id, 'Agreement bench', 'in_progress', (select user_id from people where email = $2) from client_org
          returning project_id, org_id
        ), created_file as (
          insert into file (project_id, org_id, filename, content_type, file_type, status)
          select project_id, org_id, 'agreement.csv', 'text/csv', 'dataset', 'in_progress' from created_project returning file_id
        ), created_version as (
          insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
          select file_id, 1, 'agreement.csv', 'bench/agreement/' || file_id, 0, 'text/csv', 'ready', 'succeeded', now() from created_file
          returning version_id
        ), created_table as (
          insert into file_table (version_id, name, state, columns, row_count)
          select version_id, 'agreement', 'active', '[{"name":"text","type":"string","nullable":false}]'::jsonb, $4::int from created_version
          returning table_id
        ), created_job as (
          insert into annotation_job (project_id, table_id, name, status, row_start, row_end, annotations_per_row)
          select created_project.project_id, created_table.table_id, 'Agreement job', 'in_progress', 0, $4::int - 1, 3
          from created_project, created_table returning job_id
        ), schema as (
          insert into label_schema (project_id, questions) select project_id, $5::jsonb from created_project
        )
        select (select project_id from created_project) as project_id, (select table_id from created_table) as table_id,
          (select job_id from created_job) as job_id,
          (select array_agg(user_id order by email) from people where email <> $2) as annotators`,
      [suffix, pmEmail, await hashPassword(BENCH_PASSWORD), rows, JSON.stringify(QUESTIONS)],
    );
    await step(
      `${rows} table rows`,
      `insert into file_table_row (table_id, row_index, data) select $1::int, g, jsonb_build_object('text', 'Message ' || g) from generate_series(0, $2::int - 1) g`,
      [setup.table_id, rows],
    );
    // Each row has a "true" label and rating; each annotator keeps it about 70% of the
    // time (a deterministic hash of row and annotator), else answers another value.
    await step(
      `${rows * 3} responses`,
      `insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
        select $1::int, g, a.user_id, jsonb_build_object(
            'sentiment', (array['positive','negative','neutral'])[1 + (g + case when h % 10 < 7 then 0 else 1 + h % 2 end) % 3],
            'stars', 1 + ((g * 7) % 5 + case when h % 10 < 7 then 0 else 1 + h % 3 end) % 5),
          '{}'::jsonb, false, a.user_id
        from generate_series(0, $2::int - 1) g
        cross join unnest($3::int[]) with ordinality a(user_id, k)
        cross join lateral (select abs(hashint4(g * 4 + k::int)) as h) hashed`,
      [setup.job_id, rows, setup.annotators],
    );
    await client.query("analyze annotation, annotation_job, label_schema, project");
    return { project_id: setup.project_id, pm_email: pmEmail, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

const median = (values: number[]) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

const DB_DURATION = /db;dur=([\d.]+)/;

export async function runAgreementBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  databaseUrl: string;
  rows: number;
  requests: number;
  log: (line: string) => void;
}): Promise<AgreementBenchReport> {
  const { bundle, bindings, databaseUrl, rows, requests, log } = options;
  const seeded = await seed(databaseUrl, rows, log);
  const report: AgreementBenchReport = {
    description: `GET /projects/{id}/agreement over ${rows} rows × 3 responses × 2 questions (label, rating), as the project's pm, ${requests} sequential requests after one warm-up`,
    status: "measured",
    reason: null,
    rows,
    responses: rows * 3,
    seed_seconds: seeded.seconds,
    requests,
    p50_ms: null,
    min_ms: null,
    max_ms: null,
    db_p50_ms: null,
    round_trips: [],
    figures: null,
  };
  const runtime = await startRuntime([apiWorker(bundle, "api", bindings), backgroundWorker(bundle.background, bindings, { queueConsumers: false })]);
  try {
    const api = await runtime.url("api");
    const token = await signIn(api, seeded.pm_email);
    const path = `/api/v1/projects/${seeded.project_id}/agreement`;
    const warm = await callApi(api, "GET", path, { token });
    if (warm.status !== 200) return { ...report, status: "failed", reason: `GET ${path} answered ${warm.status}: ${JSON.stringify(warm.body).slice(0, 300)}` };
    report.figures = warm.body.questions;
    const latencies: number[] = [];
    const database: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const response = await callApi(api, "GET", path, { token });
      latencies.push(performance.now() - started);
      const timing = response.headers.get("server-timing");
      const trips = roundTripsOf(timing);
      if (trips !== null) report.round_trips.push(trips);
      const db = DB_DURATION.exec(timing ?? "");
      if (db) database.push(Number(db[1]));
    }
    report.p50_ms = median(latencies);
    report.min_ms = Math.min(...latencies);
    report.max_ms = Math.max(...latencies);
    report.db_p50_ms = median(database);
    log(`  p50 ${report.p50_ms?.toFixed(0)} ms (database ${report.db_p50_ms?.toFixed(0)} ms), round trips ${[...new Set(report.round_trips)].join("/")}`);
  } finally {
    await runtime.dispose();
  }
  return report;
}

const fixed = (value: number | null, digits = 0) => (value === null ? "–" : value.toFixed(digits));

/** Lines for the stdout report and for BENCHMARKS.md. */
export function agreementLines(report: AgreementBenchReport | null): string[] {
  if (!report) return [];
  if (report.status !== "measured") return [`agreement: ${report.status} (${report.reason})`, ""];
  return [
    `agreement: ${report.description}`,
    `  p50 ${fixed(report.p50_ms)} ms (min ${fixed(report.min_ms)}, max ${fixed(report.max_ms)}), database p50 ${fixed(report.db_p50_ms)} ms, ` +
      `round trips ${[...new Set(report.round_trips)].join("/")} (budget 1); seeded in ${fixed(report.seed_seconds, 1)} s`,
    "",
  ];
}
