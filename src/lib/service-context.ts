import type { Context } from "hono";
import type { Database } from "../db/client.ts";
import type { Config } from "../env.ts";
import type { Principal } from "../features/auth/principal.ts";
import type { IdempotencyRequest } from "./idempotency.ts";
import type { Logger } from "./logger.ts";
import type { AppEnv } from "./types.ts";

/** What a service needs of the request: typed, and free of HTTP. Queue consumers build one too. */
export type ServiceContext = {
  db: Database;
  config: Config;
  logger: Logger;
  requestId: string;
  principal: Principal | null;
  idempotency: IdempotencyRequest | null;
};

export type AuthenticatedContext = ServiceContext & { principal: Principal };

export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return {
    db: c.get("db"),
    config: c.get("config"),
    logger: c.get("logger"),
    requestId: c.get("requestId"),
    principal: c.get("principal") ?? null,
    idempotency: c.get("idempotency") ?? null,
  };
}

export function authenticatedContext(c: Context<AppEnv>): AuthenticatedContext {
  const ctx = serviceContext(c);
  if (!ctx.principal) throw new Error("authenticatedContext used on a route without the authenticate middleware");
  return ctx as AuthenticatedContext;
}
