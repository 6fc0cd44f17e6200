import { describe, expect, it } from "vitest";
import { annotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertFile, insertVersion, parseFinished } from "./helpers/projects.ts";

const db = testDb();

describe("GET /file-versions/{version_id}/tables", () => {
  it("lists the version's tables with columns and row counts in one round trip", async () => {
    const world = await annotationProject({ rows: 3 });
    const response = await request("GET", `/api/v1/file-versions/${world.version_id}/tables`, { token: world.client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data).toEqual([
      {
        table_id: world.table_id,
        name: "data",
        columns: [
          { name: "text", type: "string", nullable: false },
          { name: "n", type: "integer", nullable: false },
        ],
        row_count: 3,
      },
    ]);
  });

  it("is 404 for another organization", async () => {
    const world = await annotationProject({ rows: 1 });
    const stranger = await registerClient();
    const response = await request("GET", `/api/v1/file-versions/${world.version_id}/tables`, { token: stranger.token });
    expect(response.status).toBe(404);
  });
});

describe("GET /file-tables/{table_id}/rows", () => {
  it("pages through rows by row_index with a stable cursor", async () => {
    const world = await annotationProject({ rows: 5 });
    const first = await request("GET", `/api/v1/file-tables/${world.table_id}/rows?limit=2`, { token: world.pm.token });
    expect(first.status).toBe(200);
    expect(first.roundTrips).toBe(1);
    expect(first.body.data).toEqual([
      { row_index: 0, data: { text: "row 0", n: 0 } },
      { row_index: 1, data: { text: "row 1", n: 1 } },
    ]);
    const rest: number[] = [];
    let cursor: string | null = first.body.next_cursor;
    while (cursor) {
      const page = await request("GET", `/api/v1/file-tables/${world.table_id}/rows?limit=2&cursor=${cursor}`, { token: world.pm.token });
      rest.push(...page.body.data.map((row: { row_index: number }) => row.row_index));
      cursor = page.body.next_cursor;
    }
    expect(rest).toEqual([2, 3, 4]);
  });

  it("hides rows from staff, who work through their jobs (404)", async () => {
    const world = await annotationProject({ rows: 1 });
    const annotator = await createUser("annotator");
    const response = await request("GET", `/api/v1/file-tables/${world.table_id}/rows`, { token: annotator.token });
    expect(response.status).toBe(404);
  });
});

describe("POST /file-versions/{version_id}/reparse", () => {
  it("queues a new parse generation, audited, and answers 202 with the version; the queued message parses it", async () => {
    const world = await annotationProject({ rows: 1 });
    const fileId = await insertFile({ project_id: world.project_id, org_id: world.org_id });
    const versionId = await insertVersion(fileId, { content: new TextEncoder().encode("word,count\nalpha,1\nbeta,2\n") });
    const response = await request("POST", `/api/v1/file-versions/${versionId}/reparse`, { token: world.client.token });
    expect(response.status).toBe(202);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ version_id: versionId, parse_status: "queued" });
    const events = await db.execute(sql`select count(*)::int as n from event_log where entity_type = 'file_version' and entity_id = ${versionId} and action = 'file_version.reparse'`);
    expect(events.rows).toEqual([{ n: 1 }]);
    // Only a message on the real queue, delivered to the consumer, parses generation 1.
    expect(await parseFinished(versionId)).toEqual({ parse_status: "succeeded", parse_generation: 1, parse_error: null, tables: 1 });
    const tables = await request("GET", `/api/v1/file-versions/${versionId}/tables`, { token: world.client.token });
    expect(tables.body.data).toEqual([expect.objectContaining({ row_count: 2 })]);
  });

  it("is 409 while the upload has not completed", async () => {
    const world = await annotationProject({ rows: 1 });
    const fileId = await insertFile({ project_id: world.project_id, org_id: world.org_id });
    const versionId = await insertVersion(fileId, { pending: true });
    const response = await request("POST", `/api/v1/file-versions/${versionId}/reparse`, { token: world.client.token });
    expect(response.status).toBe(409);
  });

  it("is 403 for a client member, who may read but not reparse", async () => {
    const world = await annotationProject({ rows: 1 });
    const member = await createUser("client_member", world.org_id);
    const response = await request("POST", `/api/v1/file-versions/${world.version_id}/reparse`, { token: member.token });
    expect(response.status).toBe(403);
  });
});
