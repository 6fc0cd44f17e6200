import { sql, testDb } from "../helpers/db.ts";
import { insertFile, insertVersion, parseFinished } from "../helpers/projects.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * Parsed tables follow their file: readable with file:read by admins, the project's pm
 * and the client organization; a reparse needs file:update (admins, the pm, the client
 * admin). Staff work through jobs and never see files (404); the other client sees
 * nothing (404).
 */

const READERS = { admin: 200, pm: 200, client_admin: 200, client_member: 200 } as const;

/**
 * A fresh ready version per actor, so a reparse never touches the world's own tables.
 * Its bytes are in R2, so the parse an accepted reparse queues finishes at once instead
 * of retrying against a missing object while other files run.
 */
const reparseTargets: number[] = [];

async function freshVersion(world: World): Promise<number> {
  const fileId = await insertFile({ project_id: world.project_id, org_id: world.client_org_id });
  const versionId = await insertVersion(fileId, { content: new TextEncoder().encode("text,label\nreparsed,a\n") });
  await testDb().execute(sql`update file_version set parse_status = 'succeeded' where version_id = ${versionId}`);
  reparseTargets.push(versionId);
  return versionId;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "listVersionTables",
    request: (world) => ({ method: "GET", path: `/api/v1/file-versions/${world.version_id}/tables` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "listTableRows",
    request: (world) => ({ method: "GET", path: `/api/v1/file-tables/${world.table_id}/rows` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "reparseFileVersion",
    request: async (world) => ({ method: "POST", path: `/api/v1/file-versions/${await freshVersion(world)}/reparse` }),
    expect: statuses(404, { admin: 202, pm: 202, client_admin: 202, client_member: 403 }),
    settle: async () => {
      await Promise.all(reparseTargets.map((versionId) => parseFinished(versionId)));
    },
  },
];
