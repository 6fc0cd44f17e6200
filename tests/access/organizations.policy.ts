import { unique } from "../helpers/factories.ts";
import { statuses, type OperationPolicy } from "./policy.ts";
import { insertOrganization } from "./world.ts";

/**
 * Organizations: admins everything; everyone with organization:read sees their own
 * (pms also the clients of their projects); client admins rename their own; only
 * admins create, delete and restore. Staff hold no organization:read.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "listOrganizations",
    request: () => ({ method: "GET", path: "/api/v1/organizations" }),
    expect: statuses(200, { annotator: 403, reviewer: 403, qc: 403 }),
  },
  {
    operationId: "createOrganization",
    request: () => ({ method: "POST", path: "/api/v1/organizations", body: { name: unique("Matrix Org") } }),
    expect: statuses(403, { admin: 201 }),
  },
  {
    operationId: "getOrganization",
    request: (world) => ({ method: "GET", path: `/api/v1/organizations/${world.client_org_id}` }),
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 200 }),
  },
  {
    operationId: "updateOrganization",
    // Renaming is harmless to the world; each actor picks its own new name.
    request: (world) => ({ method: "PATCH", path: `/api/v1/organizations/${world.client_org_id}`, body: { name: unique("World Client") } }),
    expect: statuses(404, { admin: 200, pm: 403, client_admin: 200, client_member: 403 }),
  },
  {
    operationId: "deleteOrganization",
    // The admin, who may, deletes a fresh organization; the others try the world's.
    request: async (world, actor) => ({
      method: "DELETE",
      path: `/api/v1/organizations/${actor === "admin" ? await insertOrganization() : world.client_org_id}`,
    }),
    expect: statuses(404, { admin: 204, pm: 403, client_admin: 403, client_member: 403 }),
  },
  {
    operationId: "restoreOrganization",
    request: async (world, actor) => ({
      method: "POST",
      path: `/api/v1/organizations/${actor === "admin" ? await insertOrganization({ deleted: true }) : world.client_org_id}/restore`,
    }),
    expect: statuses(404, { admin: 200, pm: 403, client_admin: 403, client_member: 403 }),
  },
];
