import { insertParsedTable } from "../helpers/annotation.ts";
import { sql, testDb } from "../helpers/db.ts";
import { insertProject } from "../helpers/projects.ts";
import { statuses, type Actor, type OperationPolicy, type World } from "./policy.ts";

/**
 * Drafts: started by whoever may update the table's file (file:update) — admins, the
 * project's pm, the client organization's admin — each on a fresh table of a project
 * of the client organization with a label schema (the world's project has none, and
 * must keep none); its member sees the world's table but may not (403); staff and the
 * other client see nothing (404). A run is read like the file (file:read).
 */
const WRITERS: readonly Actor[] = ["admin", "pm", "client_admin"];

async function draftTable(world: World, actor: Actor): Promise<number> {
  if (!WRITERS.includes(actor)) return world.table_id;
  const project = await insertProject(world.client_org_id, { our_pm_id: world.accounts.pm.user_id, status: "ready_for_annotation" });
  const table = await insertParsedTable(project, 2);
  await testDb().execute(sql`insert into label_schema (project_id, questions)
    values (${project.project_id}, ${JSON.stringify([{ name: "sentiment", type: "label", required: false, options: ["positive", "negative"] }])}::jsonb)`);
  return table.table_id;
}

/** One run on the world's table per world, shared by the actors (they only read it). */
const worldDrafts = new Map<number, Promise<number>>();

async function worldDraft(world: World): Promise<number> {
  const result = await testDb().execute(sql`insert into draft_run (table_id, org_id, project_id, questions, model, row_start, row_end, next_row, total, status)
    values (${world.table_id}, ${world.client_org_id}, ${world.project_id}, '["sentiment"]'::jsonb, 'test-model', 0, 0, 1, 1, 'succeeded')
    returning draft_id`);
  return (result.rows[0] as { draft_id: number }).draft_id;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "createDraft",
    request: async (world, actor) => ({
      method: "POST",
      path: `/api/v1/file-tables/${await draftTable(world, actor)}/drafts`,
      body: { questions: ["sentiment"], instructions: "scenario:access" },
    }),
    expect: statuses(404, { admin: 202, pm: 202, client_admin: 202, client_member: 403 }),
  },
  {
    operationId: "getDraft",
    request: async (world) => {
      if (!worldDrafts.has(world.table_id)) worldDrafts.set(world.table_id, worldDraft(world));
      return { method: "GET", path: `/api/v1/drafts/${await worldDrafts.get(world.table_id)}` };
    },
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 200 }),
  },
];
