/**
 * The search bench: `GET /file-tables/{id}/rows?q=` over one table of `rows` rows
 * (1,000,000 by default) shaped like the parse bench's CSV (customer, email, city, a
 * free-text message of 40–80 words drawn from a small vocabulary), with the vectors the
 * parse would store (English), seeded set-based on its own, so the step runs alone
 * (`BENCH_ONLY=search`). The seed ends with VACUUM, which merges the GIN index's pending
 * list as autovacuum would after a parse.
 *
 * Three queries, by how many rows match: an email (1 row), a city (a tenth of the rows,
 * ranked), a message word (most rows, ranked). Each runs for `durationSeconds` at every
 * concurrency (closed loop: each connection sends its next request when the last one
 * answered): p50, p99, requests, and the round trips of every answer (budget 1).
 */
import pg from "pg";
import { hashPassword } from "../../src/features/auth/password.ts";
import type { Bundle } from "./bundle.ts";
import { BENCH_PASSWORD, seedingStep, startBulkLoad } from "./dataset.ts";
import { roundTripsOf } from "./load.ts";
import { apiWorker, backgroundWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import { callApi, signIn } from "./session.ts";

type Run = { query: string; matches: string; concurrency: number; requests: number; p50_ms: number | null; p99_ms: number | null; round_trips: number[]; errors: number };

export type SearchBenchReport = {
  description: string;
  status: "measured" | "failed";
  reason: string | null;
  rows: number;
  seed_seconds: number;
  runs: Run[];
};

const WORDS = "the order arrived late and the box was damaged but support replied quickly with a refund offer I would like to change my delivery address before shipping please confirm the new date great product works as described battery lasts two days screen is bright enough outdoors";
const CITIES = ["Berlin", "Lyon", "Osaka", "Austin", "Porto", "Nairobi", "Lima", "Hanoi", "Oslo", "Cork"];

async function seed(databaseUrl: string, rows: number, log: (line: string) => void) {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await startBulkLoad(client);
  const suffix = Math.random().toString(36).slice(2, 8);
  const step = seedingStep(client, log);
  try {
    const email = `search-admin-${suffix}@bench-client.test`;
    const [setup] = await step(
      "search organization, client admin, project, file, table",
      `with client_org as (insert into organization (name, kind) values ('Bench Search ' || $1, 'client') returning org_id),
        person as (insert into "user" (org_id, email, full_name, password_hash) select org_id, $2, 'Search Admin', $3 from client_org returning user_id),
        roles as (insert into user_role (user_id, role_id) select person.user_id, role.role_id from person join role on role.name = 'client_admin'),
        created_project as (insert into project (org_id, name, status) select org_id, 'Search bench', 'in_progress' from client_org returning project_id, org_id),
        created_file as (
          insert into file (project_id, org_id, filename, content_type, file_type, status)
          select project_id, org_id, 'search.csv', 'text/csv', 'dataset', 'ready_for_annotation' from created_project returning file_id
        ), created_version as (
          insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
          select file_id, 1, 'search.csv', 'bench/search/' || file_id, 0, 'text/csv', 'ready', 'succeeded', now() from created_file
          returning version_id
        ), created_table as (
          insert into file_table (version_id, name, state, columns, row_count, search_config)
          select version_id, 'search', 'active', '[]'::jsonb, $4::int, 'english' from created_version returning table_id
        )
        select (select table_id from created_table) as table_id`,
      [suffix, email, await hashPassword(BENCH_PASSWORD), rows],
    );
    // The vector as the parse's INSERT builds it (features/search/text-search.ts rowSearchVector, below its size cap).
    await step(
      `${rows} rows with their vectors`,
      `insert into file_table_row (table_id, row_index, data, search)
        select $1::int, g, d.data, to_tsvector('english'::regconfig, d.data)
        from generate_series(0, $2::int - 1) g
        cross join lateral (select jsonb_build_object(
          'id', g + 1, 'customer', 'Customer ' || g % 997, 'email', 'customer' || (g + 1) || '@example.com',
          'city', ($3::text[])[1 + g % 10], 'amount', (g % 10000) / 100.0,
          'message', array_to_string(array(select w[1 + abs(hashint4(g * 131 + k)) % array_length(w, 1)]
            from generate_series(1, 40 + g % 40) k), ' ')) as data
          from (select string_to_array($4::text, ' ') as w) words) d`,
      [setup.table_id, rows, CITIES, WORDS],
    );
    await step("vacuum analyze (merges the GIN pending list)", "vacuum analyze file_table_row");
    return { table_id: setup.table_id as number, email, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runSearchBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  databaseUrl: string;
  rows: number;
  concurrencies: number[];
  durationSeconds: number;
  log: (line: string) => void;
}): Promise<SearchBenchReport> {
  const { bundle, bindings, databaseUrl, rows, concurrencies, durationSeconds, log } = options;
  const seeded = await seed(databaseUrl, rows, log);
  const report: SearchBenchReport = {
    description: `GET /file-tables/{id}/rows?q= (limit 50) over ${rows} rows, ${durationSeconds} s per query and concurrency, as the client admin`,
    status: "measured",
    reason: null,
    rows,
    seed_seconds: seeded.seconds,
    runs: [],
  };
  const queries = [
    { q: `customer${Math.ceil(rows / 2)}@example.com`, matches: "1 row (an email)" },
    { q: "Osaka", matches: "a tenth of the rows (a city)" },
    { q: "refund", matches: "most rows (a message word)" },
  ];
  const runtime = await startRuntime([apiWorker(bundle, "api", bindings), backgroundWorker(bundle.background, bindings, { queueConsumers: false })]);
  try {
    const api = await runtime.url("api");
    const token = await signIn(api, seeded.email);
    for (const { q, matches } of queries) {
      const path = `/api/v1/file-tables/${seeded.table_id}/rows?q=${encodeURIComponent(q)}`;
      const warm = await callApi(api, "GET", path, { token });
      if (warm.status !== 200) return { ...report, status: "failed", reason: `GET ${path} answered ${warm.status}: ${JSON.stringify(warm.body).slice(0, 300)}` };
      for (const concurrency of concurrencies) {
        const latencies: number[] = [];
        const trips = new Set<number>();
        let errors = 0;
        const until = performance.now() + durationSeconds * 1000;
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (performance.now() < until) {
            const started = performance.now();
            const response = await callApi(api, "GET", path, { token });
            latencies.push(performance.now() - started);
            if (response.status !== 200) errors += 1;
            const count = roundTripsOf(response.headers.get("server-timing"));
            if (count !== null) trips.add(count);
          }
        }));
        const run = { query: q, matches, concurrency, requests: latencies.length, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), round_trips: [...trips], errors };
        report.runs.push(run);
        log(`  q=${q} (${matches}), c=${concurrency}: p50 ${run.p50_ms?.toFixed(0)} ms, p99 ${run.p99_ms?.toFixed(0)} ms, ${run.requests} requests, round trips ${run.round_trips.join("/")}`);
      }
    }
  } finally {
    await runtime.dispose();
  }
  return report;
}

const fixed = (value: number | null) => (value === null ? "–" : value.toFixed(0));

/** Lines for the stdout report and for BENCHMARKS.md. */
export function searchLines(report: SearchBenchReport | null): string[] {
  if (!report) return [];
  if (report.status !== "measured") return [`search: ${report.status} (${report.reason})`, ""];
  return [
    `search: ${report.description}; seeded in ${report.seed_seconds.toFixed(1)} s`,
    "",
    "| q | matches | c | requests | p50 ms | p99 ms | errors | round trips |",
    "|---|---|---:|---:|---:|---:|---:|---|",
    ...report.runs.map((run) => `| ${run.query} | ${run.matches} | ${run.concurrency} | ${run.requests} | ${fixed(run.p50_ms)} | ${fixed(run.p99_ms)} | ${run.errors} | ${run.round_trips.join("/")} (budget 1) |`),
    "",
  ];
}
