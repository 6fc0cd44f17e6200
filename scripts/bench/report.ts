/** The stdout table and bench/results/latest.json. */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { agreementLines, type AgreementBenchReport } from "./agreement-bench.ts";
import { searchLines, type SearchBenchReport } from "./search-bench.ts";
import type { EndpointReport } from "./api-bench.ts";
import type { Bundle, BuiltBundle } from "./bundle.ts";
import type { Dataset } from "./dataset.ts";
import { eventsLines, eventsMarkdown, type EventsBenchReport } from "./events-bench.ts";
import type { Recording } from "./floor-worker.ts";
import { hostileLines, hostileMarkdown, type HostileBenchReport } from "./hostile-bench.ts";
import type { MachineReport } from "./machine.ts";
import type { QueueBenchReport } from "./queue-bench.ts";
import type { StartupReport } from "./startup.ts";

export type BenchReport = {
  date: string;
  wall_seconds: number;
  quick: boolean;
  machine: MachineReport;
  database: { label: string; embedded: boolean };
  dataset: { size: Dataset["size"]; counts: Record<string, number>; seed_seconds: number } | null;
  /** The API Worker's bundle, and the background Worker's. */
  bundle: Omit<Bundle, "dir" | "background"> & { background: Omit<BuiltBundle, "dir"> };
  startup: StartupReport | null;
  load: { concurrencies: number[]; duration_s: number; warmup_s: number; generator: string };
  endpoints: EndpointReport[];
  parse: QueueBenchReport | null;
  validation: QueueBenchReport | null;
  export: QueueBenchReport | null;
  suggestions: QueueBenchReport | null;
  hostile: HostileBenchReport | null;
  /** Commit → webhook and commit → stream latency under a steady write load. */
  events: EventsBenchReport | null;
  agreement: AgreementBenchReport | null;
  search: SearchBenchReport | null;
  /** The API Worker's warnings and errors during the load (first few). */
  api_worker_log: string[];
  /** One recorded request per endpoint: the SQL each round trip carried (what the floor replays). */
  sample_sql: Record<string, Recording>;
  notes: string[];
};

export const RESULTS_DIR = resolve(import.meta.dirname, "../../bench/results");

/** bench/results/latest.json (every figure) and latest.md (the tables BENCHMARKS.md shows). */
export function writeReport(report: BenchReport): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = resolve(RESULTS_DIR, "latest.json");
  const markdown = resolve(RESULTS_DIR, "latest.md");
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, markdownReport(report));
  return [json, markdown];
}

function compositionLine(bundle: Pick<BuiltBundle, "composition">): string {
  return bundle.composition.map((part) => `${part.source} ${(part.share * 100).toFixed(0)}%`).join(", ");
}

const kib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? "–" : `${(bytes / 1024).toFixed(0)} KiB`);
const mib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? "–" : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? "–" : value.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

function endpointRows(endpoints: EndpointReport[]): string[][] {
  return endpoints.filter((endpoint) => endpoint.status === "measured").flatMap((endpoint) => {
    const trips = endpoint.round_trips;
    const tripCell = trips ? `${trips.observed.join("/")} (${trips.budget})${trips.matches ? "" : " !"}` : "–";
    return endpoint.runs.map((run, i) => [
      i === 0 ? endpoint.label : "",
      String(run.concurrency),
      fixed(run.api.requests_per_s, 0),
      fixed(run.api.p50_ms, 2),
      fixed(run.api.p99_ms, 2),
      String(run.api.errors),
      i === 0 ? tripCell : "",
      fixed(run.floor.requests_per_s, 0),
      fixed(run.floor.p50_ms, 2),
      `${fixed(run.ratio.p50_latency, 2)}×`,
      `${fixed(run.ratio.throughput, 2)}×`,
      `${fixed(run.workerd_cpu_ms_per_request.api, 2)} / ${fixed(run.workerd_cpu_ms_per_request.floor, 2)}`,
    ]);
  });
}

function consumerProfileLine(profile: NonNullable<QueueBenchReport["consumer_profile"]>): string {
  const perUnit = (ms: number) => `${fixed(ms * 1000, 2)} µs`;
  const parts = (shares: { name: string; ms_per_request: number }[]) => shares.slice(0, 6).map((share) => `${share.name} ${perUnit(share.ms_per_request)}`).join(", ");
  return `  profile    ${perUnit(profile.ms_per_request)} of JavaScript per ${profile.unit}: ${parts(profile.by_source)}; functions: ${parts(profile.top_functions)}`;
}

function queueLines(name: string, bench: QueueBenchReport | null): string[] {
  if (!bench) return [];
  if (bench.status !== "measured") return [`${name}: ${bench.status}${bench.reason ? ` (${bench.reason})` : ""}`];
  const consumer = bench.consumer!;
  const limit = bench.postgres_copy;
  return [
    `${name}: ${bench.description}`,
    `  consumer   ${fixed(consumer.seconds)} s  ${fixed(consumer.mb_per_s)} MB/s  ${fixed(consumer.rows_per_s, 0)} rows/s  ${consumer.outcome}`,
    `  COPY       ${fixed(limit?.seconds)} s  ${fixed(limit?.mb_per_s)} MB/s  ${fixed(limit?.rows_per_s, 0)} rows/s  (${limit?.method ?? "–"})`,
    `  ratio      consumer ÷ COPY: ${fixed(bench.ratio?.mb_per_s, 3)} of its MB/s, ${fixed(bench.ratio?.rows_per_s, 3)} of its rows/s`,
    `  CPU        ${Object.entries(consumer.cpu_seconds).map(([name, seconds]) => `${name} ${fixed(seconds)} s`).join(", ")} (over ${fixed(consumer.seconds)} s of wall time)`,
    ...(bench.consumer_profile ? [consumerProfileLine(bench.consumer_profile)] : []),
    `  memory     isolate live peak ${mib(bench.memory?.isolate_live_peak_bytes)} (heap snapshots every ${(bench.memory?.snapshot_interval_ms ?? 0) / 1000} s, ${bench.memory?.isolate_live_series.length ?? 0} taken; ${mib(bench.memory?.isolate_live_idle_bytes)} idle), heap grew to ${mib(bench.memory?.isolate_heap_peak_bytes)} with garbage; workerd peak RSS ${mib(bench.memory?.process_peak_rss_bytes)} (+${mib(bench.memory?.process_peak_growth_bytes)} over its RSS before the run)`,
  ];
}

export function printReport(report: BenchReport): string {
  const lines = [
    "",
    `GrandScale API bench — ${report.date} — ${report.machine.cpu_model}, ${report.machine.nproc} cores, ${mib(report.machine.memory_bytes)} RAM, load ${report.machine.load_average_at_start.map((n) => n.toFixed(1)).join(" ")}`,
    `database: ${report.database.label}`,
    report.dataset ? `dataset: ${Object.entries(report.dataset.counts).map(([table, n]) => `${n} ${table}`).join(", ")} (seeded in ${fixed(report.dataset.seed_seconds)} s)` : "dataset: not seeded",
    `API bundle (${report.bundle.config}): ${kib(report.bundle.bytes)} raw, ${kib(report.bundle.gzip_bytes)} gzipped (${report.bundle.modules.length} module${report.bundle.modules.length === 1 ? "" : "s"}): ${compositionLine(report.bundle)}`,
    `background bundle (${report.bundle.background.config}): ${kib(report.bundle.background.bytes)} raw, ${kib(report.bundle.background.gzip_bytes)} gzipped: ${compositionLine(report.bundle.background)}`,
    report.startup
      ? `API isolate startup ≈ ${fixed(report.startup.isolate_startup_cpu_ms, 0)} ms of CPU, ${fixed(report.startup.isolate_startup_ms, 0)} ms of wall time (${fixed(report.startup.isolate_ready_ms, 0)} ms of it before the runtime is ready; first /health ${fixed(report.startup.bundle_median_ms, 0)} ms after starting workerd, ${fixed(report.startup.empty_worker_median_ms, 0)} ms with an empty script); the first API request then +${fixed(report.startup.first_api_request_cpu_ms, 0)} ms of CPU (the app imported: hono, zod, drizzle, the driver, the routes and their schemas); medians of ${report.startup.repetitions} paired starts`
      : "startup: not measured",
    "",
  ];
  if (report.endpoints.length) {
    lines.push(
      `load: autocannon, ${report.load.duration_s} s per run after ${report.load.warmup_s} s warm-up; RT = round trips per request (budget), "!" = mismatch`,
      table(
        ["endpoint", "c", "req/s", "p50 ms", "p99 ms", "errors", "RT", "floor req/s", "floor p50", "p50 API÷floor", "req/s API÷floor", "workerd CPU ms/req API / floor"],
        endpointRows(report.endpoints),
      ),
      ...report.endpoints.filter((endpoint) => endpoint.status !== "measured").map((endpoint) => `${endpoint.label}: ${endpoint.status} (${endpoint.reason})`),
      ...report.endpoints
        .filter((endpoint) => endpoint.round_trips && !endpoint.round_trips.matches)
        .map((endpoint) => `${endpoint.label}: round trips ${endpoint.round_trips!.note}`),
      "",
    );
  }
  lines.push(
    ...queueLines("parse", report.parse),
    ...queueLines("validation", report.validation),
    ...queueLines("export", report.export),
    ...queueLines("suggestions", report.suggestions),
    ...hostileLines(report.hostile, table),
    ...eventsLines(report.events, table),
    ...agreementLines(report.agreement),
    ...searchLines(report.search),
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push("", `wall time: ${fixed(report.wall_seconds, 0)} s`);
  return lines.join("\n");
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

function queueMarkdown(name: string, bench: QueueBenchReport | null): string[] {
  if (!bench) return [];
  if (bench.status !== "measured" || !bench.consumer) return [`**${name}**: ${bench.status}${bench.reason ? ` (${bench.reason})` : ""}`, ""];
  const consumer = bench.consumer;
  const limit = bench.postgres_copy;
  return [
    `**${name}**: ${bench.description}. ${consumer.outcome}.`,
    "",
    markdownTable(
      ["", "seconds", "MB/s", "rows/s"],
      [
        ["consumer", fixed(consumer.seconds), fixed(consumer.mb_per_s, 2), fixed(consumer.rows_per_s, 0)],
        [`COPY (${limit?.method ?? "–"})`, fixed(limit?.seconds), fixed(limit?.mb_per_s, 2), fixed(limit?.rows_per_s, 0)],
        ["consumer ÷ COPY", "", fixed(bench.ratio?.mb_per_s, 3), fixed(bench.ratio?.rows_per_s, 3)],
      ],
    ),
    "",
    `Isolate: **${mib(bench.memory?.isolate_live_peak_bytes)} live at most** (heap snapshots every ${(bench.memory?.snapshot_interval_ms ?? 0) / 1000} s; ` +
      `${mib(bench.memory?.isolate_live_idle_bytes)} of it is the idle isolate: code, routes, schemas); ` +
      `the heap grew to ${mib(bench.memory?.isolate_heap_peak_bytes)} with garbage not yet collected (sampled every ${bench.memory?.sample_interval_ms ?? "–"} ms). workerd peak RSS ` +
      `${mib(bench.memory?.process_peak_rss_bytes)}, +${mib(bench.memory?.process_peak_growth_bytes)} during the run. CPU while it ran: ` +
      `${Object.entries(consumer.cpu_seconds).map(([process, seconds]) => `${process} ${fixed(seconds)} s`).join(", ")}.` +
      bench.notes.map((note) => ` ${note.charAt(0).toUpperCase()}${note.slice(1)}${note.endsWith(".") ? "" : "."}`).join(""),
    "",
  ];
}

/** The c=1 CPU profiles (api-bench.ts, profile.ts): per endpoint, where the sampled CPU went. */
function profileLines(endpoints: EndpointReport[]): string[] {
  const profiled = endpoints.filter((endpoint) => endpoint.profile);
  if (!profiled.length) return [];
  const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
  return [
    "CPU profile of the API at c=1, in a runtime of its own after the measured runs: the isolate's JavaScript (V8's sampling profiler, by package; waits excluded) and, where `perf` runs, the whole workerd process by kind of work (scripts/bench/profile.ts, perf-profile.ts):",
    "",
    ...profiled.map((endpoint) => {
      const profile = endpoint.profile!;
      const sources = profile.by_source.slice(0, 8).map((share) => `${share.name} ${percent(share.share)}`).join(", ");
      const functions = profile.top_functions.slice(0, 4).map((share) => `${share.name} ${percent(share.share)}`).join("; ");
      const perf = endpoint.perf
        ? ` workerd as a whole (perf): ${fixed(endpoint.perf.ms_per_request, 2)} ms of CPU per request: ${endpoint.perf.by_category.map((share) => `${share.name} ${percent(share.share)}`).join(", ")}.`
        : "";
      return `- ${endpoint.label}: JavaScript ${fixed(profile.ms_per_request, 2)} ms per request sampled over ${profile.requests} requests: ${sources}. Top functions: ${functions}.${perf}`;
    }),
    "",
  ];
}

/** The figures as Markdown, to paste under "Latest figures" in BENCHMARKS.md. */
export function markdownReport(report: BenchReport): string {
  const machine = report.machine;
  const lines = [
    `Run of ${report.date.slice(0, 16).replace("T", " ")} UTC, ${report.quick ? "`--quick` (smoke sizes), " : ""}wall time ${fixed(report.wall_seconds, 0)} s; ` +
      `${report.database.label}; load average ${machine.load_average_at_start.map((n) => n.toFixed(1)).join(" ")} at the start, ` +
      `${machine.load_average_at_end?.map((n) => n.toFixed(1)).join(" ") ?? "–"} at the end (${machine.nproc} cores).`,
    "",
    `Dataset: ${report.dataset ? Object.entries(report.dataset.counts).map(([table, n]) => `${n.toLocaleString("en-US")} ${table}`).join(", ") : "–"}.`,
    "",
    `API bundle: ${kib(report.bundle.bytes)}, **${kib(report.bundle.gzip_bytes)} gzipped** (${compositionLine(report.bundle)}); ` +
      `background bundle ${kib(report.bundle.background.bytes)}, ${kib(report.bundle.background.gzip_bytes)} gzipped. ` +
      `API startup: **isolate startup ≈ ${fixed(report.startup?.isolate_startup_cpu_ms, 0)} ms of CPU**, ${fixed(report.startup?.isolate_startup_ms, 0)} ms of wall time ` +
      `(first /health ${fixed(report.startup?.bundle_median_ms, 0)} ms after starting workerd with the bundle vs ${fixed(report.startup?.empty_worker_median_ms, 0)} ms with an empty script); ` +
      `the first API request then costs ${fixed(report.startup?.first_api_request_cpu_ms, 0)} ms of CPU more (the app imported on first use: hono, zod, drizzle, the driver, the routes and their schemas); medians of ${report.startup?.repetitions ?? "–"} paired starts.`,
    "",
  ];
  const measured = report.endpoints.filter((endpoint) => endpoint.status === "measured");
  if (measured.length) {
    lines.push(
      markdownTable(
        ["endpoint", "c", "req/s", "p50 ms", "p99 ms", "errors", "round trips (budget)", "floor req/s", "floor p50 ms", "p50 API÷floor", "req/s API÷floor", "workerd CPU ms/req (API / floor)"],
        measured.flatMap((endpoint) =>
          endpoint.runs.map((run, i) => [
            i === 0 ? endpoint.label : "",
            String(run.concurrency),
            fixed(run.api.requests_per_s, 0),
            fixed(run.api.p50_ms, 1),
            fixed(run.api.p99_ms, 1),
            String(run.api.errors),
            i === 0 && endpoint.round_trips ? `${endpoint.round_trips.observed.join("/")} (${endpoint.round_trips.budget})${endpoint.round_trips.matches ? "" : " **over**"}` : "",
            fixed(run.floor.requests_per_s, 0),
            fixed(run.floor.p50_ms, 1),
            `${fixed(run.ratio.p50_latency, 2)}×`,
            `${fixed(run.ratio.throughput, 2)}×`,
            `${fixed(run.workerd_cpu_ms_per_request.api, 1)} / ${fixed(run.workerd_cpu_ms_per_request.floor, 1)}`,
          ]),
        ),
      ),
      "",
    );
  }
  for (const endpoint of report.endpoints.filter((candidate) => candidate.status !== "measured")) lines.push(`- ${endpoint.label}: ${endpoint.status} (${endpoint.reason})`);
  lines.push(...profileLines(measured));
  lines.push(
    ...queueMarkdown("Parse", report.parse),
    ...queueMarkdown("Validation", report.validation),
    ...queueMarkdown("Export", report.export),
    ...queueMarkdown("Suggestions", report.suggestions),
    ...hostileMarkdown(report.hostile, markdownTable),
    ...eventsMarkdown(report.events, markdownTable),
    ...agreementLines(report.agreement),
    ...searchLines(report.search),
  );
  return `${lines.join("\n")}\n`;
}
