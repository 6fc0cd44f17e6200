import { TEST_PASSWORD, unique } from "../helpers/factories.ts";
import { statuses, type OperationPolicy } from "./policy.ts";
import { insertClientUser } from "./world.ts";

/**
 * Users, roles and permissions: admins everything; client admins manage their own
 * organization's people; pms read the platform's people (not the clients'); members
 * and staff hold no user:read. Changes aim at a fresh user of the client organization
 * per actor.
 */
const managers = { admin: 200, client_admin: 200, client_member: 403 };
const readers = { admin: 200, pm: 200, client_admin: 200, other_client: 200 };

export const policies: OperationPolicy[] = [
  { operationId: "listUsers", request: () => ({ method: "GET", path: "/api/v1/users" }), expect: statuses(403, readers) },
  {
    operationId: "createUser",
    request: (world) => ({
      method: "POST",
      path: "/api/v1/users",
      body: { email: `${unique("matrix")}@client.test`, full_name: "Matrix Person", password: TEST_PASSWORD, org_id: world.client_org_id },
    }),
    expect: statuses(403, { admin: 201, client_admin: 201, other_client: 404 }),
  },
  {
    operationId: "getUser",
    request: (world) => ({ method: "GET", path: `/api/v1/users/${world.accounts.client_member.user_id}` }),
    expect: statuses(404, managers),
  },
  {
    operationId: "updateUser",
    request: async (world) => ({ method: "PATCH", path: `/api/v1/users/${await insertClientUser(world)}`, body: { full_name: "Renamed" } }),
    expect: statuses(404, managers),
  },
  {
    operationId: "deleteUser",
    request: async (world) => ({ method: "DELETE", path: `/api/v1/users/${await insertClientUser(world)}` }),
    expect: statuses(404, { ...managers, admin: 204, client_admin: 204 }),
  },
  {
    operationId: "restoreUser",
    request: async (world) => ({ method: "POST", path: `/api/v1/users/${await insertClientUser(world, { deleted: true })}/restore` }),
    expect: statuses(404, managers),
  },
  {
    operationId: "setUserRoles",
    request: async (world) => ({ method: "PUT", path: `/api/v1/users/${await insertClientUser(world)}/roles`, body: { roles: ["client_admin"] } }),
    expect: statuses(404, managers),
  },
  { operationId: "listRoles", request: () => ({ method: "GET", path: "/api/v1/roles" }), expect: statuses(403, readers) },
  { operationId: "listPermissions", request: () => ({ method: "GET", path: "/api/v1/permissions" }), expect: statuses(403, readers) },
];
