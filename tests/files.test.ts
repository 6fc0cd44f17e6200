import { beforeAll, describe, expect, it } from "vitest";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request, type ApiResponse } from "./helpers/http.ts";
import { eventsOf, insertFile, insertProject, insertVersion, type ProjectFixture } from "./helpers/projects.ts";

function expectProblem(response: ApiResponse<any>, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
}

let admin: Account;
let pm: Account;
let client: Account;
let member: Account;
let outsider: Account;
let project: ProjectFixture;

beforeAll(async () => {
  [admin, pm, client, outsider] = await Promise.all([createUser("admin"), createUser("pm"), registerClient(), registerClient()]);
  member = await createUser("client_member", client.org_id);
  project = await insertProject(client.org_id, { our_pm_id: pm.user_id });
});

const ids = (response: ApiResponse<any>) => response.body.data.map((file: { file_id: number }) => file.file_id);

describe("GET /projects/{project_id}/files", () => {
  it("lists the project's live files with filters and sort, in one round trip", async () => {
    const own = await insertProject(client.org_id);
    const b = await insertFile(own, { filename: "b.csv", file_type: "dataset", status: "in_progress" });
    const a = await insertFile(own, { filename: "a.pdf", file_type: "requirement", status: "ready_for_annotation" });
    const c = await insertFile(own, { filename: "c.csv", file_type: "dataset", status: "ready_for_annotation" });
    const path = `/api/v1/projects/${own.project_id}/files`;

    const all = await request("GET", path, { token: member.token });
    expect(all.status).toBe(200);
    expect(all.roundTrips).toBe(1);
    expect(ids(all)).toEqual([c, a, b]);
    expect(all.body.data[0]).toMatchObject({ file_id: c, project_id: own.project_id, org_id: client.org_id, filename: "c.csv", file_type: "dataset", deleted_at: null });

    expect(ids(await request("GET", `${path}?sort=filename`, { token: member.token }))).toEqual([a, b, c]);
    expect(ids(await request("GET", `${path}?file_type=dataset&sort=filename`, { token: member.token }))).toEqual([b, c]);
    expect(ids(await request("GET", `${path}?status=ready_for_annotation&sort=-filename`, { token: member.token }))).toEqual([c, a]);

    const first = await request("GET", `${path}?sort=filename&limit=2`, { token: member.token });
    expect(ids(first)).toEqual([a, b]);
    const second = await request("GET", `${path}?sort=filename&limit=2&cursor=${first.body.next_cursor}`, { token: member.token });
    expect(ids(second)).toEqual([c]);
    expect(second.body.next_cursor).toBeNull();
  });

  it("answers an empty page for a project without files, and 404 for projects the caller cannot see", async () => {
    const empty = await insertProject(client.org_id);
    const response = await request("GET", `/api/v1/projects/${empty.project_id}/files`, { token: client.token });
    expect(response.body).toEqual({ data: [], next_cursor: null });
    expectProblem(await request("GET", `/api/v1/projects/${empty.project_id}/files`, { token: outsider.token }), 404);
    expectProblem(await request("GET", `/api/v1/projects/${empty.project_id}/files`, { token: pm.token }), 404);
    expectProblem(await request("GET", "/api/v1/projects/2147483000/files", { token: admin.token }), 404);
  });

  it("shows the pm of the project its files", async () => {
    const file = await insertFile(project);
    expect(ids(await request("GET", `/api/v1/projects/${project.project_id}/files?limit=200`, { token: pm.token }))).toContain(file);
  });

  it("hides the files of a deleted project (404) and deleted files, which admins can ask for", async () => {
    const doomed = await insertProject(client.org_id);
    const file = await insertFile(doomed);
    const gone = await insertFile(doomed);
    expect((await request("DELETE", `/api/v1/files/${gone}`, { token: client.token })).status).toBe(204);
    expect(ids(await request("GET", `/api/v1/projects/${doomed.project_id}/files`, { token: client.token }))).toEqual([file]);
    expect(ids(await request("GET", `/api/v1/projects/${doomed.project_id}/files?include_deleted=true`, { token: admin.token }))).toEqual([gone, file]);
    expectProblem(await request("GET", `/api/v1/projects/${doomed.project_id}/files?include_deleted=true`, { token: client.token }), 403);

    expect((await request("DELETE", `/api/v1/projects/${doomed.project_id}`, { token: client.token })).status).toBe(204);
    expectProblem(await request("GET", `/api/v1/projects/${doomed.project_id}/files`, { token: client.token }), 404);
    expectProblem(await request("GET", `/api/v1/files/${file}`, { token: client.token }), 404);
    expect((await request("POST", `/api/v1/projects/${doomed.project_id}/restore`, { token: client.token })).status).toBe(200);
    expect((await request("GET", `/api/v1/files/${file}`, { token: client.token })).status).toBe(200);
  });

  it("validates filters (422 with paths)", async () => {
    const response = await request("GET", `/api/v1/projects/${project.project_id}/files?file_type=video&sort=size`, { token: client.token });
    expectProblem(response, 422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["query.file_type", "query.sort"]);
  });
});

describe("GET|PATCH|DELETE /files/{file_id}", () => {
  it("returns a file with its ETag in one round trip; 404 outside the caller's reach", async () => {
    const file = await insertFile(project, { filename: "reviews.csv" });
    const version = await insertVersion(file);
    const response = await request("GET", `/api/v1/files/${file}`, { token: member.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toMatch(/^"/);
    expect(response.body).toMatchObject({ file_id: file, filename: "reviews.csv", current_version_id: version, status: "ready_for_annotation", language: null });
    expectProblem(await request("GET", `/api/v1/files/${file}`, { token: outsider.token }), 404);
    const annotator = await createUser("annotator");
    expectProblem(await request("GET", `/api/v1/files/${file}`, { token: annotator.token }), 404);
  });

  it("updates filename, status and language; audits the change; one round trip", async () => {
    const file = await insertFile(project, { filename: "old.csv" });
    const read = await request("GET", `/api/v1/files/${file}`, { token: client.token });
    const response = await request("PATCH", `/api/v1/files/${file}`, {
      token: client.token,
      body: { filename: "new.csv", status: "completed", language: "fr" },
      headers: { "if-match": read.headers.get("etag")! },
    });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ filename: "new.csv", status: "completed", language: "fr" });
    expect(response.headers.get("etag")).not.toBe(read.headers.get("etag"));
    const events = await eventsOf("file", file);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "file.update",
      actor_id: client.user_id,
      org_id: client.org_id,
      project_id: project.project_id,
      before: { filename: "old.csv", status: "ready_for_annotation", language: null },
      after: { filename: "new.csv", status: "completed", language: "fr" },
    });

    const stale = await request("PATCH", `/api/v1/files/${file}`, { token: client.token, body: { language: "de" }, headers: { "if-match": read.headers.get("etag")! } });
    expectProblem(stale, 412);
    expect(await eventsOf("file", file)).toHaveLength(1);
  });

  it("validates the body (422 with paths): pending is not settable, unknown fields are refused", async () => {
    const file = await insertFile(project);
    const response = await request("PATCH", `/api/v1/files/${file}`, { token: client.token, body: { status: "pending", filename: "" } });
    expectProblem(response, 422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.filename", "body.status"]);
    expectProblem(await request("PATCH", `/api/v1/files/${file}`, { token: client.token, body: { project_id: 1 } }), 422);
  });

  it("lets the pm update but not delete (403); client members may do neither (403)", async () => {
    const file = await insertFile(project);
    expect((await request("PATCH", `/api/v1/files/${file}`, { token: pm.token, body: { language: "en" } })).status).toBe(200);
    expectProblem(await request("DELETE", `/api/v1/files/${file}`, { token: pm.token }), 403);
    expectProblem(await request("PATCH", `/api/v1/files/${file}`, { token: member.token, body: { language: "de" } }), 403);
    expectProblem(await request("DELETE", `/api/v1/files/${file}`, { token: member.token }), 403);
    expectProblem(await request("PATCH", `/api/v1/files/${file}`, { token: outsider.token, body: { language: "de" } }), 404);
  });

  it("soft-deletes (204, one round trip, audited, If-Match honoured)", async () => {
    const file = await insertFile(project);
    const read = await request("GET", `/api/v1/files/${file}`, { token: client.token });
    await request("PATCH", `/api/v1/files/${file}`, { token: client.token, body: { language: "es" } });
    expectProblem(await request("DELETE", `/api/v1/files/${file}`, { token: client.token, headers: { "if-match": read.headers.get("etag")! } }), 412);
    const deleted = await request("DELETE", `/api/v1/files/${file}`, { token: client.token });
    expect(deleted.status).toBe(204);
    expect(deleted.roundTrips).toBe(1);
    expectProblem(await request("GET", `/api/v1/files/${file}`, { token: client.token }), 404);
    expect((await request("GET", `/api/v1/files/${file}?include_deleted=true`, { token: admin.token })).body.deleted_at).toMatch(/Z$/);
    const events = await eventsOf("file", file);
    expect(events.map((event) => event.action)).toEqual(["file.update", "file.delete"]);
    expect(events[1]!.before).toEqual({ deleted_at: null });
  });
});

describe("file versions", () => {
  it("lists a file's versions newest first, pending uploads included, with the contract's shape", async () => {
    const file = await insertFile(project);
    const v1 = await insertVersion(file, { version_number: 1, size_bytes: 5_000_000_000 });
    const v2 = await insertVersion(file, { version_number: 2 });
    const pending = await insertVersion(file, { pending: true });
    const response = await request("GET", `/api/v1/files/${file}/versions`, { token: member.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data.map((version: { version_id: number }) => version.version_id)).toEqual([pending, v2, v1]);
    expect(response.body.data[2]).toEqual({
      version_id: v1,
      file_id: file,
      version_number: 1,
      filename: "data.csv",
      content_type: "text/csv",
      size_bytes: 5_000_000_000,
      sha256: "a".repeat(64),
      status: "ready",
      parse_status: "running",
      parse_progress: { done: 600, total: 1234 },
      parse_error: null,
      uploaded_by: null,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      completed_at: expect.stringMatching(/Z$/),
    });
    expect(response.body.data[0]).toMatchObject({ version_number: null, status: "pending", parse_status: null, parse_progress: { done: 0, total: null } });

    const page = await request("GET", `/api/v1/files/${file}/versions?limit=2`, { token: member.token });
    const rest = await request("GET", `/api/v1/files/${file}/versions?limit=2&cursor=${page.body.next_cursor}`, { token: member.token });
    expect(rest.body.data.map((version: { version_id: number }) => version.version_id)).toEqual([v1]);
  });

  it("gets one version with an ETag in one round trip; 404 when its file is out of reach or deleted", async () => {
    const file = await insertFile(project);
    const version = await insertVersion(file);
    const response = await request("GET", `/api/v1/file-versions/${version}`, { token: client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.headers.get("etag")).toMatch(/^"/);
    expect(response.body).toMatchObject({ version_id: version, file_id: file, version_number: 1, parse_progress: { done: 600, total: 1234 } });
    expectProblem(await request("GET", `/api/v1/file-versions/${version}`, { token: outsider.token }), 404);
    expectProblem(await request("GET", `/api/v1/files/${file}/versions`, { token: outsider.token }), 404);
    await request("DELETE", `/api/v1/files/${file}`, { token: client.token });
    expectProblem(await request("GET", `/api/v1/file-versions/${version}`, { token: client.token }), 404);
    expectProblem(await request("GET", `/api/v1/files/${file}/versions`, { token: client.token }), 404);
  });
});
