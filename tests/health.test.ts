import { describe, expect, it } from "vitest";
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
    expect(response.body.round_trip_ms).toBeGreaterThanOrEqual(0);
    expect(response.roundTrips).toBe(1);
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
