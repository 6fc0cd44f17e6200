import { unique } from "../helpers/factories.ts";
import { insertProject } from "../helpers/projects.ts";
import { statuses, type Actor, type OperationPolicy, type World } from "./policy.ts";

/**
 * Projects: admins everything; the client organization's admin creates, changes and
 * deletes its projects, its members only read; the pm reads and updates the projects
 * they run but neither creates nor deletes. Annotators, reviewers and qc see the world's
 * project through their job yet hold no project permission (403). The other client sees
 * nothing of the world (404) and may not create in its organization (403).
 *
 * Operations that change a project aim at a fresh one per actor (in the client
 * organization, run by the pm). Staff aim at the world's project, which they can see,
 * so their refusal is the 403 of a visible project; they never get past the check.
 */

const STAFF: readonly Actor[] = ["annotator", "reviewer", "qc"];

async function target(world: World, actor: Actor, options: { deleted?: boolean } = {}): Promise<number> {
  if (STAFF.includes(actor)) return world.project_id;
  const project = await insertProject(world.client_org_id, { our_pm_id: world.accounts.pm.user_id, deleted: options.deleted ?? false });
  return project.project_id;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "listProjects",
    request: () => ({ method: "GET", path: "/api/v1/projects" }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, client_member: 200, other_client: 200 }),
  },
  {
    operationId: "createProject",
    request: (world) => ({ method: "POST", path: "/api/v1/projects", body: { org_id: world.client_org_id, name: unique("Matrix") } }),
    expect: statuses(403, { admin: 201, client_admin: 201 }),
  },
  {
    operationId: "getProject",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}` }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, client_member: 200, other_client: 404 }),
  },
  {
    operationId: "updateProject",
    request: async (world, actor) => ({
      method: "PATCH",
      path: `/api/v1/projects/${await target(world, actor)}`,
      body: { description: "changed by the access matrix" },
    }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, other_client: 404 }),
  },
  {
    operationId: "deleteProject",
    request: async (world, actor) => ({ method: "DELETE", path: `/api/v1/projects/${await target(world, actor)}` }),
    expect: statuses(403, { admin: 204, client_admin: 204, other_client: 404 }),
  },
  {
    operationId: "restoreProject",
    request: async (world, actor) => ({ method: "POST", path: `/api/v1/projects/${await target(world, actor, { deleted: true })}/restore` }),
    expect: statuses(403, { admin: 200, client_admin: 200, other_client: 404 }),
  },
];
