import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";
import type { AppEnv } from "./types.ts";

const LOCATIONS: Record<string, string> = { json: "body", form: "body", query: "query", param: "path", header: "header" };

/**
 * Every router shares one validation hook: zod failures become a 422 problem with one
 * `{ path, message }` per issue, the path prefixed by where the value came from.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const location = LOCATIONS[result.target] ?? result.target;
      const errors = result.error.issues.map((issue) => ({
        path: [location, ...issue.path.map(String)].join("."),
        message: issue.message,
      }));
      throw new ApiError("validation_failed", `The request ${location} is invalid.`, { errors });
    },
  });
}
