import { beforeAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, unique, type Account } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";
import { eventsOf, insertProject } from "./helpers/projects.ts";

const db = testDb();

function expectProblem(response: ApiResponse<any>, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.body.status).toBe(status);
}

let admin: Account;
let pm: Account;
let client: Account;
let clientMember: Account;
let otherClient: Account;

beforeAll(async () => {
  [admin, pm, client, otherClient] = await Promise.all([createUser("admin"), createUser("pm"), registerClient(), registerClient()]);
  clientMember = await createUser("client_member", client.org_id);
});

async function create(account: Account, body: Record<string, unknown>) {
  return request("POST", "/api/v1/projects", { token: account.token, body });
}

describe("POST /projects", () => {
  it("lets a platform admin create a project in a client organization: 201, ETag, Location, one round trip, one event", async () => {
    const name = unique("Labelling");
    const response = await create(admin, { org_id: client.org_id, name, description: "Sentiment", our_pm_id: pm.user_id, client_pm_id: client.user_id });
    expect(response.status).toBe(201);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({
      project_id: expect.any(Number),
      org_id: client.org_id,
      name,
      description: "Sentiment",
      status: "draft",
      is_active: true,
      completed_at: null,
      our_pm_id: pm.user_id,
      client_pm_id: client.user_id,
      requirements_text: null,
      deleted_at: null,
    });
    expect(response.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(response.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(response.headers.get("location")).toBe(`/api/v1/projects/${response.body.project_id}`);

    const events = await eventsOf("project", response.body.project_id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: "project.create", actor_id: admin.user_id, org_id: client.org_id, project_id: response.body.project_id });
    expect(events[0]!.after).toMatchObject({ name, our_pm_id: pm.user_id, status: "draft" });
    expect(events[0]!.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("puts a client admin's project in their own organization", async () => {
    const response = await create(client, { name: unique("Own") });
    expect(response.status).toBe(201);
    expect(response.body.org_id).toBe(client.org_id);
  });

  it("refuses a client creating in another organization, or setting our_pm_id (403)", async () => {
    expectProblem(await create(client, { name: unique("Elsewhere"), org_id: otherClient.org_id }), 403);
    expectProblem(await create(client, { name: unique("Staffed"), our_pm_id: pm.user_id }), 403);
  });

  it("refuses roles without project:create (pm, client_member, annotator)", async () => {
    const annotator = await createUser("annotator");
    for (const account of [pm, clientMember, annotator]) {
      expectProblem(await create(account, { name: unique("Nope"), org_id: client.org_id }), 403);
    }
  });

  it("answers 422 with paths for invalid fields", async () => {
    const blank = await create(client, { name: "   " });
    expectProblem(blank, 422);
    expect(blank.body.errors).toEqual([expect.objectContaining({ path: "body.name" })]);

    const unknown = await create(client, { name: unique("P"), status: "completed" });
    expectProblem(unknown, 422);

    const noOrg = await create(admin, { name: unique("P") });
    expectProblem(noOrg, 422);
    expect(noOrg.body.errors).toEqual([expect.objectContaining({ path: "body.org_id" })]);

    const platformOrg = await create(admin, { name: unique("P"), org_id: admin.org_id });
    expectProblem(platformOrg, 422);
    expect(platformOrg.body.errors).toEqual([expect.objectContaining({ path: "body.org_id" })]);
  });

  it("checks client_pm_id and our_pm_id in the same statement (422 with their paths)", async () => {
    const annotator = await createUser("annotator");
    const response = await create(admin, {
      org_id: client.org_id,
      name: unique("Refs"),
      client_pm_id: otherClient.user_id,
      our_pm_id: annotator.user_id,
    });
    expectProblem(response, 422);
    expect(response.roundTrips).toBe(1);
    expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual(["body.client_pm_id", "body.our_pm_id"]);
    const clientAsOurPm = await create(admin, { org_id: client.org_id, name: unique("Refs"), our_pm_id: client.user_id });
    expect(clientAsOurPm.body.errors).toEqual([expect.objectContaining({ path: "body.our_pm_id" })]);
    const adminAsOurPm = await create(admin, { org_id: client.org_id, name: unique("Refs"), our_pm_id: admin.user_id });
    expect(adminAsOurPm.status).toBe(201);
  });

  it("keeps live names unique per organization (409), and a deleted project frees its name", async () => {
    const name = unique("Twin");
    expect((await create(client, { name })).status).toBe(201);
    const clash = await create(client, { name });
    expectProblem(clash, 409);
    expect(clash.body.detail).toContain(`"${name}"`);
    expect((await create(otherClient, { name })).status).toBe(201);
    const count = await db.execute(sql`select count(*)::int as n from project where org_id = ${client.org_id} and name = ${name}`);
    expect((count.rows[0] as { n: number }).n).toBe(1);
  });
});

describe("GET /projects/{project_id}", () => {
  it("returns the project with an ETag in one round trip", async () => {
    const created = await create(client, { name: unique("Readable") });
    const response = await request("GET", `/api/v1/projects/${created.body.project_id}`, { token: clientMember.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toEqual(created.body);
    expect(response.headers.get("etag")).toBe(created.headers.get("etag"));
  });

  it("is 404 for another organization and for ids that do not exist", async () => {
    const created = await create(client, { name: unique("Private") });
    expectProblem(await request("GET", `/api/v1/projects/${created.body.project_id}`, { token: otherClient.token }), 404);
    expectProblem(await request("GET", "/api/v1/projects/2147483000", { token: admin.token }), 404);
    expectProblem(await request("GET", `/api/v1/projects/${created.body.project_id}`, { token: pm.token }), 404);
  });

  it("shows a pm the projects they run; staff without an assignment in it do not see it (404)", async () => {
    const project = await insertProject(client.org_id, { our_pm_id: pm.user_id });
    expect((await request("GET", `/api/v1/projects/${project.project_id}`, { token: pm.token })).status).toBe(200);
    const annotator = await createUser("annotator");
    expectProblem(await request("GET", `/api/v1/projects/${project.project_id}`, { token: annotator.token }), 404);
  });

  it("validates the path id (422)", async () => {
    const response = await request("GET", "/api/v1/projects/abc", { token: admin.token });
    expectProblem(response, 422);
    expect(response.body.errors[0].path).toBe("path.project_id");
  });
});

describe("GET /projects", () => {
  it("lists the caller's visible projects with filters, in one round trip", async () => {
    const org = await registerClient();
    const alpha = await create(org, { name: "Alpha 100% sure", description: "cats" });
    const beta = await create(org, { name: "Beta", description: "dogs", is_active: false });
    const gamma = await create(org, { name: "Gamma_x", description: "birds" });

    const all = await request("GET", "/api/v1/projects?sort=name", { token: org.token });
    expect(all.status).toBe(200);
    expect(all.roundTrips).toBe(1);
    expect(all.body.data.map((project: { name: string }) => project.name)).toEqual(["Alpha 100% sure", "Beta", "Gamma_x"]);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.data[0]).not.toHaveProperty("requirements_text");

    const ids = async (query: string, account: Account = org) =>
      (await request("GET", `/api/v1/projects?${query}`, { token: account.token })).body.data.map((project: { project_id: number }) => project.project_id);
    expect(await ids("is_active=false")).toEqual([beta.body.project_id]);
    expect(await ids("is_active=true&sort=name")).toEqual([alpha.body.project_id, gamma.body.project_id]);
    expect(await ids("q=DOG")).toEqual([beta.body.project_id]);
    // % and _ are matched literally, not as wildcards.
    expect(await ids("q=100%25")).toEqual([alpha.body.project_id]);
    expect(await ids("q=a_x")).toEqual([gamma.body.project_id]);
    // As a wildcard, `_` would match the "t" of "Beta".
    expect(await ids("q=e_a")).toEqual([]);
    expect(await ids(`org_id=${org.org_id}&sort=-name`)).toEqual([gamma.body.project_id, beta.body.project_id, alpha.body.project_id]);
    expect(await ids(`org_id=${client.org_id}`)).toEqual([]);
    expect(await ids(`org_id=${org.org_id}&sort=name`, admin)).toEqual([alpha.body.project_id, beta.body.project_id, gamma.body.project_id]);

    await request("PATCH", `/api/v1/projects/${gamma.body.project_id}`, { token: org.token, body: { status: "ready_for_annotation" } });
    expect(await ids("status=ready_for_annotation")).toEqual([gamma.body.project_id]);
  });

  it("pages with cursors", async () => {
    const org = await registerClient();
    for (const name of ["a", "b", "c", "d", "e"]) await create(org, { name });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse<any> = await request("GET", `/api/v1/projects?sort=-name&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: org.token });
      expect(page.status).toBe(200);
      expect(page.roundTrips).toBe(1);
      names.push(...page.body.data.map((project: { name: string }) => project.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(names).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("validates the query (422 with paths)", async () => {
    const response = await request("GET", "/api/v1/projects?limit=0&sort=colour&status=done&is_active=yes", { token: client.token });
    expectProblem(response, 422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["query.is_active", "query.limit", "query.sort", "query.status"]);
  });

  it("is 403 for roles without project:read", async () => {
    const reviewer = await createUser("reviewer");
    expectProblem(await request("GET", "/api/v1/projects", { token: reviewer.token }), 403);
  });
});

describe("PATCH /projects/{project_id}", () => {
  it("updates the given fields, audits exactly the changed ones, one round trip", async () => {
    const created = await create(client, { name: unique("Before"), description: "old" });
    const id = created.body.project_id;
    const name = unique("After");
    const response = await request("PATCH", `/api/v1/projects/${id}`, {
      token: client.token,
      body: { name, description: "old", client_pm_id: client.user_id },
      headers: { "if-match": created.headers.get("etag")! },
    });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ name, description: "old", client_pm_id: client.user_id });
    expect(response.headers.get("etag")).not.toBe(created.headers.get("etag"));
    const events = await eventsOf("project", id);
    expect(events.map((event) => event.action)).toEqual(["project.create", "project.update"]);
    expect(events[1]!.before).toEqual({ name: created.body.name, client_pm_id: null });
    expect(events[1]!.after).toEqual({ name, client_pm_id: client.user_id });

    const fetched = await request("GET", `/api/v1/projects/${id}`, { token: client.token });
    expect(fetched.headers.get("etag")).toBe(response.headers.get("etag"));
  });

  it("works without If-Match, and a request that changes nothing writes nothing", async () => {
    const created = await create(client, { name: unique("Steady") });
    const id = created.body.project_id;
    const same = await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { name: created.body.name } });
    expect(same.status).toBe(200);
    expect(same.headers.get("etag")).toBe(created.headers.get("etag"));
    expect(await eventsOf("project", id)).toHaveLength(1);
    const changed = await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { is_active: false } });
    expect(changed.body.is_active).toBe(false);
    expect(await eventsOf("project", id)).toHaveLength(2);
  });

  it("refuses a stale or foreign If-Match with 412 and changes nothing", async () => {
    const created = await create(client, { name: unique("Contended") });
    const id = created.body.project_id;
    const etag = created.headers.get("etag")!;
    expect((await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: "first" }, headers: { "if-match": etag } })).status).toBe(200);
    const stale = await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: "second" }, headers: { "if-match": etag } });
    expectProblem(stale, 412);
    expect(stale.roundTrips).toBe(1);
    expectProblem(await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: "x" }, headers: { "if-match": '"bm9wZQ"' } }), 412);
    expectProblem(await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: "x" }, headers: { "if-match": "garbage" } }), 422);
    expect((await request("GET", `/api/v1/projects/${id}`, { token: client.token })).body.description).toBe("first");
    expect(await eventsOf("project", id)).toHaveLength(2);
  });

  it("moves status only along the table; completed_at follows completion", async () => {
    const created = await create(client, { name: unique("Lifecycle") });
    const id = created.body.project_id;
    const move = (status: string) => request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { status } });

    const illegal = await move("completed");
    expectProblem(illegal, 409);
    expect(illegal.body.detail).toBe("A project cannot move from draft to completed; allowed moves from draft: ready_for_annotation, archived.");

    expect((await move("ready_for_annotation")).status).toBe(200);
    expect((await move("in_progress")).status).toBe(200);
    const completed = await move("completed");
    expect(completed.body.status).toBe("completed");
    expect(completed.body.completed_at).toMatch(/Z$/);
    const reopened = await move("in_progress");
    expect(reopened.body.completed_at).toBeNull();
    expect((await move("completed")).status).toBe(200);
    const archived = await move("archived");
    expect(archived.body.status).toBe("archived");
    expect(archived.body.completed_at).not.toBeNull();

    const final = await move("draft");
    expectProblem(final, 409);
    expect(final.body.detail).toBe("A project cannot move from archived to draft; archived is final: no moves are allowed from it.");
    const statuses = (await eventsOf("project", id)).filter((event) => event.action === "project.update").map((event) => event.after!.status);
    expect(statuses).toEqual(["ready_for_annotation", "in_progress", "completed", "in_progress", "completed", "archived"]);
  });

  it("documents the status moves in the OpenAPI reference, generated from the table", async () => {
    const { body } = await request("GET", "/openapi.json");
    const description: string = body.components.schemas.Project.properties.status.description;
    expect(description).toContain("- `draft` → `ready_for_annotation`, `archived`");
    expect(description).toContain("- `archived` → (final)");
  });

  it("checks pm references (422) and name clashes (409)", async () => {
    const taken = await create(client, { name: unique("Taken") });
    const created = await create(client, { name: unique("Renamed") });
    const id = created.body.project_id;
    const clash = await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { name: taken.body.name } });
    expectProblem(clash, 409);
    const badPm = await request("PATCH", `/api/v1/projects/${id}`, { token: admin.token, body: { client_pm_id: otherClient.user_id, our_pm_id: clientMember.user_id } });
    expectProblem(badPm, 422);
    expect(badPm.body.errors.map((error: { path: string }) => error.path)).toEqual(["body.client_pm_id", "body.our_pm_id"]);
    const good = await request("PATCH", `/api/v1/projects/${id}`, { token: admin.token, body: { client_pm_id: clientMember.user_id, our_pm_id: pm.user_id } });
    expect(good.status).toBe(200);
    expectProblem(await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { our_pm_id: null } }), 403);
  });

  it("lets the pm running a project update it, refuses client members (403) and outsiders (404)", async () => {
    const project = await insertProject(client.org_id, { our_pm_id: pm.user_id });
    const path = `/api/v1/projects/${project.project_id}`;
    expect((await request("PATCH", path, { token: pm.token, body: { status: "ready_for_annotation" } })).status).toBe(200);
    expectProblem(await request("PATCH", path, { token: clientMember.token, body: { description: "x" } }), 403);
    expectProblem(await request("PATCH", path, { token: otherClient.token, body: { description: "x" } }), 404);
    const otherPm = await createUser("pm");
    expectProblem(await request("PATCH", path, { token: otherPm.token, body: { description: "x" } }), 404);
  });

  it("lets exactly one of 20 concurrent PATCHes with the same If-Match win; the rest get 412", async () => {
    const created = await create(client, { name: unique("Race") });
    const id = created.body.project_id;
    const etag = created.headers.get("etag")!;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: `writer ${index}` }, headers: { "if-match": etag } }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(19);
    const updates = (await eventsOf("project", id)).filter((event) => event.action === "project.update");
    expect(updates).toHaveLength(1);
    const winner = responses.find((response) => response.status === 200)!;
    expect(updates[0]!.after).toEqual({ description: winner.body.description });
  });
});

describe("DELETE /projects/{project_id} and POST …/restore", () => {
  it("soft-deletes (204, one round trip), hides the project, and restores it (200, one round trip)", async () => {
    const created = await create(client, { name: unique("Doomed") });
    const id = created.body.project_id;
    const deleted = await request("DELETE", `/api/v1/projects/${id}`, { token: client.token, headers: { "if-match": created.headers.get("etag")! } });
    expect(deleted.status).toBe(204);
    expect(deleted.roundTrips).toBe(1);
    expectProblem(await request("GET", `/api/v1/projects/${id}`, { token: client.token }), 404);
    const listed = await request("GET", "/api/v1/projects?limit=200", { token: client.token });
    expect(listed.body.data.map((project: { project_id: number }) => project.project_id)).not.toContain(id);
    expectProblem(await request("DELETE", `/api/v1/projects/${id}`, { token: client.token }), 404);

    const asAdmin = await request("GET", `/api/v1/projects/${id}?include_deleted=true`, { token: admin.token });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.deleted_at).toMatch(/Z$/);
    const adminList = await request("GET", `/api/v1/projects?org_id=${client.org_id}&include_deleted=true&limit=200`, { token: admin.token });
    expect(adminList.body.data.map((project: { project_id: number }) => project.project_id)).toContain(id);

    const restored = await request("POST", `/api/v1/projects/${id}/restore`, { token: client.token });
    expect(restored.status).toBe(200);
    expect(restored.roundTrips).toBe(1);
    expect(restored.body).toMatchObject({ project_id: id, deleted_at: null });
    expect(restored.headers.get("etag")).toBeTruthy();
    expect((await request("GET", `/api/v1/projects/${id}`, { token: client.token })).status).toBe(200);

    const events = await eventsOf("project", id);
    expect(events.map((event) => event.action)).toEqual(["project.create", "project.delete", "project.restore"]);
    expect(events[1]!.before).toEqual({ deleted_at: null });
    expect(events[1]!.after).toEqual({ deleted_at: expect.any(String) });
    expect(events[2]!.after).toEqual({ deleted_at: null });
  });

  it("refuses include_deleted to anyone but platform admins (403)", async () => {
    expectProblem(await request("GET", "/api/v1/projects?include_deleted=true", { token: client.token }), 403);
    const created = await create(client, { name: unique("Peek") });
    expectProblem(await request("GET", `/api/v1/projects/${created.body.project_id}?include_deleted=true`, { token: client.token }), 403);
  });

  it("honours If-Match on DELETE (412 when stale)", async () => {
    const created = await create(client, { name: unique("Guarded") });
    const id = created.body.project_id;
    await request("PATCH", `/api/v1/projects/${id}`, { token: client.token, body: { description: "moved on" } });
    const stale = await request("DELETE", `/api/v1/projects/${id}`, { token: client.token, headers: { "if-match": created.headers.get("etag")! } });
    expectProblem(stale, 412);
    expect((await request("GET", `/api/v1/projects/${id}`, { token: client.token })).status).toBe(200);
  });

  it("answers 409 when restoring a live project or a name taken meanwhile", async () => {
    const created = await create(client, { name: unique("Phoenix") });
    const id = created.body.project_id;
    const live = await request("POST", `/api/v1/projects/${id}/restore`, { token: client.token });
    expectProblem(live, 409);
    expect(live.body.detail).toContain("not deleted");
    await request("DELETE", `/api/v1/projects/${id}`, { token: client.token });
    expect((await create(client, { name: created.body.name })).status).toBe(201);
    const clash = await request("POST", `/api/v1/projects/${id}/restore`, { token: client.token });
    expectProblem(clash, 409);
    expect(clash.body.detail).toContain("name");
  });

  it("refuses pms and client members (403) and outsiders (404)", async () => {
    const project = await insertProject(client.org_id, { our_pm_id: pm.user_id });
    const path = `/api/v1/projects/${project.project_id}`;
    expectProblem(await request("DELETE", path, { token: pm.token }), 403);
    expectProblem(await request("DELETE", path, { token: clientMember.token }), 403);
    expectProblem(await request("DELETE", path, { token: otherClient.token }), 404);
    const deleted = await insertProject(client.org_id, { deleted: true });
    expectProblem(await request("POST", `/api/v1/projects/${deleted.project_id}/restore`, { token: clientMember.token }), 403);
    expectProblem(await request("POST", `/api/v1/projects/${deleted.project_id}/restore`, { token: otherClient.token }), 404);
  });
});
