import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { request } from "./helpers/http.ts";

/** The API Worker's own fetch with the tests' bindings and `overrides`. */
async function fetchWorker(url: string, init: RequestInit = {}, overrides: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch!(new Request(`http://api.test${url}`, init) as Request<unknown, IncomingRequestCfProperties>, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("GET /health", () => {
  it("answers 200 without touching the database", async () => {
    const response = await request("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    // Answered differently with an Origin (below): caches must key on it.
    expect(response.headers.get("vary")).toBe("Origin");
    expect(response.body).toEqual({ status: "ok" });
    expect(response.roundTrips).toBe(0);
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await fetchWorker("/health", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.text()).toBe("");
  });

  // Liveness is the isolate's own answer (src/features/health/liveness.ts), before the app
  // and its configuration's validation: a misconfigured Worker is alive, and not ready.
  it("answers from the isolate alone, where the app's configuration would refuse", async () => {
    const misconfigured = { DATABASE_URL: "not a connection string" };
    const alive = await fetchWorker("/health", {}, misconfigured);
    expect(alive.status).toBe(200);
    expect(await alive.json()).toEqual({ status: "ok" });
    const ready = await fetchWorker("/health/db", {}, misconfigured);
    expect(ready.status).toBe(500);
    expect(await ready.json()).toMatchObject({ detail: expect.stringContaining("misconfigured") });
  });

  it("leaves a request with an Origin to the app, which answers CORS as on every route", async () => {
    const cors = { CORS_ORIGINS: "https://console.example" };
    const allowed = await fetchWorker("/health", { headers: { origin: "https://console.example" } }, cors);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(allowed.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    const other = await fetchWorker("/health", { headers: { origin: "https://elsewhere.example" } }, cors);
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("GET /health/db", () => {
  it("runs one query and reports its round-trip time", async () => {
    const response = await request("GET", "/health/db");
    expect(response.status).toBe(200);
    expect(response.body.status).toBe("ok");
    expect(response.roundTrips).toBe(1);
    // The time of that query: more than nothing (a network round trip to the gateway),
    // and within the whole request's time as Server-Timing reports it (both to 0.1 ms).
    const total = Number(/total;dur=([\d.]+)/.exec(response.headers.get("server-timing")!)![1]);
    expect(response.body.round_trip_ms).toBeGreaterThan(0);
    expect(response.body.round_trip_ms).toBeLessThanOrEqual(total + 0.1);
  });

  it("answers 503 problem+json when the database does not answer", async () => {
    // A database that refuses connections.
    const response = await fetchWorker("/health/db", {}, { DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:1/nowhere" });
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 503, detail: "The database did not answer." });
  });
});

describe("request ids and Server-Timing", () => {
  it("echoes a well-formed caller request id", async () => {
    const response = await request("GET", "/health", { headers: { "x-request-id": "caller-id-123" } });
    expect(response.headers.get("x-request-id")).toBe("caller-id-123");
  });

  it("replaces a missing or malformed one with a fresh id", async () => {
    const none = await request("GET", "/health");
    const malformed = await request("GET", "/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(none.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(malformed.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(malformed.headers.get("x-request-id")).not.toBe(none.headers.get("x-request-id"));
  });

  it("reports database time, round trips and total time", async () => {
    const response = await request("GET", "/health/db");
    expect(response.headers.get("server-timing")).toMatch(/^db;dur=[\d.]+;desc="1 round trips", total;dur=[\d.]+$/);
  });
});
