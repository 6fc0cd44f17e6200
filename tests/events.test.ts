import { beforeAll, describe, expect, it } from "vitest";
import { createUser, registerClient, unique, type Account } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";
import { insertProject } from "./helpers/projects.ts";

function expectProblem(response: ApiResponse<any>, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
}

type Event = { event_id: number; action: string; entity_type: string; entity_id: number; actor_id: number | null; project_id: number | null };

let admin: Account;
let client: Account;
let other: Account;
let projectId: number;
let otherProjectId: number;

async function events(account: Account, query: string) {
  const response = await request("GET", `/api/v1/events?${query}`, { token: account.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response as ApiResponse<{ data: Event[]; next_cursor: string | null }>;
}

beforeAll(async () => {
  [admin, client, other] = await Promise.all([createUser("admin"), registerClient(), registerClient()]);
  const created = await request("POST", "/api/v1/projects", { token: client.token, body: { name: unique("Audited") } });
  projectId = created.body.project_id;
  await request("PATCH", `/api/v1/projects/${projectId}`, { token: client.token, body: { description: "one" } });
  await request("PATCH", `/api/v1/projects/${projectId}`, { token: client.token, body: { status: "ready_for_annotation" } });
  const foreign = await request("POST", "/api/v1/projects", { token: other.token, body: { name: unique("Foreign") } });
  otherProjectId = foreign.body.project_id;
});

describe("GET /events", () => {
  it("lists a project's events newest first with their changes, in one round trip", async () => {
    const response = await events(client, `entity_type=project&entity_id=${projectId}`);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data.map((event) => event.action)).toEqual(["project.update", "project.update", "project.create"]);
    expect(response.body.data[0]).toMatchObject({
      entity_type: "project",
      entity_id: projectId,
      actor_id: client.user_id,
      actor_kind: "user",
      org_id: client.org_id,
      project_id: projectId,
      before: { status: "draft" },
      after: { status: "ready_for_annotation" },
      request_id: expect.any(String),
      created_at: expect.stringMatching(/Z$/),
    });
    const ids = response.body.data.map((event) => event.event_id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });

  it("pages newest first with cursors", async () => {
    const all = (await events(client, `project_id=${projectId}`)).body.data.map((event) => event.event_id);
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse<{ data: Event[]; next_cursor: string | null }> = await events(client, `project_id=${projectId}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      paged.push(...page.body.data.map((event) => event.event_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it("filters by action, actor and time window", async () => {
    const updates = await events(client, `project_id=${projectId}&action=project.update`);
    expect(updates.body.data).toHaveLength(2);
    expect((await events(client, `project_id=${projectId}&actor_id=${admin.user_id}`)).body.data).toEqual([]);
    expect((await events(client, `project_id=${projectId}&actor_id=${client.user_id}`)).body.data).toHaveLength(3);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = "2000-01-01T00:00:00Z";
    expect((await events(client, `project_id=${projectId}&since=${future}`)).body.data).toEqual([]);
    expect((await events(client, `project_id=${projectId}&until=${past}`)).body.data).toEqual([]);
    expect((await events(client, `project_id=${projectId}&since=${past}&until=${future}`)).body.data).toHaveLength(3);
  });

  it("shows clients only their organization's events; admins see all", async () => {
    expect((await events(client, `entity_type=project&entity_id=${otherProjectId}`)).body.data).toEqual([]);
    expect((await events(other, `entity_type=project&entity_id=${projectId}`)).body.data).toEqual([]);
    expect((await events(admin, `entity_type=project&entity_id=${otherProjectId}`)).body.data).toHaveLength(1);
    const everything = await events(client, "limit=200");
    expect(everything.body.data.every((event) => event.project_id === null || event.project_id === projectId)).toBe(true);
  });

  it("shows a pm the events of the projects they run, and not others'", async () => {
    const pm = await createUser("pm");
    const managed = await insertProject(client.org_id, { our_pm_id: pm.user_id });
    await request("PATCH", `/api/v1/projects/${managed.project_id}`, { token: admin.token, body: { description: "by admin" } });
    expect((await events(pm, `project_id=${managed.project_id}`)).body.data.map((event) => event.action)).toEqual(["project.update"]);
    expect((await events(pm, `project_id=${projectId}`)).body.data).toEqual([]);
  });

  it("is 403 for roles without event:read", async () => {
    const member = await createUser("client_member", client.org_id);
    const annotator = await createUser("annotator");
    expectProblem(await request("GET", "/api/v1/events", { token: member.token }), 403);
    expectProblem(await request("GET", "/api/v1/events", { token: annotator.token }), 403);
  });

  it("validates the filters (422 with paths)", async () => {
    const invalid = await request("GET", "/api/v1/events?since=yesterday&entity_id=x", { token: client.token });
    expectProblem(invalid, 422);
    expect(invalid.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["query.entity_id", "query.since"]);
    const inverted = await request("GET", "/api/v1/events?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", { token: client.token });
    expectProblem(inverted, 422);
    expect(inverted.body.errors[0].path).toBe("query.since");
    expectProblem(await request("GET", "/api/v1/events?cursor=bogus", { token: client.token }), 422);
  });
});
