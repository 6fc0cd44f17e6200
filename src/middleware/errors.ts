import { sql } from "drizzle-orm";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../env.ts";
import { CREDENTIAL_REVOKED, PRINCIPAL_STALE } from "../db/credential-guard.ts";
import { forgetApiToken } from "../features/api-tokens/api-token-cache.ts";
import { STALE_PRINCIPAL_HEADER } from "../features/api-tokens/stale-principal.ts";
import { ApiError, codeForStatus, toProblem } from "../lib/errors.ts";
import { createLogger, errorFields } from "../lib/logger.ts";
import { postgresErrorOf } from "../lib/postgres-errors.ts";
import type { AppEnv } from "../lib/types.ts";
import { revoked } from "./authenticate.ts";

function respond(c: Context<AppEnv>, error: ApiError) {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  const headers = { ...error.headers, "X-Request-Id": requestId, "Content-Type": "application/problem+json" };
  return new Response(JSON.stringify(toProblem(error, requestId)), { status: error.status, headers });
}

function isRevocation(error: unknown) {
  return postgresErrorOf(error)?.code === CREDENTIAL_REVOKED;
}

/**
 * A refusal decided without the database (a permission the token's roles lack, your
 * own account) would otherwise be told to a revoked credential too. Only that error
 * path pays a round trip: the guard alone, so a revoked caller learns nothing but 401.
 */
async function credentialStands(c: Context<AppEnv>): Promise<boolean> {
  if (!c.get("principal") || c.get("roundTrips").count > 0) return true;
  try {
    await c.get("db").execute(sql`select 1`);
    return true;
  } catch (error) {
    if (isRevocation(error)) return false;
    c.get("logger").warn("could not confirm the credential behind a refusal", errorFields(error));
    return true;
  }
}

/**
 * One error handler in three tiers: our ApiError as it is; Hono's HTTPException (e.g.
 * the body limit, the validator's media-type gate) mapped through the code table;
 * anything else is a 500 that is logged with the request id and reveals nothing.
 */
export const onError: ErrorHandler<AppEnv> = async (error, c) => {
  if (error instanceof ApiError) {
    if (error.status === 403 && !(await credentialStands(c))) return respond(c, revoked());
    return respond(c, error);
  }
  if (error instanceof HTTPException) {
    const code = codeForStatus(error.status);
    return respond(c, new ApiError(code, error.message || "The request could not be processed."));
  }
  if (isRevocation(error)) return respond(c, revoked());
  const principal = c.get("principal");
  if (postgresErrorOf(error)?.code === PRINCIPAL_STALE && principal?.credential.kind === "api_token") {
    forgetApiToken(principal.credential.token_id);
    const answer = respond(c, revoked());
    answer.headers.set(STALE_PRINCIPAL_HEADER, "1");
    return answer;
  }
  const logger = c.get("logger") ?? createLogger({ request_id: c.get("requestId") });
  if (error instanceof ConfigError) {
    logger.error("configuration error", errorFields(error));
    return respond(c, new ApiError("internal", `The service is misconfigured: ${error.message}.`));
  }
  logger.error("unhandled error", { method: c.req.method, path: c.req.path, ...errorFields(error) });
  return respond(c, new ApiError("internal", "An unexpected error occurred."));
};

/** Unknown paths are 404; known paths asked with another method are 405 with `Allow`. */
export function notFound(allowedMethods: (path: string) => string[]): NotFoundHandler<AppEnv> {
  return (c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) {
      return respond(
        c,
        new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, {
          headers: { Allow: allowed.join(", ") },
        }),
      );
    }
    return respond(c, new ApiError("not_found", `No route matches ${c.req.method} ${c.req.path}.`));
  };
}
