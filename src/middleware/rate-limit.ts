import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors.ts";
import type { AppEnv } from "../lib/types.ts";

/**
 * The period of wrangler.toml's API_LIMITER (Workers rate limiting allows 10 or 60 s): a
 * refused caller is told to come back after it, as the sign-in limiter does.
 */
export const API_LIMIT_PERIOD_SECONDS = 60;

/**
 * Every authenticated request counts against its caller: the user for an access token,
 * the token itself for an API token (each token its own budget, so a script's token
 * cannot starve its owner's browser session, nor the reverse). It runs right after
 * authenticate, before idempotency and the handler, so a refused request costs no
 * database round trip. The limiter is Cloudflare's rate-limiting binding: counters
 * local to each Cloudflare location, no storage of ours; sign-in and sign-up keep their
 * own tighter limiters (auth.service.ts).
 */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get("principal");
  if (!principal) throw new Error("rateLimit runs after authenticate");
  const key = principal.credential.kind === "api_token" ? `api:token:${principal.credential.token_id}` : `api:user:${principal.user_id}`;
  const { success } = await c.get("config").API_LIMITER.limit({ key });
  if (!success) {
    throw new ApiError("rate_limited", `Too many requests from this caller; try again in ${API_LIMIT_PERIOD_SECONDS} seconds.`, {
      headers: { "Retry-After": String(API_LIMIT_PERIOD_SECONDS) },
    });
  }
  await next();
});
