import { sql, testDb } from "../helpers/db.ts";
import { statuses, type Actor, type OperationPolicy, type World } from "./policy.ts";

/**
 * Exports: whoever holds export:create / export:read on a project they can see (admins,
 * the project's pm, the client's admin and members). Staff see the project through their
 * assignment but may not export: 403. Another organization: 404.
 */
const EXPORTERS = ["admin", "pm", "client_admin", "client_member"] as const satisfies readonly Actor[];
const CLIENTS: readonly Actor[] = ["client_admin", "client_member", "other_client"];
const staffForbidden = { annotator: 403, reviewer: 403, qc: 403 };
const allowed = (status: number) => Object.fromEntries(EXPORTERS.map((actor) => [actor, status])) as Partial<Record<Actor, number>>;

/** A queued export of the world's project, written straight to the database (no queue message, so it stays queued). */
async function insertWorldExport(world: World): Promise<number> {
  const result = await testDb().execute(sql`insert into export_log (project_id, org_id, format, scope, r2_key)
    values (${world.project_id}, ${world.client_org_id}, 'jsonl', 'approved',
      ${`exports/${world.client_org_id}/${world.project_id}/${crypto.randomUUID()}.jsonl`})
    returning export_id`);
  return (result.rows[0] as { export_id: number }).export_id;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "createExport",
    // Clients may export approved results only (scope `all` is 403 for them, tested in exports.test.ts).
    request: (world, actor) => ({
      method: "POST",
      path: `/api/v1/projects/${world.project_id}/exports`,
      body: { format: "jsonl", scope: CLIENTS.includes(actor) ? "approved" : "all" },
    }),
    expect: statuses(404, { ...allowed(201), ...staffForbidden }),
  },
  {
    operationId: "listExports",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/exports` }),
    expect: statuses(404, { ...allowed(200), ...staffForbidden }),
  },
  {
    operationId: "getExport",
    request: async (world) => ({ method: "GET", path: `/api/v1/exports/${await insertWorldExport(world)}` }),
    expect: statuses(404, { ...allowed(200), ...staffForbidden }),
  },
];
