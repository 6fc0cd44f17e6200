import { createMiddleware } from "hono/factory";
import { createDatabase } from "../db/client.ts";
import { RoundTripMeter, withRoundTripMeter } from "../db/round-trips.ts";
import { loadConfig } from "../env.ts";
import { createLogger } from "../lib/logger.ts";
import type { AppEnv } from "../lib/types.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The first middleware: request id (the caller's when well-formed, else a new one),
 * validated config, database handle, logger, the round-trip meter around everything
 * after it, and the access log line and Server-Timing header once the answer is known.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
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
  if (config.SERVER_TIMING) {
    c.header(
      "Server-Timing",
      `db;dur=${meter.durationMs.toFixed(1)};desc="${meter.count} round trips", total;dur=${totalMs.toFixed(1)}`,
    );
  }
  logger.info("request", {
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    duration_ms: Math.round(totalMs),
    db_round_trips: meter.count,
  });
});
