import { insertProject } from "../helpers/projects.ts";
import { statuses, type Actor, type OperationPolicy, type World } from "./policy.ts";

/**
 * Label schema: read by whoever sees the project (its staff too: annotators answer it);
 * changed only by the project's pm and platform admins. The client organization sees the
 * project but may not change its schema (403); the other client sees nothing (404).
 *
 * Admin and pm change a fresh project of their own, so the world's project never gets
 * a schema (the annotation policies save free JSON on its jobs); everyone else aims at
 * the world's project and is refused before anything changes.
 */

const WRITERS: readonly Actor[] = ["admin", "pm"];

async function target(world: World, actor: Actor): Promise<number> {
  if (!WRITERS.includes(actor)) return world.project_id;
  const project = await insertProject(world.client_org_id, { our_pm_id: world.accounts.pm.user_id });
  return project.project_id;
}

const QUESTIONS = [
  { name: "sentiment", type: "label", required: true, options: ["positive", "negative"] },
  { name: "note", type: "text", required: false },
];

export const policies: OperationPolicy[] = [
  {
    operationId: "getLabelSchema",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/label-schema` }),
    expect: statuses(200, { other_client: 404 }),
  },
  {
    operationId: "putLabelSchema",
    request: async (world, actor) => ({
      method: "PUT",
      path: `/api/v1/projects/${await target(world, actor)}/label-schema`,
      body: { questions: QUESTIONS },
    }),
    expect: statuses(403, { admin: 200, pm: 200, other_client: 404 }),
  },
];
