import { describe, expect, it } from "vitest";
import { diffSchemas } from "../src/features/schema-diff/schema-diff.ts";
import { annotationProject } from "./helpers/annotation.ts";
import { sql, testDb } from "./helpers/db.ts";
import { registerClient } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertVersion } from "./helpers/projects.ts";
import { parsedCsv } from "./helpers/quality.ts";

describe("GET /file-versions/{version_id}/schema-diff", () => {
  it("lists columns added, removed and retyped since the previous version, in one round trip", async () => {
    const world = await annotationProject({ rows: 1 });
    const first = await parsedCsv(world, "id,label,amount,dropped\n1,a,3,x\n");
    const second = await parsedCsv(world, "id,label,score,amount\n1,a,0.5,N/A\n", { fileId: first.file_id, versionNumber: 2 });
    const response = await request("GET", `/api/v1/file-versions/${second.version_id}/schema-diff`, { token: world.client.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toEqual({
      version_id: second.version_id,
      version_number: 2,
      previous_version_id: first.version_id,
      previous_version_number: 1,
      tables: [
        {
          name: "data",
          table_id: second.table_id,
          previous_table_id: first.table_id,
          added: [{ name: "score", type: "number" }],
          removed: [{ name: "dropped", type: "string" }],
          retyped: [{ name: "amount", from: "integer", to: "string" }],
        },
      ],
    });
  });

  it("compares the first version with nothing (every column added) and skips earlier versions without tables", async () => {
    const world = await annotationProject({ rows: 1 });
    const first = await parsedCsv(world, "id\n1\n");
    const firstDiff = await request("GET", `/api/v1/file-versions/${first.version_id}/schema-diff`, { token: world.pm.token });
    expect(firstDiff.body).toMatchObject({ previous_version_id: null, tables: [{ added: [{ name: "id", type: "integer" }], removed: [], retyped: [] }] });

    const failed = await insertVersion(first.file_id, { version_number: 2 });
    await testDb().execute(sql`update file_version set parse_status = 'failed', parse_error = 'bad' where version_id = ${failed}`);
    const third = await parsedCsv(world, "id,extra\n1,2\n", { fileId: first.file_id, versionNumber: 3 });
    const diff = await request("GET", `/api/v1/file-versions/${third.version_id}/schema-diff`, { token: world.pm.token });
    expect(diff.body).toMatchObject({ previous_version_id: first.version_id, tables: [{ added: [{ name: "extra", type: "integer" }] }] });

    const unparsed = await request("GET", `/api/v1/file-versions/${failed}/schema-diff`, { token: world.pm.token });
    expect(unparsed.status).toBe(409);
  });

  it("is 404 for another organization", async () => {
    const world = await annotationProject({ rows: 1 });
    const stranger = await registerClient();
    expect((await request("GET", `/api/v1/file-versions/${world.version_id}/schema-diff`, { token: stranger.token })).status).toBe(404);
  });
});

describe("diffSchemas", () => {
  const column = (name: string, type = "string") => ({ name, type, nullable: false });

  it("matches workbook sheets by name and reports sheets added and removed", () => {
    const previous = [
      { table_id: 1, name: "Sheet1", columns: [column("a")] },
      { table_id: 2, name: "Old", columns: [column("x", "integer")] },
    ];
    const current = [
      { table_id: 3, name: "Sheet1", columns: [column("a", "date")] },
      { table_id: 4, name: "New", columns: [column("y")] },
    ];
    expect(diffSchemas(current, previous)).toEqual([
      { name: "Sheet1", table_id: 3, previous_table_id: 1, added: [], removed: [], retyped: [{ name: "a", from: "string", to: "date" }] },
      { name: "New", table_id: 4, previous_table_id: null, added: [{ name: "y", type: "string" }], removed: [], retyped: [] },
      { name: "Old", table_id: null, previous_table_id: 2, added: [], removed: [{ name: "x", type: "integer" }], retyped: [] },
    ]);
  });

  it("matches the only table of each version whatever its name (a CSV renamed between versions)", () => {
    expect(diffSchemas([{ table_id: 2, name: "b", columns: [column("a")] }], [{ table_id: 1, name: "a", columns: [column("a")] }])).toEqual([
      { name: "b", table_id: 2, previous_table_id: 1, added: [], removed: [], retyped: [] },
    ]);
  });
});
