/**
 * The app's route table as it registers it, in that order, each route with who answers
 * it: what `npm run routes:generate` writes to route-manifest.ts (which app-dispatch.ts
 * reads without importing any feature), and what tests/route-manifest.test.ts compares
 * it with.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { mergePath } from "hono/utils/url";
import { API_BASE_PATH } from "./app.ts";
import { FEATURE_ROUTERS, type FeatureName, type RouteEntry, type RouteOwner } from "./feature-routers.ts";
import { registerDocs } from "./features/docs/docs.index.ts";
import { healthRouter } from "./features/health/health.index.ts";
import { createRouter } from "./lib/create-router.ts";
import type { AppEnv } from "./lib/types.ts";

function entriesOf(owner: RouteOwner, router: OpenAPIHono<AppEnv>, base: string): RouteEntry[] {
  const entries = new Map<string, RouteEntry>();
  for (const { method, path } of router.routes) {
    // In the one app, a feature's `use()` ran for every feature after it; in its own app
    // (app-dispatch.ts) it would run for that feature only. Middleware belongs in app.ts.
    if (method === "ALL") throw new Error(`${owner} registers middleware (ALL ${path}): put it in src/app.ts`);
    const fullPath = base ? mergePath(base, path) : path;
    entries.set(`${method} ${fullPath}`, [owner, method, fullPath]);
  }
  return [...entries.values()];
}

export async function routeTable(): Promise<RouteEntry[]> {
  const docs = createRouter();
  registerDocs(docs);
  const features = await Promise.all(
    (Object.entries(FEATURE_ROUTERS) as [FeatureName, () => Promise<OpenAPIHono<AppEnv>>][]).map(async ([name, load]) => entriesOf(name, await load(), API_BASE_PATH)),
  );
  return [...entriesOf("health", healthRouter, ""), ...features.flat(), ...entriesOf("docs", docs, "")];
}
