import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, type FieldError } from "./errors.ts";
import { beyondIdRange, idRangeErrors, unstorableTextErrors } from "./input-bounds.ts";
import type { AppEnv } from "./types.ts";

const LOCATIONS: Record<string, string> = { json: "body", form: "body", query: "query", param: "path", header: "header" };

function invalid(location: string, errors: FieldError[]): ApiError {
  return new ApiError("validation_failed", `The request ${location} is invalid.`, { errors });
}

/**
 * A path id beyond the int4 range names no row: 404, as for any id that does not exist
 * (it must never reach SQL, where it is a cast error and a 500). Checked on the raw
 * value, so `2^63`, which zod's safe-integer check would call malformed, is a 404 too.
 */
function assertPathIdsExist(c: Context<AppEnv>) {
  for (const [name, raw] of Object.entries(c.req.param() as Record<string, string>)) {
    if (name.endsWith("_id") && beyondIdRange(raw)) throw new ApiError("not_found", `No resource has ${name} ${raw}.`);
  }
}

/**
 * Every router shares one validation hook: zod failures become a 422 problem with one
 * `{ path, message }` per issue, the path prefixed by where the value came from. Valid
 * values the database still could not take are refused here too, for every route at
 * once: ids in the query or body beyond int4 and query text with NUL characters (422;
 * JSON bodies are screened for text and depth by middleware/json-body.ts).
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      const location = LOCATIONS[result.target] ?? result.target;
      if (result.target === "param") assertPathIdsExist(c as Context<AppEnv>);
      if (!result.success) {
        const errors = result.error.issues.map((issue) => ({
          path: [location, ...issue.path.map(String)].join("."),
          message: issue.message,
        }));
        throw invalid(location, errors);
      }
      if (result.target !== "query" && result.target !== "json") return;
      const errors = [...idRangeErrors(result.data, location), ...(result.target === "query" ? unstorableTextErrors(result.data, location) : [])];
      if (errors.length > 0) throw invalid(location, errors);
    },
  });
}
