/**
 * The API Worker's `fetch`, in two parts (README "Two Workers", BENCHMARKS.md "Bundle and
 * startup"). What an isolate evaluates when it starts is only this, the liveness answer
 * (features/health/liveness.ts) and the API-token retry (index.ts): no framework, no
 * zod, no database driver. The app (src/app.ts: hono, every route, the features' zod
 * schemas and their OpenAPI metadata, the configuration's validation, drizzle and the
 * driver) is imported on the first other request: esbuild turns that `import()` into
 * lazy initialisers inside the same bundle, so those modules' top levels run then, once
 * per isolate, and not for an isolate that is only started (Cloudflare starts isolates
 * ahead of requests and counts their start-up against its limit). The OpenAPI document
 * is built later still, on the first GET /openapi.json (features/docs).
 */
import type { Bindings } from "./env.ts";
import { answersLiveness, liveness } from "./features/health/liveness.ts";

type Fetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;

let fullApp: Promise<Fetch> | undefined;

/**
 * A failure is kept and repeats on every request: a module whose top level throws would
 * throw again anyway (esbuild's lazy initialisers remember their first error), and
 * nothing here depends on the request.
 */
function loadFullApp(): Promise<Fetch> {
  fullApp ??= import("./app.ts").then(({ createApp }) => {
    const app = createApp();
    return (request, env, ctx) => app.fetch(request, env, ctx);
  });
  return fullApp;
}

export function createAppShell(): Fetch {
  return async (request, env, ctx) => {
    if (answersLiveness(request, new URL(request.url).pathname)) return liveness(request, env);
    return (await loadFullApp())(request, env, ctx);
  };
}
