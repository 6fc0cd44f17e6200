/**
 * A soft-deleted project hides its files all the way down: the version's tables, a
 * table's rows, a reparse and a download are 404 for everyone who could reach them
 * before, in the one statement each request already makes, and a refused reparse
 * changes nothing.
 */
import { describe, expect, it } from "vitest";
import { annotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

describe("files of a soft-deleted project", () => {
  it("tables, rows, reparse and download are 404 in one round trip, and the reparse writes nothing", async () => {
    const world = await annotationProject({ rows: 2 });
    const admin = await createUser("admin");
    const tables = `/api/v1/file-versions/${world.version_id}/tables`;
    const rows = `/api/v1/file-tables/${world.table_id}/rows`;
    expect((await request("GET", tables, { token: world.client.token })).status).toBe(200);
    expect((await request("GET", rows, { token: world.client.token })).status).toBe(200);

    expect((await request("DELETE", `/api/v1/projects/${world.project_id}`, { token: world.client.token })).status).toBe(204);

    for (const account of [world.client, world.pm, admin]) {
      for (const [method, path] of [
        ["GET", tables],
        ["GET", rows],
        ["POST", `/api/v1/file-versions/${world.version_id}/reparse`],
        ["GET", `/api/v1/file-versions/${world.version_id}/download`],
        ["GET", `/api/v1/file-versions/${world.version_id}`],
      ] as const) {
        const response = await request(method, path, { token: account.token });
        expect({ method, path, status: response.status, roundTrips: response.roundTrips }).toEqual({ method, path, status: 404, roundTrips: 1 });
        expect(response.headers.get("content-type")).toContain("application/problem+json");
      }
    }
    const version = await db.execute(sql`select parse_generation, parse_status from file_version where version_id = ${world.version_id}`);
    expect(version.rows).toEqual([{ parse_generation: 0, parse_status: "succeeded" }]);
    const events = await db.execute(sql`select count(*)::integer as n from event_log
      where entity_type = 'file_version' and entity_id = ${world.version_id} and action = 'file_version.reparse'`);
    expect(events.rows).toEqual([{ n: 0 }]);
  });
});
