import { describe, expect, it } from "vitest";
import { request } from "./helpers/http.ts";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document generated from the routes", async () => {
    const response = await request("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    expect(response.body.paths["/health"].get.operationId).toBe("getHealth");
    expect(response.body.components.schemas.Problem).toBeDefined();
  });

  it("describes every operation fully: id, tag, summary, security and the shared error answers", async () => {
    const { body } = await request("GET", "/openapi.json");
    const operations = Object.entries(body.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
    );
    expect(operations.length).toBeGreaterThan(0);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      expect(operation.summary, where).toBeTruthy();
      expect(operation.security, where).toBeDefined();
      for (const status of ["422", "500"]) {
        expect(operation.responses[status]?.content?.["application/problem+json"], `${where} ${status}`).toBeDefined();
      }
    }
  });
});

describe("GET /docs", () => {
  it("serves the reference page with its assets from this Worker, not a CDN", async () => {
    const page = await request("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const sources = [...String(page.body).matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(source.startsWith("/"), source).toBe(true);
      const asset = await request("GET", source);
      expect(asset.status, source).toBe(200);
      expect(String(asset.body).length, source).toBeGreaterThan(10_000);
    }
  });
});
