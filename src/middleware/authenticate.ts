import { createMiddleware } from "hono/factory";
import { authenticateApiToken } from "../features/api-tokens/api-tokens.service.ts";
import { InvalidAccessToken, verifyAccessToken } from "../features/auth/access-tokens.ts";
import { ApiError } from "../lib/errors.ts";
import { TOKEN_PREFIXES } from "../lib/opaque-tokens.ts";
import type { AppEnv } from "../lib/types.ts";

function unauthorized(detail: string) {
  return new ApiError("unauthorized", detail, { headers: { "WWW-Authenticate": 'Bearer realm="grandscale"' } });
}

/**
 * `Authorization: Bearer <access JWT | API token>`. An access token is verified locally
 * (no database round trip); an API token is looked up by its hash, which is the one
 * round trip it costs (and where its last_used_at is kept).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw unauthorized("Send `Authorization: Bearer <token>`.");
  const token = match[1]!;

  if (token.startsWith(TOKEN_PREFIXES.apiToken)) {
    const principal = await authenticateApiToken(c.get("db"), token);
    if (!principal) throw unauthorized("The API token is invalid, expired or revoked.");
    c.set("principal", principal);
    return next();
  }
  try {
    c.set("principal", await verifyAccessToken(c.get("config"), token));
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw unauthorized(`${error.message[0]!.toUpperCase()}${error.message.slice(1)}.`);
    throw error;
  }
  return next();
});
