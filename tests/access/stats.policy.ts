import { statuses, type OperationPolicy } from "./policy.ts";

/**
 * A project's statistics rate named platform staff: for its pm and platform admins.
 * Everyone else who sees the project (its staff through their assignments, the client
 * organization) gets 403; the other client 404.
 */
export const policies: OperationPolicy[] = [
  {
    operationId: "getProjectStats",
    request: (world) => ({ method: "GET", path: `/api/v1/projects/${world.project_id}/stats` }),
    expect: statuses(403, { admin: 200, pm: 200, other_client: 404 }),
  },
];
