import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { credentialGuard, guardedDatabase } from "../db/credential-guard.ts";
import { authenticateApiToken } from "../features/api-tokens/api-tokens.service.ts";
import { InvalidAccessToken, verifyAccessToken } from "../features/auth/access-tokens.ts";
import { ApiError } from "../lib/errors.ts";
import { TOKEN_PREFIXES } from "../lib/opaque-tokens.ts";
import type { AppEnv } from "../lib/types.ts";
import type { Principal } from "../features/auth/principal.ts";

function unauthorized(detail: string) {
  return new ApiError("unauthorized", detail, { headers: { "WWW-Authenticate": 'Bearer realm="grandscale"' } });
}

export const REVOKED_DETAIL = "This credential was revoked: the account was deleted, deactivated or changed since it was issued. Sign in again.";

export function revoked() {
  return unauthorized(REVOKED_DETAIL);
}

/** From here on every database call of the request carries the caller's revocation check. */
function signIn(c: Context<AppEnv>, principal: Principal) {
  c.set("principal", principal);
  c.set("db", guardedDatabase(c.get("db"), credentialGuard(principal)));
}

/**
 * `Authorization: Bearer <access JWT | API token>`. An access token is verified locally
 * (no database round trip); an API token is looked up by its hash, which is the one
 * round trip it costs (and where its last_used_at is kept). Either way, whether the
 * credential still stands is checked inside the request's own database calls.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw unauthorized("Send `Authorization: Bearer <token>`.");
  const token = match[1]!;

  if (token.startsWith(TOKEN_PREFIXES.apiToken)) {
    const principal = await authenticateApiToken(c.get("db"), token);
    if (!principal) throw unauthorized("The API token is invalid, expired or revoked.");
    signIn(c, principal);
    return next();
  }
  try {
    signIn(c, await verifyAccessToken(c.get("config"), token));
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw unauthorized(`${error.message[0]!.toUpperCase()}${error.message.slice(1)}.`);
    throw error;
  }
  return next();
});
