import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { applyCommonMiddleware } from "./app-common.ts";
import { registerDocs } from "./features/docs/docs.index.ts";
import { healthRouter } from "./features/health/health.index.ts";
import { webhookSignal } from "./features/webhooks/webhook-signal.ts";
import { FEATURE_ROUTERS } from "./feature-routers.ts";
import { createRouter } from "./lib/create-router.ts";
import { ApiError } from "./lib/errors.ts";
import type { AppEnv } from "./lib/types.ts";
import { notFound, onError } from "./middleware/errors.ts";
import { jsonBody } from "./middleware/json-body.ts";

export const API_BASE_PATH = "/api/v1";
const MAX_JSON_BODY_BYTES = 1024 * 1024;

function routePattern(path: string): RegExp {
  const literal = path.replace(/[.+?^$()|[\]{}\\]/g, "\\$&");
  return new RegExp(`^${literal.replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*")}$`);
}

/**
 * Which methods the app serves on a path, from a route table: the 405's `Allow`. Paths
 * match exactly as the router does (no trailing slash, no empty segment), so
 * `DELETE /api-tokens/` (an empty token_id) is the 404 it is, not a 405 offering GET, and
 * the `.` of `violations.csv` matches only itself.
 */
export function allowedMethodsOf(table: () => readonly { method: string; path: string }[]) {
  let routes: { pattern: RegExp; method: string }[] | undefined;
  return (path: string) => {
    routes ??= table()
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        pattern: routePattern(route.path),
      }));
    return [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
  };
}

type AllowedMethods = (path: string) => string[];

/**
 * What every answer goes through (request context, CORS, the body limit and screening,
 * the webhook wake-up, errors), the health checks, and `routers` under /api/v1.
 * app-dispatch.ts builds one of these per feature that requests use; `allowedMethods`
 * is the whole route table's, so a 405 offers the same methods whichever app answers it.
 */
export function createApp(routers: OpenAPIHono<AppEnv>[], allowedMethods: AllowedMethods, options: { docs?: boolean; failure?: unknown } = {}) {
  const app = createRouter();

  applyCommonMiddleware(app);
  // An app that could not be built (app-dispatch.ts) answers through the same errors: a logged 500 problem.
  if (options.failure !== undefined) {
    const { failure } = options;
    app.use("*", () => {
      throw failure;
    });
  }
  app.use(
    `${API_BASE_PATH}/*`,
    bodyLimit({
      maxSize: MAX_JSON_BODY_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large", `Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
      },
    }),
  );
  app.use(`${API_BASE_PATH}/*`, jsonBody);
  app.use(`${API_BASE_PATH}/*`, webhookSignal);

  app.route("/", healthRouter);
  const api = createRouter();
  for (const router of routers) api.route("/", router);
  app.route(API_BASE_PATH, api);
  if (options.docs) registerDocs(app);

  app.onError(onError);
  app.notFound(notFound(allowedMethods));
  return app;
}

/** Every feature, with /openapi.json and /docs: the app the OpenAPI document describes. */
export async function createFullApp(): Promise<OpenAPIHono<AppEnv>> {
  const routers = await Promise.all(Object.values(FEATURE_ROUTERS).map((load) => load()));
  const app: OpenAPIHono<AppEnv> = createApp(routers, allowedMethodsOf(() => app.routes), { docs: true });
  return app;
}
