import { insertFile } from "../helpers/projects.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * File metadata: readable by admins, the project's pm and the client organization
 * (file:read); renamed or re-labelled by admins, the pm and the client admin
 * (file:update); deleted by admins and the client admin (file:delete). Staff never see
 * files (they work through jobs): 404 on a file, but 403 on the list of a project they
 * can see through their job. The other client sees nothing (404).
 */

const READERS = { admin: 200, pm: 200, client_admin: 200, client_member: 200 } as const;

/** A fresh file in the world's project, per actor, for the operations that change one. */
async function freshFile(world: World): Promise<number> {
  return insertFile({ project_id: world.project_id, org_id: world.client_org_id });
}

export const policies: OperationPolicy[] = [
  {
    operationId: "listProjectFiles",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/files` }),
    expect: statuses(403, { ...READERS, other_client: 404 }),
  },
  {
    operationId: "getFile",
    request: (world) => ({ method: "GET", path: `/api/v1/files/${world.file_id}` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "updateFile",
    request: async (world) => ({ method: "PATCH", path: `/api/v1/files/${await freshFile(world)}`, body: { language: "en" } }),
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 403 }),
  },
  {
    operationId: "deleteFile",
    request: async (world) => ({ method: "DELETE", path: `/api/v1/files/${await freshFile(world)}` }),
    expect: statuses(404, { admin: 204, pm: 403, client_admin: 204, client_member: 403 }),
  },
  {
    operationId: "listFileVersions",
    request: (world) => ({ method: "GET", path: `/api/v1/files/${world.file_id}/versions` }),
    expect: statuses(404, READERS),
  },
  {
    operationId: "getFileVersion",
    request: (world) => ({ method: "GET", path: `/api/v1/file-versions/${world.version_id}` }),
    expect: statuses(404, READERS),
  },
];
