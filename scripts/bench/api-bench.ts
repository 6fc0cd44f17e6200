/**
 * The API under load, beside its floor, in one runtime:
 *
 *   "api"          the production bundle, talking to the gateway: what the load hits;
 *   "api-sampled"  the same bundle, talking to the gateway through the SQL recorder:
 *                  each target is requested once there first, which records the SQL
 *                  the API sends for it and its Server-Timing round trips;
 *   "floor"        replays that SQL through the same driver and gateway, nothing else.
 *
 * For every endpoint and concurrency: the API's requests/s, p50, p99, errors and round
 * trips (every response's Server-Timing), the floor's, and API ÷ floor.
 */
import { randomBytes } from "node:crypto";
import type { Bundle } from "./bundle.ts";
import { countCpu, type CpuAccount, type StackProcesses } from "./cpu.ts";
import type { Dataset } from "./dataset.ts";
import { budgetNote, budgetOf, ENDPOINTS, type Endpoint, type Target } from "./endpoints.ts";
import { buildFloorWorker, loadRecordings } from "./floor.ts";
import type { Recording } from "./floor-worker.ts";
import { gatewayQueries } from "./gateway-queries.ts";
import { profileEndpoints } from "./api-profile.ts";
import type { PerfSummary } from "./perf-profile.ts";
import type { ProfileSummary } from "./profile.ts";
import { roundTripsOf, runLoad, settle, warmUp, type LoadRequest, type LoadResult, type LoadSpec } from "./load.ts";
import { apiWorker, backgroundWorker, scriptWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import { callApi, createApiToken, signIn } from "./session.ts";
import { startSqlRecorder, type SqlRecorder } from "./sql-recorder.ts";

export type LoadOptions = { concurrencies: number[]; durationSeconds: number; warmupSeconds: number; endpoints: Set<string> | null; profile: boolean };

export type EndpointRun = {
  concurrency: number;
  api: LoadResult;
  floor: LoadResult;
  /** API p50 ÷ floor p50 (how many times slower), API req/s ÷ floor req/s (share of the floor's throughput). */
  ratio: { p50_latency: number | null; throughput: number | null };
  /** API p50 − floor p50: what the API adds to a request, in milliseconds. */
  p50_overhead_ms: number | null;
  /** CPU seconds each process used during the measured run. */
  cpu_seconds: { api: CpuAccount; floor: CpuAccount };
  /** workerd's CPU time per request: what the Worker costs beyond its queries (Workers bill CPU time). */
  workerd_cpu_ms_per_request: { api: number | null; floor: number | null };
};

export type EndpointReport = {
  key: string;
  label: string;
  method: string;
  actor: string;
  credential: string;
  status: "measured" | "not available" | "failed";
  reason: string | null;
  budget: number;
  budget_note: string;
  sample: { requests: number; statuses: Record<string, number>; round_trips_server_timing: number[]; round_trips_recorded: number[] } | null;
  round_trips: { observed: number[]; budget: number; matches: boolean; note: string } | null;
  runs: EndpointRun[];
  /** Where the API's CPU went at c=1 (profile.ts), from an isolate of its own after the measured runs. */
  profile: ProfileSummary | null;
  /** Where the whole workerd process's CPU went at c=1, native code included (perf-profile.ts); null without perf. */
  perf: PerfSummary | null;
};

const uniqueBase = `b${randomBytes(3).toString("hex")}`;
let uniqueCounter = 0;
const nextUnique = () => `${uniqueBase}n${++uniqueCounter}`;

function normalisedRoute(path: string) {
  return path.replace(/^\/api\/v1(?=\/)/, "").replace(/\{[^}]+\}/g, "{}");
}

async function availableRoutes(base: URL): Promise<Set<string>> {
  const response = await callApi(base, "GET", "/openapi.json");
  const paths = (response.body?.paths ?? {}) as Record<string, Record<string, unknown>>;
  return new Set(Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${normalisedRoute(path)}`)));
}

const distinct = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

function ratio(numerator: number | null, denominator: number | null) {
  return numerator === null || denominator === null || denominator === 0 ? null : numerator / denominator;
}

/** Requests each target once on the sampling twin: status, Server-Timing, and the SQL it sent. */
async function sample(endpoint: Endpoint, targets: Target[], base: URL, token: string, recorder: SqlRecorder) {
  const statuses: Record<string, number> = {};
  const serverTiming: number[] = [];
  const recorded: number[] = [];
  const recordings: Recording[] = [];
  let failure: string | null = null;
  // An API token's first request in an isolate pays its lookup; every later one does not.
  if (endpoint.credential === "api_token") await callApi(base, "GET", "/api/v1/auth/me", { token });
  recorder.take();
  for (const target of targets) {
    const unique = nextUnique();
    const body = target.body ? target.body(unique) : undefined;
    const response = await callApi(base, endpoint.method, target.path, { token, body });
    const calls = recorder.take();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    const count = roundTripsOf(response.headers.get("server-timing"));
    if (count !== null) serverTiming.push(count);
    recorded.push(calls.length);
    if (response.status >= 300 && !failure) failure = `${endpoint.method} ${target.path} answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`;
    recordings.push({ calls, unique: body !== undefined && JSON.stringify(body).includes(unique) ? unique : null });
  }
  return { statuses, serverTiming, recorded, recordings, failure };
}

function loadRequests(targets: Target[]): LoadRequest[] {
  return targets.map((target) => ({ path: target.path, ...(target.body ? { body: () => JSON.stringify(target.body!(nextUnique())) } : {}) }));
}

function cpuPerRequest(cpu: CpuAccount, result: LoadResult): number | null {
  const workerd = cpu.workerd ?? null;
  return workerd === null || result.requests === 0 ? null : (workerd * 1000) / result.requests;
}

/** Server-Timing counts (sample and load) against the budget, cross-checked with the SQL requests recorded. */
function roundTripVerdict(endpoint: Endpoint, observed: number[], recorded: number[]) {
  const budget = budgetOf(endpoint);
  const matches = observed.length > 0 && observed.every((count) => count === budget);
  const disagreement =
    recorded.join() === observed.join() ? "" : `; the recorder saw ${recorded.join("/")} SQL requests per sampled request`;
  const note = matches
    ? `${budgetNote(endpoint)}${disagreement}`
    : observed.length === 0
      ? "no Server-Timing header seen (is SERVER_TIMING on?)"
      : `over budget: observed ${observed.join("/")} against a budget of ${budget} (${budgetNote(endpoint)})${disagreement}; ` +
        "sample_sql in latest.json shows what each round trip carries";
  return { observed, budget, matches, note };
}

type Sampled = { endpoint: Endpoint; report: EndpointReport; targets: Target[] };

function newReport(endpoint: Endpoint): EndpointReport {
  return {
    key: endpoint.key,
    label: endpoint.label,
    method: endpoint.method,
    actor: endpoint.actor,
    credential: endpoint.credential,
    status: "measured",
    reason: null,
    budget: budgetOf(endpoint),
    budget_note: budgetNote(endpoint),
    sample: null,
    round_trips: null,
    runs: [],
    profile: null,
    perf: null,
  };
}

export async function runApiBench(options: {
  bundle: Bundle;
  bindings: BenchBindings;
  gatewayUrl: string;
  processes: StackProcesses;
  dataset: Dataset;
  load: LoadOptions;
  log: (line: string) => void;
}): Promise<{ endpoints: EndpointReport[]; recordings: Record<string, Recording[]>; workerLog: string[] }> {
  const { bundle, bindings, gatewayUrl, processes, dataset, load, log } = options;
  const recorder = await startSqlRecorder(gatewayUrl);
  const floorScript = await buildFloorWorker();
  const runtime = await startRuntime([
    apiWorker(bundle, "api", bindings),
    apiWorker(bundle, "api-sampled", { ...bindings, NEON_GATEWAY_URL: recorder.url }),
    // The webhook dispatcher the writes wake (no queue consumers: nothing is parsed or delivered here).
    backgroundWorker(bundle.background, bindings, { queueConsumers: false }),
    scriptWorker("floor", floorScript, { DATABASE_URL: bindings.DATABASE_URL!, NEON_GATEWAY_URL: gatewayUrl }),
  ]);
  try {
    const api = await runtime.url("api");
    const sampled = await runtime.url("api-sampled");
    const floor = await runtime.url("floor");
    const routes = await availableRoutes(api);

    const jwt = {
      reader: await signIn(api, dataset.reader.email),
      writer: await signIn(api, dataset.writer.email),
      annotator: await signIn(api, dataset.annotator.email),
      reviewer: await signIn(api, dataset.reviewer.email),
    };
    const apiToken = await createApiToken(api, jwt.reader);
    const tokenFor = (endpoint: Endpoint) => (endpoint.credential === "api_token" ? apiToken : jwt[endpoint.actor]);
    /** An endpoint's requests against one copy of the API, as its caller sends them. */
    const apiLoad = (endpoint: Endpoint, targets: Target[], url: URL, run: Pick<LoadSpec, "concurrency" | "durationSeconds" | "warmupSeconds">): LoadSpec => ({
      ...run,
      url,
      method: endpoint.method,
      headers: { authorization: `Bearer ${tokenFor(endpoint)}`, ...(endpoint.method === "GET" ? {} : { "content-type": "application/json" }) },
      requests: loadRequests(targets),
    });

    const reports: EndpointReport[] = [];
    const recordings: Record<string, Recording[]> = {};
    const measurable: Sampled[] = [];
    for (const endpoint of ENDPOINTS.filter((candidate) => !load.endpoints || load.endpoints.has(candidate.key))) {
      const report = newReport(endpoint);
      reports.push(report);
      if (!routes.has(`${endpoint.method} ${normalisedRoute(endpoint.route)}`)) {
        report.status = "not available";
        report.reason = `${endpoint.method} ${endpoint.route} is not in /openapi.json`;
        log(`  ${endpoint.label}: not available`);
        continue;
      }
      const targets = endpoint.targets(dataset);
      const result = await sample(endpoint, targets, sampled, tokenFor(endpoint), recorder);
      report.sample = {
        requests: targets.length,
        statuses: result.statuses,
        round_trips_server_timing: distinct(result.serverTiming),
        round_trips_recorded: distinct(result.recorded),
      };
      recordings[endpoint.key] = result.recordings;
      if (result.failure) {
        report.status = "failed";
        report.reason = result.failure;
        log(`  ${endpoint.label}: sample failed (${result.failure.slice(0, 160)})`);
        continue;
      }
      measurable.push({ endpoint, report, targets });
    }
    await loadRecordings(floor, recordings);

    const stack = { workerd: runtime.pid, ...processes, bench: process.pid };
    const database = gatewayQueries(gatewayUrl, bindings.DATABASE_URL!);
    const measured = async (spec: LoadSpec) => {
      await settle(database);
      await warmUp(spec);
      const cpu = countCpu(stack);
      const result = await runLoad(spec);
      return { result, cpu: cpu.stop() };
    };
    for (const { endpoint, report, targets } of measurable) {
      const observed = new Set<number>(report.sample!.round_trips_server_timing);
      for (const concurrency of load.concurrencies) {
        const common = { concurrency, durationSeconds: load.durationSeconds, warmupSeconds: load.warmupSeconds };
        const apiRun = await measured(apiLoad(endpoint, targets, api, common));
        const floorRun = await measured({ ...common, url: floor, method: "GET", headers: {}, requests: [{ path: `/replay/${endpoint.key}` }] });
        const apiResult = apiRun.result;
        const floorResult = floorRun.result;
        for (const count of Object.keys(apiResult.round_trips?.histogram ?? {})) observed.add(Number(count));
        report.runs.push({
          concurrency,
          api: apiResult,
          floor: floorResult,
          ratio: { p50_latency: ratio(apiResult.p50_ms, floorResult.p50_ms), throughput: ratio(apiResult.requests_per_s, floorResult.requests_per_s) },
          p50_overhead_ms: apiResult.p50_ms === null || floorResult.p50_ms === null ? null : apiResult.p50_ms - floorResult.p50_ms,
          cpu_seconds: { api: apiRun.cpu, floor: floorRun.cpu },
          workerd_cpu_ms_per_request: { api: cpuPerRequest(apiRun.cpu, apiResult), floor: cpuPerRequest(floorRun.cpu, floorResult) },
        });
        const summary = (result: LoadResult) => `${result.requests_per_s.toFixed(0)} req/s p50 ${result.p50_ms === null ? "–" : result.p50_ms.toFixed(2)} ms`;
        log(`  ${endpoint.label} c=${concurrency}: ${summary(apiResult)} (floor ${summary(floorResult)}), errors ${apiResult.errors}/${floorResult.errors}`);
      }
      report.round_trips = roundTripVerdict(endpoint, distinct([...observed]), report.sample!.round_trips_recorded);
    }
    if (load.profile) await profileEndpoints({
      bundle,
      bindings,
      endpoints: measurable.map(({ endpoint, report, targets }) => ({
        key: endpoint.key,
        label: endpoint.label,
        report,
        spec: (url: URL) => apiLoad(endpoint, targets, url, { concurrency: 1, durationSeconds: Math.min(3, load.durationSeconds), warmupSeconds: 1 }),
      })),
      log,
    });
    if (runtime.problems.length) log(`  the Worker logged ${runtime.problems.length} warnings or errors, e.g. ${runtime.problems[0]!.slice(0, 200)}`);
    return { endpoints: reports, recordings, workerLog: runtime.problems.slice(0, 5).map((line) => line.slice(0, 2000)) };
  } finally {
    await runtime.dispose();
    await recorder.close();
  }
}

/**
 * At a simulated distance (BENCH_DISTANCE_MS) each endpoint's p50 at one connection as a
 * multiple of the distance: about its round trips plus what the Worker and the database
 * add; the target is ≤ 1.15 for a request of one round trip.
 */
export function distanceNotes(endpoints: EndpointReport[], distanceMs: number): string[] {
  return endpoints.flatMap((endpoint) => {
    const run = endpoint.runs.find((candidate) => candidate.concurrency === 1);
    const p50 = run?.api.p50_ms ?? null;
    if (p50 === null) return [];
    const floor = run?.floor.p50_ms ?? null;
    const ratio = (value: number) => (value / distanceMs).toFixed(2);
    return [`distance ${distanceMs} ms, c=1: ${endpoint.label} p50 ${p50.toFixed(1)} ms = ${ratio(p50)} × distance` +
      (floor === null ? "" : ` (floor ${ratio(floor)} ×)`)];
  });
}
