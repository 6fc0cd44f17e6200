import { beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../src/lib/opaque-tokens.ts";
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

  it("answers 409 while the first request with the key is still running, and does nothing", async () => {
    // The first request's reservation, as its batch leaves it until its answer is stored.
    const key = crypto.randomUUID();
    const body = { name: unique("In flight") };
    const requestHash = await hashToken(`POST /api/v1/projects\n${JSON.stringify(body)}`);
    await db.execute(sql`insert into idempotency_key (caller, key, method, path, request_hash, status)
      values (${`user:${client.user_id}`}, ${key}, 'POST', '/api/v1/projects', ${requestHash}, 'in_progress')`);
    const second = await post("/projects", client, key, body);
    expect(second.status).toBe(409);
    expect(second.headers.get("content-type")).toBe("application/problem+json");
    expect(second.body.detail).toBe("A request with this Idempotency-Key is still being processed; retry later.");
    expect(await projectsNamed(body.name)).toEqual([]);
    // Once the first one's answer is stored, the same request replays it.
    await db.execute(sql`update idempotency_key set status = 'completed', response_status = 201,
        response_headers = '{"content-type": "application/json"}'::jsonb, response_body = '{"project_id": 0}'::jsonb
      where caller = ${`user:${client.user_id}`} and key = ${key}`);
    const replay = await post("/projects", client, key, body);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual({ project_id: 0 });
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

describe("Idempotency-Key on answers that carry a secret", () => {
  async function stored(key: string) {
    const result = await db.execute(sql`select status, response_status, response_headers, response_body from idempotency_key where key = ${key}`);
    return result.rows;
  }

  async function expectKeyUsed(first: { status: number }, replay: { status: number; body: any; roundTrips: number | null }, key: string) {
    expect(replay.status).toBe(409);
    expect(replay.body.type).toBe("urn:grandscale:problem:idempotency-key-used");
    // The key was taken completed in the change's own batch: no second trip to store an answer.
    expect(await stored(key)).toEqual([{ status: "withheld", response_status: null, response_headers: null, response_body: null }]);
    expect(first.status).toBeLessThan(300);
  }

  it("never stores a new API token's secret, and answers a replay 409 idempotency_key_used", async () => {
    const key = crypto.randomUUID();
    const first = await post("/api-tokens", client, key, { name: "once" });
    expect(first.status).toBe(201);
    expect(first.roundTrips).toBe(1);
    const replay = await post("/api-tokens", client, key, { name: "once" });
    await expectKeyUsed(first, replay, key);
    expect(JSON.stringify(replay.body)).not.toContain(first.body.token);
    const tokens = await db.execute(sql`select count(*)::int as n from api_token where user_id = ${client.user_id} and name = 'once'`);
    expect(tokens.rows).toEqual([{ n: 1 }]);
  });

  it("never stores sign-in, sign-up or refresh tokens", async () => {
    const address = { "cf-connecting-ip": `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` };
    const signUp = { email: `${unique("idem")}@client.test`, password: "correct horse battery staple", full_name: "I", organization_name: unique("Idem Org") };
    const registerKey = crypto.randomUUID();
    const call = (path: string, key: string, body: unknown) =>
      request("POST", `/api/v1${path}`, { body, headers: { ...address, "idempotency-key": key } });

    const registered = await call("/auth/register", registerKey, signUp);
    expect(registered.status).toBe(201);
    await expectKeyUsed(registered, await call("/auth/register", registerKey, signUp), registerKey);

    const loginKey = crypto.randomUUID();
    const credentials = { email: signUp.email, password: signUp.password };
    const signedIn = await call("/auth/login", loginKey, credentials);
    expect(signedIn.status).toBe(200);
    await expectKeyUsed(signedIn, await call("/auth/login", loginKey, credentials), loginKey);

    const refreshKey = crypto.randomUUID();
    const refreshBody = { refresh_token: signedIn.body.refresh_token };
    const refreshed = await call("/auth/refresh", refreshKey, refreshBody);
    expect(refreshed.status).toBe(200);
    await expectKeyUsed(refreshed, await call("/auth/refresh", refreshKey, refreshBody), refreshKey);
    // The successor was handed out once only, and still works.
    expect((await request("POST", "/api/v1/auth/refresh", { body: { refresh_token: refreshed.body.refresh_token } })).status).toBe(200);
  });
});
