import { createMiddleware } from "hono/factory";
import { createDatabase } from "../db/client.ts";
import { RoundTripMeter, withRoundTripMeter } from "../db/round-trips.ts";
import { loadConfig } from "../env.ts";
import { createLogger } from "../lib/logger.ts";
import { logRequest, requestIdOf, serverTiming } from "../lib/request-basics.ts";
import type { AppEnv } from "../lib/types.ts";

/**
 * The first middleware: request id (the caller's when well-formed, else a new one),
 * validated config, database handle, logger, the round-trip meter around everything
 * after it, and the access log line and Server-Timing header once the answer is known.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const requestId = requestIdOf(c.req.header("x-request-id"));
  c.set("requestId", requestId);
  c.set("logger", createLogger({ request_id: requestId }));
  const config = loadConfig(c.env);
  const logger = createLogger({ request_id: requestId }, config.LOG_LEVEL);
  const meter = new RoundTripMeter();
  c.set("logger", logger);
  c.set("roundTrips", meter);
  c.set("config", config);
  c.set("db", createDatabase(config));

  await withRoundTripMeter(meter, next);

  const totalMs = performance.now() - started;
  c.header("X-Request-Id", requestId);
  if (config.SERVER_TIMING) c.header("Server-Timing", serverTiming(meter, totalMs));
  logRequest(logger, { method: c.req.method, path: c.req.path, status: c.res.status, totalMs, roundTrips: meter.count });
});
