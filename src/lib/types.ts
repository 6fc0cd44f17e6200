import type { RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Database } from "../db/client.ts";
import type { RoundTripMeter } from "../db/round-trips.ts";
import type { Bindings, Config } from "../env.ts";
import type { Principal } from "../features/auth/principal.ts";
import type { IdempotencyRequest } from "./idempotency.ts";
import type { Logger } from "./logger.ts";

export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    config: Config;
    db: Database;
    logger: Logger;
    roundTrips: RoundTripMeter;
    /** Set by the authenticate middleware on protected routes. */
    principal?: Principal;
    /** Set by the idempotent middleware when the request carries an Idempotency-Key. */
    idempotency?: IdempotencyRequest;
  };
};

export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
