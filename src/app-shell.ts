/**
 * The API Worker's `fetch`, in two parts (README "Two Workers", BENCHMARKS.md "Bundle and
 * startup"). What an isolate evaluates when it starts is only this, the liveness answer
 * (features/health/liveness.ts) and the API-token retry (index.ts): no framework, no
 * zod, no database driver. The app (src/app-dispatch.ts: hono, the configuration's
 * validation, drizzle and the driver) is imported on the first other request, and each
 * feature's routes, zod schemas and OpenAPI metadata on the first request for that
 * feature: esbuild turns those `import()`s into lazy initialisers inside the same bundle,
 * so those modules' top levels run then, once per isolate, and not for an isolate that is
 * only started (Cloudflare starts isolates ahead of requests and counts their start-up
 * against its limit). The OpenAPI document is built later still, on the first GET
 * /openapi.json (features/docs).
 */
import type { Bindings } from "./env.ts";
import { answersLiveness, liveness } from "./features/health/liveness.ts";

export type Fetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;

let app: Promise<Fetch> | undefined;

/**
 * A failure is kept and repeats on every request: a module whose top level throws would
 * throw again anyway (esbuild's lazy initialisers remember their first error), and
 * nothing here depends on the request.
 */
function loadApp(): Promise<Fetch> {
  app ??= import("./app-dispatch.ts").then(({ dispatch }) => dispatch);
  return app;
}

export function createAppShell(): Fetch {
  return async (request, env, ctx) => {
    if (answersLiveness(request, new URL(request.url).pathname)) return liveness(request, env);
    return (await loadApp())(request, env, ctx);
  };
}
