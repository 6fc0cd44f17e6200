import { describe, expect, it } from "vitest";
import { createFullApp } from "../src/app.ts";
import { ROUTE_MANIFEST } from "../src/route-manifest.ts";
import { routeTable } from "../src/route-table.ts";
import { request } from "./helpers/http.ts";

describe("the route manifest (src/route-manifest.ts)", () => {
  it("is the routers' table, route by route and in registration order: run `npm run routes:generate` when this fails", async () => {
    expect(await routeTable()).toEqual(ROUTE_MANIFEST);
  });

  it("holds every route of the app with every feature, in its order", async () => {
    const routes = new Set<string>();
    for (const { method, path } of (await createFullApp()).routes) if (method !== "ALL") routes.add(`${method} ${path}`);
    expect(ROUTE_MANIFEST.map(([, method, path]) => `${method} ${path}`)).toEqual([...routes]);
  });

  it("routes each request to its feature's app, and the rest to the app with none", async () => {
    // A feature's route, the health check, a 405 whose methods come from another feature's
    // routes, a 404, and the document built from every feature.
    expect((await request("GET", "/api/v1/auth/me")).status).toBe(401);
    expect((await request("GET", "/health/db")).status).toBe(200);
    const wrongMethod = await request("PUT", "/api/v1/projects");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST");
    expect((await request("GET", "/api/v1/nothing-here")).status).toBe(404);
    // A route's literal characters match only themselves in the 405's table.
    expect((await request("GET", "/api/v1/validations/1/violationsXcsv")).status).toBe(404);
    const document = await request("GET", "/openapi.json");
    expect(Object.keys(document.body.paths as object).length).toBe(new Set(ROUTE_MANIFEST.filter(([owner]) => owner !== "docs").map(([, , path]) => path)).size);
  });
});
