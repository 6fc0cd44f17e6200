import { createRoute, z } from "@hono/zod-openapi";
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createRouter } from "../src/lib/create-router.ts";
import { notFound, onError } from "../src/middleware/errors.ts";
import { requestContext } from "../src/middleware/request-context.ts";
import { ConfigError, loadConfig } from "../src/env.ts";
import { errorFields } from "../src/lib/logger.ts";
import { request } from "./helpers/http.ts";

function expectProblem(response: { status: number; headers: Headers; body: any }, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^urn:grandscale:problem:/) });
  expect(typeof response.body.title).toBe("string");
  expect(typeof response.body.detail).toBe("string");
  expect(response.body.request_id).toBe(response.headers.get("x-request-id"));
}

describe("problem+json for every error", () => {
  it("a malformed JSON body is 400, whatever content type curl puts on it", async () => {
    for (const contentType of ["application/json", "application/x-www-form-urlencoded"]) {
      const response = await request("POST", "/api/v1/projects", { rawBody: "{bad", headers: { "content-type": contentType } });
      expectProblem(response, 400);
      expect(response.body.detail).toMatch(/not valid JSON/);
    }
  });

  it("valid JSON under another media type is 415", async () => {
    const response = await request("POST", "/api/v1/projects", { rawBody: "{}", headers: { "content-type": "text/plain" } });
    expectProblem(response, 415);
  });

  it("a body over the limit is 413", async () => {
    const response = await request("POST", "/api/v1/projects", {
      rawBody: JSON.stringify({ padding: "x".repeat(1024 * 1024 + 1) }),
      headers: { "content-type": "application/json" },
    });
    expectProblem(response, 413);
  });

  it("an unknown path is 404", async () => {
    const response = await request("GET", "/api/v1/no-such-thing");
    expectProblem(response, 404);
  });

  it("a known path with the wrong method is 405 and names the allowed ones", async () => {
    const response = await request("DELETE", "/health/db");
    expectProblem(response, 405);
    expect(response.headers.get("allow")).toBe("GET");
  });
});

describe("the router factory and error handler", () => {
  const route = createRoute({
    method: "post",
    path: "/widgets/{widget_id}",
    request: {
      params: z.object({ widget_id: z.coerce.number().int().positive() }),
      body: { required: true, content: { "application/json": { schema: z.object({ name: z.string().min(1), size: z.number() }) } } },
    },
    responses: { 200: { description: "ok" } },
  });

  function testApp(handler: () => never | Response) {
    const app = createRouter();
    app.use("*", requestContext);
    app.openapi(route, handler as never);
    app.onError(onError);
    app.notFound(notFound(() => []));
    return app;
  }

  async function call(app: ReturnType<typeof testApp>, path: string, body: unknown) {
    const response = await app.request(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }, env);
    return { status: response.status, headers: response.headers, body: await response.json() as any };
  }

  it("turns zod failures into 422 with one path and message per problem", async () => {
    const app = testApp(() => new Response("unreachable"));
    const response = await call(app, "/widgets/7", { name: "", size: "big" });
    expectProblem(response, 422);
    expect(response.body.errors).toEqual([
      { path: "body.name", message: expect.any(String) },
      { path: "body.size", message: expect.any(String) },
    ]);
    const badParam = await call(app, "/widgets/-1", { name: "a", size: 1 });
    expect(badParam.body.errors).toEqual([{ path: "path.widget_id", message: expect.any(String) }]);
  });

  it("answers an unexpected exception with a 500 that leaks nothing and logs the request id", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const app = testApp(() => {
      throw new Error("secret internals: password=hunter2");
    });
    const response = await call(app, "/widgets/7", { name: "a", size: 1 });
    expectProblem(response, 500);
    expect(JSON.stringify(response.body)).not.toContain("hunter2");
    const line = logged.mock.calls.map(([entry]) => JSON.parse(String(entry))).find((entry) => entry.message === "unhandled error");
    expect(line.request_id).toBe(response.body.request_id);
    logged.mockRestore();
  });
});

describe("configuration", () => {
  it("names the missing or malformed setting in one error", () => {
    const { DATABASE_URL: _, ...withoutDatabase } = env;
    expect(() => loadConfig({ ...withoutDatabase })).toThrow(ConfigError);
    expect(() => loadConfig({ ...withoutDatabase })).toThrow(/DATABASE_URL is required/);
    expect(() => loadConfig({ ...env, SERVER_TIMING: "yes" })).toThrow(/SERVER_TIMING/);
  });
});

describe("error logging", () => {
  it("keeps a failed query's SQL and SQLSTATE but never its parameter values", () => {
    const driverError = Object.assign(new Error("duplicate key value violates unique constraint"), { code: "23505" });
    const failed = new Error('Failed query: insert into "user" (password_hash) values ($1)\nparams: scrypt$ln=14,r=8,p=5$c2FsdA==$aGFzaA==', { cause: driverError });
    const logged = JSON.stringify(errorFields(failed));
    expect(logged).toContain("insert into");
    expect(logged).toContain("23505");
    expect(logged).not.toContain("scrypt$");
  });
});
