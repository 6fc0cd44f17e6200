import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { request } from "./helpers/http.ts";

describe("GET /health", () => {
  it("answers 200 without touching the database", async () => {
    const response = await request("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
    expect(response.roundTrips).toBe(0);
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
    // The Worker's own fetch with its bindings but a database that refuses connections.
    const unreachable = { ...env, DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:1/nowhere" };
    const ctx = createExecutionContext();
    const response = await worker.fetch!(new Request("http://api.test/health/db") as Request<unknown, IncomingRequestCfProperties>, unreachable, ctx);
    await waitOnExecutionContext(ctx);
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
