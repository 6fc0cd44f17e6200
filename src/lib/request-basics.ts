/**
 * What every answer carries, whoever answers it: the request id, the Server-Timing
 * header and the access log line. Free of the framework and the configuration schema, so
 * the API isolate's own liveness answer (features/health/liveness.ts) shares it with the
 * app's request context (middleware/request-context.ts) without loading the app.
 */
import type { Logger } from "./logger.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when well-formed, else a fresh one. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/** The database's share of the answer (the round-trip meter's), and the whole. */
export function serverTiming(database: { count: number; durationMs: number }, totalMs: number): string {
  return `db;dur=${database.durationMs.toFixed(1)};desc="${database.count} round trips", total;dur=${totalMs.toFixed(1)}`;
}

export function logRequest(logger: Logger, request: { method: string; path: string; status: number; totalMs: number; roundTrips: number }) {
  logger.info("request", {
    method: request.method,
    path: request.path,
    status: request.status,
    duration_ms: Math.round(request.totalMs),
    db_round_trips: request.roundTrips,
  });
}
