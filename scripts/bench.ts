/**
 * `npm run bench`: the API's speed and cost beside the physical limit, in one run.
 * Method, machine and latest figures: BENCHMARKS.md. Options: scripts/bench/options.ts.
 *
 *  1. build the production bundles (`wrangler deploy --dry-run`: the API Worker's, the background Worker's), measure their gzipped sizes
 *  2. a fresh database (embedded PGlite, or a new database on DATABASE_URL's server),
 *     migrated, behind the local Neon gateway; seed the dataset set-based
 *  3. isolate startup: fresh workerd → first /health, against an empty Worker
 *  4. load: autocannon on each endpoint at each concurrency, and on its floor
 *  5. parse: a generated CSV through the parse consumer, beside COPY FROM
 *  5b. validation: the parse bench's table against one rule of each kind, through the validation consumer
 *  6. export: annotated rows through the export consumer, beside COPY TO
 *  6a. suggestions: an llm_output file imported through the parse consumer, beside COPY FROM
 *  6b. hostile: the tests' hostile-file corpus through the parse consumer, CPU and peak memory each
 *  6c. events: commit → webhook and commit → stream latency under a steady write load
 *  6d. agreement: GET /projects/{id}/agreement over 100,000 rows × 3 responses × 2 questions (its own seed)
 *  6e. search: GET /file-tables/{id}/rows?q= over 1,000,000 rows at 1 and 8 connections (its own seed)
 *  7. a table on stdout and bench/results/latest.json
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKey } from "./lib/signing-keys.ts";
import { distanceNotes, runApiBench, type EndpointReport } from "./bench/api-bench.ts";
import { runAgreementBench, type AgreementBenchReport } from "./bench/agreement-bench.ts";
import { buildBundle } from "./bench/bundle.ts";
import { countRows, seedDataset } from "./bench/dataset.ts";
import { runExportBench, seedExportProject } from "./bench/export-bench.ts";
import type { Recording } from "./bench/floor-worker.ts";
import { runHostileBench, type HostileBenchReport } from "./bench/hostile-bench.ts";
import { runEventsBench, type EventsBenchReport } from "./bench/events-bench.ts";
import { describeMachine } from "./bench/machine.ts";
import { benchOptions, type Step } from "./bench/options.ts";
import { prepareParseInput, runParseBench } from "./bench/parse-bench.ts";
import { consumerWired, type QueueBenchReport } from "./bench/queue-bench.ts";
import { printReport, writeReport, type BenchReport } from "./bench/report.ts";
import { startBenchDatabase, startGateway } from "./bench/services.ts";
import { localPostmaster, type StackProcesses } from "./bench/cpu.ts";
import { prepareSuggestionsInput, runSuggestionsBench } from "./bench/suggestions-bench.ts";
import { runValidationBench } from "./bench/validation-bench.ts";
import { runSearchBench, type SearchBenchReport } from "./bench/search-bench.ts";
import { measureStartup } from "./bench/startup.ts";

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const log = (line: string) => console.log(`[bench ${elapsed()}] ${line}`);

const options = benchOptions();
const machine = describeMachine();
const workDir = mkdtempSync(join(tmpdir(), "grandscale-bench-"));
const notes: string[] = [];
if (options.distanceMs > 0) notes.push(`every database round trip was delayed ${options.distanceMs} ms (BENCH_DISTANCE_MS), API and floor alike`);
if (options.quick) notes.push("--quick: a smoke run with small sizes; these figures are not the benchmark");

log(`${options.quick ? "quick run" : "benchmark"} on ${machine.cpu_model} (${machine.nproc} cores), load average ${loadavg().map((n) => n.toFixed(1)).join(" ")}; work dir ${workDir}`);

log("building the production bundles (wrangler deploy --dry-run, the API's and the background Worker's)");
const bundle = await buildBundle(join(workDir, "bundle"));
log(`  API ${(bundle.bytes / 1024).toFixed(0)} KiB, ${(bundle.gzip_bytes / 1024).toFixed(0)} KiB gzipped, built in ${(bundle.build_ms / 1000).toFixed(1)} s`);
log(`  background ${(bundle.background.bytes / 1024).toFixed(0)} KiB, ${(bundle.background.gzip_bytes / 1024).toFixed(0)} KiB gzipped, built in ${(bundle.background.build_ms / 1000).toFixed(1)} s`);

log(process.env.DATABASE_URL ? "creating a fresh database on DATABASE_URL's server" : "starting a fresh embedded PGlite");
const database = await startBenchDatabase(workDir);
const gateway = await startGateway(database);
const localServer = !database.embedded && ["127.0.0.1", "localhost", "[::1]"].includes(new URL(database.url).hostname) ? localPostmaster() : null;
const processes: StackProcesses = { gateway: gateway.pid, database: database.pid ?? (localServer ? { server: localServer } : null) };
// Ctrl-C: the children get the signal too; what is left is the database on a server and the work dir.
process.once("SIGINT", () => {
  log("interrupted; cleaning up");
  void database.stop().finally(() => {
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  });
});
log(`  ${database.label}; Neon gateway ${gateway.url}`);

let endpoints: EndpointReport[] = [];
let recordings: Record<string, Recording[]> = {};
let apiWorkerLog: string[] = [];
let parse: QueueBenchReport | null = null;
let exported: QueueBenchReport | null = null;
let suggestions: QueueBenchReport | null = null;
let validation: QueueBenchReport | null = null;
let hostile: HostileBenchReport | null = null;
let events: EventsBenchReport | null = null;
let agreement: AgreementBenchReport | null = null;
let search: SearchBenchReport | null = null;
let report: BenchReport;
try {
  // Setup that measures nothing runs side by side: the database seeds (its own process)
  // while this one writes the parse bench's CSV and workerd stores it in R2.
  // The hostile-file, events and agreement steps create their own organizations: run alone, they seed no dataset.
  const seeds = ["api", "parse", "export", "suggestions"].some((step) => options.steps.has(step as Step));
  log(seeds ? "seeding the dataset; preparing the parse input meanwhile" : "no dataset: the hostile-file and agreement steps need none");
  const wants = {
    parse: options.steps.has("parse") && consumerWired("parse"),
    export: options.steps.has("export") && consumerWired("export"),
    suggestions: options.steps.has("suggestions") && consumerWired("parse"),
  };
  const [{ dataset, exportInput, suggestionsInput }, parseInput] = await Promise.all([
    (async () => {
      if (!seeds) return { dataset: null, exportInput: null, suggestionsInput: null };
      const seeded = await seedDataset(database.url, options.dataset, log);
      const exportProject = wants.export ? await seedExportProject(database.url, seeded, options.exportRows, log) : null;
      const suggestionsFiles = wants.suggestions ? await prepareSuggestionsInput(database.url, seeded, workDir, options.suggestionLines, log) : null;
      return { dataset: seeded, exportInput: exportProject, suggestionsInput: suggestionsFiles };
    })(),
    wants.parse ? prepareParseInput(workDir, options.parseBytes, log) : Promise.resolve(null),
  ]);
  const counts = await countRows(database.url);

  const bindings = {
    DATABASE_URL: database.url,
    NEON_GATEWAY_URL: gateway.url,
    JWT_SIGNING_KEYS: JSON.stringify([await generateSigningKey("bench-key-1")]),
    SERVER_TIMING: "true",
  };

  log("isolate startup (the API Worker)");
  const startup = await measureStartup(bundle, bindings, options.quick ? 5 : 9);
  log(`  isolate startup ≈ ${startup.isolate_startup_cpu_ms.toFixed(0)} ms of CPU, ${startup.isolate_startup_ms.toFixed(0)} ms of wall time (first /health ${startup.bundle_median_ms.toFixed(0)} ms, empty script ${startup.empty_worker_median_ms.toFixed(0)} ms); the first API request +${startup.first_api_request_cpu_ms.toFixed(0)} ms of CPU`);

  // `seeds` holds whenever one of these steps is chosen: the dataset is there.
  if (options.steps.has("api") && dataset) {
    log(`load: ${options.concurrencies.join(", ")} connections, ${options.durationSeconds} s per run`);
    ({ endpoints, recordings, workerLog: apiWorkerLog } = await runApiBench({ bundle, bindings, gatewayUrl: gateway.url, processes, dataset, load: options, log }));
    if (options.distanceMs > 0) notes.push(...distanceNotes(endpoints, options.distanceMs));
  }
  if (options.steps.has("parse") && dataset) {
    log("parse bench");
    parse = await runParseBench({ bundle, bindings, database, processes, dataset, input: parseInput, timeoutSeconds: options.queueTimeoutSeconds, log });
  }
  // It checks the table the parse bench stored: without that step there is nothing to validate.
  if (options.steps.has("validation") && parse?.status === "measured") {
    log("validation bench");
    validation = await runValidationBench({ bundle, bindings, database, processes, workDir, timeoutSeconds: options.queueTimeoutSeconds, log });
  }
  if (options.steps.has("export") && dataset) {
    log("export bench");
    exported = await runExportBench({ bundle, bindings, database, processes, dataset, input: exportInput, workDir, rows: options.exportRows, timeoutSeconds: options.queueTimeoutSeconds, profile: options.profile, log });
  }
  if (options.steps.has("suggestions") && dataset) {
    log("suggestions bench");
    suggestions = await runSuggestionsBench({ bundle, bindings, database, processes, input: suggestionsInput, workDir, timeoutSeconds: options.queueTimeoutSeconds, profile: options.profile, log });
  }
  if (options.steps.has("hostile") && consumerWired("parse")) {
    log("hostile files");
    hostile = await runHostileBench({ bundle, bindings, database, workDir, timeoutSeconds: options.queueTimeoutSeconds, log });
  }
  if (options.steps.has("agreement")) {
    log("agreement");
    agreement = await runAgreementBench({ bundle, bindings, databaseUrl: database.url, rows: options.agreementRows, requests: options.agreementRequests, log });
  }

  if (options.steps.has("search")) {
    log("search");
    search = await runSearchBench({ bundle, bindings, databaseUrl: database.url, rows: options.searchRows, concurrencies: [1, 8], durationSeconds: options.durationSeconds, log });
  }

  if (options.steps.has("events")) {
    log("events out: commit → webhook, commit → stream");
    events = await runEventsBench({ bundle, bindings, ratePerSecond: options.eventsRate, durationSeconds: options.eventsDurationSeconds, warmupSeconds: Math.max(2, options.warmupSeconds), log });
  }

  const { dir: _dir, background: { dir: _backgroundDir, ...background }, ...apiFigures } = bundle;
  const bundleFigures = { ...apiFigures, background };
  report = {
    date: new Date().toISOString(),
    wall_seconds: (performance.now() - started) / 1000,
    quick: options.quick,
    machine: { ...machine, load_average_at_end: loadavg() },
    database: { label: database.label, embedded: database.embedded },
    dataset: dataset ? { size: dataset.size, counts, seed_seconds: dataset.seed_ms / 1000 } : null,
    bundle: bundleFigures,
    startup,
    load: { concurrencies: options.concurrencies, duration_s: options.durationSeconds, warmup_s: options.warmupSeconds, generator: "autocannon 9, one request in flight per connection" },
    endpoints,
    parse,
    validation,
    export: exported,
    suggestions,
    hostile,
    events,
    agreement,
    search,
    sample_sql: Object.fromEntries(Object.entries(recordings).flatMap(([key, list]) => (list[0] ? [[key, list[0]]] : []))),
    api_worker_log: apiWorkerLog,
    notes: [...notes, ...(parse?.notes ?? []).map((note) => `parse: ${note}`), ...(validation?.notes ?? []).map((note) => `validation: ${note}`),
      ...(exported?.notes ?? []).map((note) => `export: ${note}`), ...(suggestions?.notes ?? []).map((note) => `suggestions: ${note}`),
      ...(hostile?.notes ?? []).map((note) => `hostile: ${note}`), ...(events?.notes ?? []).map((note) => `events: ${note}`)],
  };
} finally {
  await gateway.stop();
  await database.stop();
  if (!process.env.BENCH_KEEP) rmSync(workDir, { recursive: true, force: true });
}

report.wall_seconds = (performance.now() - started) / 1000;
const files = writeReport(report);
console.log(printReport(report));
console.log(`\nwrote ${files.join(" and ")}`);
const mismatches = endpoints.filter((endpoint) => endpoint.round_trips && !endpoint.round_trips.matches);
if (mismatches.length) console.log(`round trips over budget: ${mismatches.map((endpoint) => endpoint.label).join(", ")}`);
process.exit(0);
