import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors.ts";
import { jsonDeeperThan, MAX_JSON_DEPTH, unstorableTextErrors } from "../lib/input-bounds.ts";
import type { AppEnv } from "../lib/types.ts";

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json(;|$)/i;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * The API speaks JSON only. A body that does not parse is a 400 whatever its declared
 * type (so `curl -d '{bad'` learns what is wrong, not that curl labels bodies as forms);
 * a parseable body sent under another media type is a 415. A JSON body nested deeper
 * than MAX_JSON_DEPTH, or holding text Postgres cannot store (NUL, lone surrogates), is
 * a 422 naming the field, for every route at once: routes that keep free-form JSON
 * (annotation `data`) would otherwise hand it to the database, or to a recursive
 * JSON.stringify, and fail with a 500.
 */
export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!BODY_METHODS.has(c.req.method)) return next();
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength === 0) return next();
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError("bad_request", "The request body is not valid JSON.");
  }
  const contentType = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Send the body as JSON with `Content-Type: application/json`.");
  }
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ApiError("validation_failed", `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, {
      errors: [{ path: "body", message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
    });
  }
  const errors = unstorableTextErrors(body, "body");
  if (errors.length > 0) throw new ApiError("validation_failed", "The request body holds text that cannot be stored.", { errors });
  return next();
});
