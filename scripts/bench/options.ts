/**
 * What one `npm run bench` does, from the command line and the environment. The
 * defaults are the benchmark; `--quick` is a smoke run of every step with small sizes
 * (its figures mean nothing).
 *
 *   BENCH_CONCURRENCY=1,8,32   connections per load run
 *   BENCH_DURATION=5           seconds measured per run (after BENCH_WARMUP=1 thrown away)
 *   BENCH_PARSE_MB=1024        size of the generated CSV
 *   BENCH_EXPORT_ROWS=1000000  annotated rows exported
 *   BENCH_SUGGESTIONS=1000000  lines of the llm_output file imported as suggestions (and a tenth of them, for memory)
 *   BENCH_ONLY=api,parse,validation,export,suggestions,hostile,events,agreement,search   a subset of the steps (hostile, events,
 *                              agreement and search alone seed no dataset; validation checks the table parse stored, so it needs parse)
 *   BENCH_EVENTS_RATE=10       writes per second of the events step's steady load (one webhook endpoint gets them all)
 *   BENCH_EVENTS_DURATION=20   seconds of that load measured (after BENCH_WARMUP's warm-up, at least 2 s)
 *   BENCH_AGREEMENT_ROWS=100000   rows of the agreement bench's job (3 responses each, 2 questions)
 *   BENCH_SEARCH_ROWS=1000000  rows of the search bench's table (q measured at 1 and 8 connections)
 *   BENCH_QUEUE_TIMEOUT=540    seconds a parse or export may take before it is reported unfinished
 *   BENCH_ENDPOINTS=projects.get,annotations.put   the api step's endpoints by key (scripts/bench/endpoints.ts), in their order
 *   BENCH_PROFILE=0            the api step without its CPU profiles (they take about 10 s an endpoint)
 *   BENCH_DISTANCE_MS=0        delay per database round trip (the edge-to-database distance), added by the
 *                              gateway to every query of the API, the floor and the consumers alike: use
 *                              it with BENCH_ONLY=api; the report gives each endpoint's p50 ÷ distance
 */
import { DEFAULT_DATASET, type DatasetSize } from "./dataset.ts";
import { ENDPOINTS } from "./endpoints.ts";

export type Step = "api" | "parse" | "validation" | "export" | "suggestions" | "hostile" | "events" | "agreement" | "search";
const STEPS: Step[] = ["api", "parse", "validation", "export", "suggestions", "hostile", "events", "agreement", "search"];

export type BenchOptions = {
  quick: boolean;
  steps: Set<Step>;
  dataset: DatasetSize;
  concurrencies: number[];
  durationSeconds: number;
  warmupSeconds: number;
  parseBytes: number;
  exportRows: number;
  suggestionLines: number;
  agreementRows: number;
  agreementRequests: number;
  searchRows: number;
  queueTimeoutSeconds: number;
  distanceMs: number;
  /** The api step's endpoints by key; null for all of them. */
  endpoints: Set<string> | null;
  profile: boolean;
  eventsRate: number;
  eventsDurationSeconds: number;
};

const MiB = 1024 * 1024;

function numberFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number, got ${value}`);
  return parsed;
}

export function benchOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const quick = argv.includes("--quick");
  const steps = new Set((process.env.BENCH_ONLY ?? STEPS.join(",")).split(",").map((step) => step.trim()).filter(Boolean) as Step[]);
  for (const step of steps) if (!STEPS.includes(step)) throw new Error(`BENCH_ONLY: unknown step ${step}`);
  const endpoints = process.env.BENCH_ENDPOINTS ? new Set(process.env.BENCH_ENDPOINTS.split(",").map((key) => key.trim()).filter(Boolean)) : null;
  const unknown = [...(endpoints ?? [])].filter((key) => !ENDPOINTS.some((endpoint) => endpoint.key === key));
  if (unknown.length) throw new Error(`BENCH_ENDPOINTS: unknown ${unknown.join(", ")} (known: ${ENDPOINTS.map((endpoint) => endpoint.key).join(", ")})`);
  const dataset: DatasetSize = quick
    ? { ...DEFAULT_DATASET, organizations: 4, projectsPerOrganization: 20, datasetProjectsPerOrganization: 2, rowsPerTable: 500, jobsPerTable: 20 }
    : DEFAULT_DATASET;
  return {
    quick,
    steps,
    dataset,
    concurrencies: (process.env.BENCH_CONCURRENCY ?? (quick ? "1,8" : "1,8,32")).split(",").map(Number),
    durationSeconds: numberFrom("BENCH_DURATION", quick ? 1 : 5),
    warmupSeconds: numberFrom("BENCH_WARMUP", quick ? 0.5 : 1),
    parseBytes: numberFrom("BENCH_PARSE_MB", quick ? 32 : 1024) * MiB,
    exportRows: numberFrom("BENCH_EXPORT_ROWS", quick ? 20_000 : 1_000_000),
    suggestionLines: numberFrom("BENCH_SUGGESTIONS", quick ? 20_000 : 1_000_000),
    agreementRows: numberFrom("BENCH_AGREEMENT_ROWS", quick ? 10_000 : 100_000),
    agreementRequests: quick ? 3 : 7,
    searchRows: numberFrom("BENCH_SEARCH_ROWS", quick ? 20_000 : 1_000_000),
    queueTimeoutSeconds: numberFrom("BENCH_QUEUE_TIMEOUT", quick ? 120 : 540),
    distanceMs: process.env.BENCH_DISTANCE_MS ? numberFrom("BENCH_DISTANCE_MS", 0) : 0,
    endpoints,
    profile: process.env.BENCH_PROFILE !== "0",
    eventsRate: numberFrom("BENCH_EVENTS_RATE", 10),
    eventsDurationSeconds: numberFrom("BENCH_EVENTS_DURATION", quick ? 5 : 20),
  };
}
