import { z } from "@hono/zod-openapi";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:grandscale:problem:not-found" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", { description: "An RFC 9457 problem document." });

// Every 429 the API answers carries Retry-After (seconds), whichever limit refused.
const retryAfterHeader = { "Retry-After": { description: "Seconds until the caller may try again.", schema: { type: "integer" as const } } };

const problem = (code: ErrorCode, description: string) => ({
  [ERROR_CODES[code].status]: {
    description,
    ...(code === "rate_limited" ? { headers: retryAfterHeader } : {}),
    content: { "application/problem+json": { schema: ProblemSchema } },
  },
});

/** The error answers any route can give, spread into every route definition. */
export const commonErrors = {
  ...problem("bad_request", "The body is not valid JSON."),
  ...problem("payload_too_large", "The body is larger than the API accepts."),
  ...problem("unsupported_media_type", "The body is not JSON."),
  ...problem("validation_failed", "A parameter or body field is invalid."),
  ...problem("internal", "Something failed on our side; the request id identifies it in our logs."),
};

export const authErrors = {
  ...problem("unauthorized", "Missing, expired or invalid credentials."),
  ...problem("forbidden", "The caller may see the resource but not change it."),
  ...problem("not_found", "No such resource, or the caller may not see it."),
  ...problem("rate_limited", "The caller (a user, or an API token) sent more requests than its rate limit allows (middleware/rate-limit.ts)."),
};

export { problem };
