import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient, unique, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { eventsOf } from "./helpers/projects.ts";

const db = testDb();

let client: Account;

beforeAll(async () => {
  client = await registerClient();
});

function post(path: string, account: Account, key: string, body?: unknown) {
  return request("POST", `/api/v1${path}`, { token: account.token, body, headers: { "idempotency-key": key } });
}

async function projectsNamed(name: string) {
  const result = await db.execute(sql`select project_id from project where name = ${name}`);
  return result.rows as { project_id: number }[];
}

describe("Idempotency-Key on POST /projects", () => {
  it("replays the first answer (status, body, ETag, Location) with Idempotent-Replayed: one row, one event", async () => {
    const key = crypto.randomUUID();
    const body = { name: unique("Once") };
    const first = await post("/projects", client, key, body);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // The reservation rides in the change's batch; storing the answer is the second trip.
    expect(first.roundTrips).toBe(2);

    const replay = await post("/projects", client, key, body);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(replay.headers.get("location")).toBe(first.headers.get("location"));
    expect(replay.roundTrips).toBeLessThanOrEqual(2);

    expect(await projectsNamed(body.name)).toHaveLength(1);
    expect(await eventsOf("project", first.body.project_id)).toHaveLength(1);
  });

  it("answers 422 for the same key with a different body", async () => {
    const key = crypto.randomUUID();
    expect((await post("/projects", client, key, { name: unique("First") })).status).toBe(201);
    const reused = await post("/projects", client, key, { name: unique("Second") });
    expect(reused.status).toBe(422);
    expect(reused.headers.get("content-type")).toBe("application/problem+json");
    expect(reused.body.errors).toEqual([expect.objectContaining({ path: "header.idempotency-key" })]);
  });

  it("scopes keys to the caller: another caller's identical key does its own work", async () => {
    const other = await registerClient();
    const key = crypto.randomUUID();
    const name = unique("Shared key");
    const mine = await post("/projects", client, key, { name });
    const theirs = await post("/projects", other, key, { name });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.project_id).not.toBe(mine.body.project_id);
    expect(theirs.body.org_id).toBe(other.org_id);
  });

  it("creates exactly one project from 20 concurrent POSTs with one key (the others replay it or get 409)", async () => {
    const key = crypto.randomUUID();
    const body = { name: unique("Stampede") };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post("/projects", client, key, body)));
    const rows = await projectsNamed(body.name);
    expect(rows).toHaveLength(1);
    for (const response of responses) {
      expect([201, 409]).toContain(response.status);
      if (response.status === 201) expect(response.body.project_id).toBe(rows[0]!.project_id);
    }
    expect(responses.filter((response) => response.status === 201 && response.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    expect(await eventsOf("project", rows[0]!.project_id)).toHaveLength(1);
  });

  it("leaves the key unused when the request is rejected before any work (validation)", async () => {
    const key = crypto.randomUUID();
    expect((await post("/projects", client, key, { name: "" })).status).toBe(422);
    const fixed = await post("/projects", client, key, { name: unique("Fixed") });
    expect(fixed.status).toBe(201);
  });

  it("leaves the key unused when the change fails (409 name clash rolls the reservation back)", async () => {
    const name = unique("Taken");
    expect((await post("/projects", client, crypto.randomUUID(), { name })).status).toBe(201);
    const key = crypto.randomUUID();
    expect((await post("/projects", client, key, { name })).status).toBe(409);
    const stored = await db.execute(sql`select 1 from idempotency_key where key = ${key}`);
    expect(stored.rows).toHaveLength(0);
  });
});

describe("Idempotency-Key on POST /projects/{project_id}/restore", () => {
  it("replays a restore instead of answering 409 'not deleted' the second time", async () => {
    const created = await request("POST", "/api/v1/projects", { token: client.token, body: { name: unique("Back") } });
    const id = created.body.project_id;
    await request("DELETE", `/api/v1/projects/${id}`, { token: client.token });
    const key = crypto.randomUUID();
    const first = await post(`/projects/${id}/restore`, client, key);
    expect(first.status).toBe(200);
    const replay = await post(`/projects/${id}/restore`, client, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
    expect((await eventsOf("project", id)).filter((event) => event.action === "project.restore")).toHaveLength(1);
  });
});
