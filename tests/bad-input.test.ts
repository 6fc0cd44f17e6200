/**
 * "Bad input is a 4xx, always" (PRODUCT.md, Trust): the cases the fuzzer (fuzz.test.ts)
 * found as 500s or undeclared statuses, pinned one by one.
 */
import { describe, expect, it } from "vitest";
import { staffedJob } from "./helpers/annotation.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";

function expectProblem(response: ApiResponse<any>, status: number, path?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  if (path) expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
}

function base64Url(text: string) {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

describe("ids beyond the int4 range", () => {
  it("are 404 in the path, whatever their spelling; 0 and words stay 422", async () => {
    const admin = await createUser("admin");
    for (const id of ["2147483648", "9223372036854775808", "1e10", "99999999999999999999999"]) {
      expectProblem(await request("GET", `/api/v1/projects/${id}`, { token: admin.token }), 404);
      expectProblem(await request("DELETE", `/api/v1/api-tokens/${id}`, { token: admin.token }), 404);
      expectProblem(await request("GET", `/api/v1/annotation-jobs/${id}/items/0/annotation`, { token: admin.token }), 404);
    }
    expect((await request("GET", "/api/v1/projects/2147483647", { token: admin.token })).status).toBe(404);
    expectProblem(await request("GET", "/api/v1/projects/0", { token: admin.token }), 422, "path.project_id");
    expectProblem(await request("GET", "/api/v1/projects/abc", { token: admin.token }), 422, "path.project_id");
  });

  it("are 422 naming the field in a query filter or a body", async () => {
    const client = await registerClient();
    expectProblem(await request("GET", "/api/v1/projects?org_id=2147483648", { token: client.token }), 422, "query.org_id");
    expectProblem(await request("POST", "/api/v1/projects", { token: client.token, body: { name: "P", org_id: 2 ** 31 } }), 422);
  });

  it("an empty path id is 404, not a 405 offering the collection's methods", async () => {
    const client = await registerClient();
    expectProblem(await request("DELETE", "/api/v1/api-tokens/", { token: client.token }), 404);
    expectProblem(await request("GET", "/api/v1/projects/", { token: client.token }), 404);
  });
});

describe("text the database cannot store", () => {
  it("a NUL character is 422 naming the field, in a body or a query", async () => {
    const client = await registerClient();
    expectProblem(await request("POST", "/api/v1/api-tokens", { token: client.token, body: { name: "a\u0000b" } }), 422, "body.name");
    expectProblem(await request("GET", "/api/v1/projects?q=a%00b", { token: client.token }), 422, "query.q");
  });

  it("NUL and lone surrogates in free-form annotation data are 422", async () => {
    const { job, annotator } = await staffedJob({ rows: 2 });
    const put = (data: unknown) => request("PUT", `/api/v1/annotation-jobs/${job.job_id}/items/0/annotation`, { token: annotator.token, body: { data } });
    expectProblem(await put({ label: "x\u0000" }), 422, "body.data.label");
    expectProblem(await put({ ["key\u0000"]: 1 }), 422, "body.data.key\u0000");
    expectProblem(await put({ label: "\ud800" }), 422, "body.data.label");
    expect((await put({ label: "名前 😀" })).status).toBe(201);
  });

  it("a comment body with NUL is 422", async () => {
    const { job, pm } = await staffedJob({ rows: 1 });
    expectProblem(await request("POST", `/api/v1/annotation-jobs/${job.job_id}/comments`, { token: pm.token, body: { body: "hi\u0000" } }), 422, "body.body");
  });
});

describe("dates zod accepts but Postgres cannot store", () => {
  it("year 0000 and offsets beyond ±15:59 are 422, in a query and in a body", async () => {
    const { pm, project_id, table_id } = await staffedJob({ rows: 1 });
    for (const until of ["0000-01-01T00:00:00Z", "2026-06-01T00:00:00+23:00"]) {
      expectProblem(await request("GET", `/api/v1/events?until=${encodeURIComponent(until)}`, { token: pm.token }), 422, "query.until");
    }
    expectProblem(await request("GET", `/api/v1/annotation-jobs?due_before=0000-01-01`, { token: pm.token }), 422, "query.due_before");
    const body = { name: "Job", table_id, priority: "low", due_date: "0000-01-01" };
    expectProblem(await request("POST", `/api/v1/projects/${project_id}/annotation-jobs`, { token: pm.token, body }), 422, "body.due_date");
    expect((await request("GET", `/api/v1/events?until=${encodeURIComponent("2026-06-01T00:00:00+05:30")}`, { token: pm.token })).status).toBe(200);
  });
});

describe("JSON nesting", () => {
  it("deeper than 64 levels is 422, however deep, without a 500", async () => {
    const { job, annotator } = await staffedJob({ rows: 1 });
    const path = `/api/v1/annotation-jobs/${job.job_id}/items/0/annotation`;
    const nested = (depth: number) => `{"data":${'{"a":'.repeat(depth - 1)}1${"}".repeat(depth - 1)}}`;
    for (const depth of [65, 100_000]) {
      const response = await request("PUT", path, { token: annotator.token, rawBody: nested(depth), headers: { "content-type": "application/json" } });
      expectProblem(response, 422, "body");
    }
    expect((await request("PUT", path, { token: annotator.token, rawBody: nested(64), headers: { "content-type": "application/json" } })).status).toBe(201);
  });
});

describe("cursors and If-Match", () => {
  it("a forged cursor is 422 on every kind of list", async () => {
    const { job, pm, table_id } = await staffedJob({ rows: 3 });
    const forged = [
      base64Url(JSON.stringify(["row_index", null, 2 ** 40])),
      base64Url(JSON.stringify(["token_id", null, 2 ** 31])),
      base64Url(JSON.stringify(["-created_at", "a\u0000", 1])),
      base64Url(JSON.stringify(["comment_id", null, 1.5])),
      "!!!",
    ];
    for (const cursor of forged) {
      for (const path of [`/api/v1/file-tables/${table_id}/rows`, "/api/v1/api-tokens", "/api/v1/projects", `/api/v1/annotation-jobs/${job.job_id}/comments`, "/api/v1/events"]) {
        expectProblem(await request("GET", `${path}?cursor=${encodeURIComponent(cursor)}`, { token: pm.token }), 422, "query.cursor");
      }
    }
  });

  it("a malformed If-Match is 422; a well-formed one not ours, or a version beyond int4, is 412", async () => {
    const { job, annotator } = await staffedJob({ rows: 1 });
    const put = (ifMatch: string) =>
      request("PUT", `/api/v1/annotation-jobs/${job.job_id}/items/0/annotation`, { token: annotator.token, body: { data: { label: "a" } }, headers: { "if-match": ifMatch } });
    expectProblem(await put("garbage"), 422, "header.if-match");
    expectProblem(await put('"unterminated'), 422, "header.if-match");
    expectProblem(await put(`"${base64Url(`${job.job_id}:0:99999999999`)}"`), 412);
    expectProblem(await put('"not-ours"'), 412);
  });
});
