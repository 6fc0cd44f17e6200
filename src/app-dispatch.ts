/**
 * The API's fetch once an isolate needs the app (app-shell.ts imports this on the first
 * request that is not a liveness check). The route manifest says which feature answers a
 * request; that feature's router is imported and built into an app of its own, once per
 * isolate, and the request goes there. So an isolate builds the routes, zod schemas and
 * OpenAPI metadata of the features its requests use, and the first request pays for one
 * feature, not all 29 (README "Two Workers").
 *
 * Every app is createApp's (app.ts): the same middleware, health checks and errors, and
 * the whole table's methods for a 405. A request no route matches (a 404, a 405, a CORS
 * preflight) goes to the app with no feature; /openapi.json and /docs to the app with
 * every feature, which the document describes. The matching is hono's own router over
 * the manifest's routes in registration order, so the first match is the route the one
 * app with every feature would have run.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import { getPath } from "hono/utils/url";
import { allowedMethodsOf, createApp, createFullApp } from "./app.ts";
import type { Fetch } from "./app-shell.ts";
import { FEATURE_ROUTERS, type RouteOwner } from "./feature-routers.ts";
import type { AppEnv } from "./lib/types.ts";
import { ROUTE_MANIFEST } from "./route-manifest.ts";

const owners = new SmartRouter<RouteOwner>({ routers: [new RegExpRouter(), new TrieRouter()] });
for (const [owner, method, path] of ROUTE_MANIFEST) owners.add(method, path, owner);

const allowedMethods = allowedMethodsOf(() => ROUTE_MANIFEST.map(([, method, path]) => ({ method, path })));

/** The health checks, the middleware and the errors only: what answers a request no feature matches. */
const NO_FEATURE = "none";
type AppKey = Exclude<RouteOwner, "health"> | typeof NO_FEATURE;

const apps = new Map<AppKey, Promise<OpenAPIHono<AppEnv>>>();

async function build(key: AppKey): Promise<OpenAPIHono<AppEnv>> {
  try {
    if (key === "docs") return await createFullApp();
    if (key === NO_FEATURE) return createApp([], allowedMethods);
    return createApp([await FEATURE_ROUTERS[key]()], allowedMethods);
  } catch (error) {
    // Answered as any other failure (a logged 500 problem), and kept: esbuild's lazy
    // initialisers keep a module's first error, so building again would fail again.
    return createApp([], allowedMethods, { failure: error });
  }
}

function appFor(key: AppKey): Promise<OpenAPIHono<AppEnv>> {
  let app = apps.get(key);
  if (!app) apps.set(key, (app = build(key)));
  return app;
}

function appKeyOf(request: Request): AppKey {
  // hono answers HEAD with the GET route.
  const method = request.method === "HEAD" ? "GET" : request.method;
  const [matches] = owners.match(method, getPath(request));
  const owner = matches[0]?.[0];
  // Every app has the health checks.
  return owner === undefined || owner === "health" ? NO_FEATURE : owner;
}

export const dispatch: Fetch = async (request, env, ctx) => (await appFor(appKeyOf(request))).fetch(request, env, ctx);
