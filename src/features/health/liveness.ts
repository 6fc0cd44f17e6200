/**
 * GET and HEAD /health answered by the API isolate itself, before the app with its routes
 * and schemas is loaded (src/app-shell.ts): that the isolate runs is all a liveness
 * check asks (GET /health/db asks the database, and imports the app), and a new isolate
 * answers its first one without the app's code (README "Two Workers"). The answer is the
 * app's own route's (health.routes.ts, documented there): `{"status":"ok"}`, X-Request-Id,
 * Server-Timing when configured, the access log line.
 *
 * A request carrying an Origin goes to the app instead, whose CORS middleware answers
 * it as it answers every route; `Vary: Origin` says so to caches. The two settings read
 * here are read as the app's configuration reads them (env.ts), without its validation:
 * an invalid one fails every other request of the isolate, not its liveness.
 */
import type { Bindings } from "../../env.ts";
import { createLogger, isLevel } from "../../lib/logger.ts";
import { logRequest, requestIdOf, serverTiming } from "../../lib/request-basics.ts";

export const LIVENESS_PATH = "/health";

export function answersLiveness(request: Request, pathname: string): boolean {
  return (request.method === "GET" || request.method === "HEAD") && pathname === LIVENESS_PATH && !request.headers.has("origin");
}

export function liveness(request: Request, env: Bindings): Response {
  const started = performance.now();
  const settings = env as unknown as Record<string, unknown>;
  const requestId = requestIdOf(request.headers.get("x-request-id"));
  const headers = new Headers({ "content-type": "application/json", "x-request-id": requestId, vary: "Origin" });
  const body = request.method === "HEAD" ? null : JSON.stringify({ status: "ok" });
  const logger = createLogger({ request_id: requestId }, isLevel(settings.LOG_LEVEL) ? settings.LOG_LEVEL : "info");
  const totalMs = performance.now() - started;
  if (settings.SERVER_TIMING === "true") headers.set("server-timing", serverTiming({ count: 0, durationMs: 0 }, totalMs));
  logRequest(logger, { method: request.method, path: LIVENESS_PATH, status: 200, totalMs, roundTrips: 0 });
  return new Response(body, { status: 200, headers });
}
