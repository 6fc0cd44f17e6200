import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors.ts";
import type { AppEnv } from "../lib/types.ts";

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json(;|$)/i;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * The API speaks JSON only. A body that does not parse is a 400 whatever its declared
 * type (so `curl -d '{bad'` learns what is wrong, not that curl labels bodies as forms);
 * a parseable body sent under another media type is a 415.
 */
export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!BODY_METHODS.has(c.req.method)) return next();
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength === 0) return next();
  try {
    JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ApiError("bad_request", "The request body is not valid JSON.");
  }
  const contentType = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Send the body as JSON with `Content-Type: application/json`.");
  }
  return next();
});
