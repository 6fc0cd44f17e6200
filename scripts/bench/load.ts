/**
 * One load run: autocannon at a fixed concurrency (connections, one request in flight
 * each) for a fixed time, after a short warm-up that is thrown away (warmUp). Latencies are taken
 * per response from autocannon's own timer (time from writing the request to its
 * response) and kept unrounded, so sub-millisecond differences between the API and its
 * floor survive; autocannon's histogram would round them to whole milliseconds.
 * Every response's Server-Timing header is read for its round-trip count.
 */
import autocannon from "autocannon";
import type { Queryable } from "./gateway-queries.ts";

export type LoadRequest = { path: string; body?: () => string };

export type LoadSpec = {
  url: URL;
  method: string;
  headers: Record<string, string>;
  requests: LoadRequest[];
  concurrency: number;
  durationSeconds: number;
  warmupSeconds: number;
};

export type RoundTripCount = { responses: number; min: number; max: number; histogram: Record<string, number> };

export type LoadResult = {
  concurrency: number;
  duration_s: number;
  requests: number;
  requests_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
  /** Non-2xx answers plus socket errors and timeouts. */
  errors: number;
  status_codes: Record<string, number>;
  /** From Server-Timing (`desc="N round trips"`) of every response that carried it. */
  round_trips: RoundTripCount | null;
};

const ROUND_TRIPS = /desc="(\d+) round trips?"/;

export function roundTripsOf(serverTiming: string | null | undefined): number | null {
  const match = serverTiming ? ROUND_TRIPS.exec(serverTiming) : null;
  return match ? Number(match[1]) : null;
}

function percentile(sorted: number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

function run(spec: LoadSpec, durationSeconds: number, observe: boolean) {
  let turn = 0;
  const latencies: number[] = [];
  const roundTrips = new Map<number, number>();
  const request = {
    setupRequest: (base: { path?: string; body?: string | Buffer }) => {
      const next = spec.requests[turn++ % spec.requests.length]!;
      return { ...base, path: next.path, ...(next.body ? { body: next.body() } : {}) };
    },
    ...(observe
      ? {
          onResponse: (_status: number, _body: string, _context: unknown, headers: Record<string, string>) => {
            const count = roundTripsOf(headers["server-timing"] ?? headers["Server-Timing"]);
            if (count !== null) roundTrips.set(count, (roundTrips.get(count) ?? 0) + 1);
          },
        }
      : {}),
  };
  const instance = autocannon({
    url: spec.url.origin,
    connections: spec.concurrency,
    pipelining: 1,
    duration: durationSeconds,
    timeout: 30,
    method: spec.method,
    headers: spec.headers,
    requests: [request],
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (observe && status >= 200 && status < 300) latencies.push(responseTime);
  });
  return { instance, latencies, roundTrips };
}

/** Requests for `warmupSeconds`, answers thrown away (JIT, connection pools, caches). */
export async function warmUp(spec: LoadSpec): Promise<void> {
  if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds, false).instance;
}

/** The measured run (call warmUp first). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { instance, latencies, roundTrips } = run(spec, spec.durationSeconds, true);
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const counts = [...roundTrips.keys()];
  const responses = [...roundTrips.values()].reduce((sum, n) => sum + n, 0);
  return {
    concurrency: spec.concurrency,
    duration_s: result.duration,
    requests: result.requests.total,
    requests_per_s: result.requests.total / result.duration,
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    mean_ms: latencies.length ? latencies.reduce((sum, value) => sum + value, 0) / latencies.length : null,
    errors: result.non2xx + result.errors + result.timeouts,
    status_codes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count])),
    round_trips: responses
      ? { responses, min: Math.min(...counts), max: Math.max(...counts), histogram: Object.fromEntries([...roundTrips].map(([n, c]) => [String(n), c])) }
      : null,
  };
}

/**
 * autocannon stops at the end of a run with requests still in flight; their queries go
 * on in the database. Before the next run starts, wait until the database is idle: a
 * query through the gateway queues behind them (on PGlite the gateway has a single
 * connection) and, on a server, no other session of the database may still be active
 * (30 s at most).
 */
export async function settle(database: Queryable): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const { rows } = await database.query(
      `select count(*)::int as busy from pg_stat_activity
        where datname = current_database() and state not in ('idle') and pid <> pg_backend_pid()`,
    );
    if (rows[0]!.busy === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
