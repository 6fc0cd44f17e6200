/**
 * The API Worker's `fetch`, in two parts (README "Two Workers", BENCHMARKS.md "Bundle and
 * startup"). At isolate start-up only the health checks are built. The app with every
 * route (src/app.ts: the features' zod schemas, their OpenAPI metadata, the route table)
 * is imported on the first other request: esbuild turns that `import()` into a lazy
 * initialiser inside the same bundle, so those modules' top levels run then, once per
 * isolate, and not for an isolate that is only started (Cloudflare starts isolates ahead
 * of requests, and counts their start-up against its limit). The OpenAPI document is built
 * later still, on the first GET /openapi.json (features/docs).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { applyCommonMiddleware } from "./app-common.ts";
import type { Bindings } from "./env.ts";
import { healthRouter } from "./features/health/health.index.ts";
import { createRouter } from "./lib/create-router.ts";
import type { AppEnv } from "./lib/types.ts";
import { onError } from "./middleware/errors.ts";

type Fetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;

/** Answered by the shell itself; the same routes are in the full app (and its OpenAPI document). */
const HEALTH_PATHS = new Set(["/health", "/health/db"]);

function healthApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();
  applyCommonMiddleware(app);
  app.route("/", healthRouter);
  app.onError(onError);
  return app;
}

let fullApp: Promise<Fetch> | undefined;

function loadFullApp(): Promise<Fetch> {
  fullApp ??= import("./app.ts").then(
    ({ createApp }) => {
      const app = createApp();
      return (request, env, ctx) => app.fetch(request, env, ctx);
    },
    (error: unknown) => {
      // Not cached: the next request tries again.
      fullApp = undefined;
      throw error;
    },
  );
  return fullApp;
}

export function createAppShell(): Fetch {
  const health = healthApp();
  return async (request, env, ctx) => {
    const { pathname } = new URL(request.url);
    if ((request.method === "GET" || request.method === "HEAD") && HEALTH_PATHS.has(pathname)) return health.fetch(request, env, ctx);
    return (await loadFullApp())(request, env, ctx);
  };
}
