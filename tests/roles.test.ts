import { beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, ROLES } from "../src/db/seed/catalog.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, login, registerClient, TEST_PASSWORD, unique, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";

const db = testDb();

let admin: Account;

beforeAll(async () => {
  admin = await createUser("admin");
});

async function createClientUser(client: Account) {
  const response = await request("POST", "/api/v1/users", {
    token: client.token,
    body: { email: `${unique("person")}@client.test`, full_name: "Person", password: TEST_PASSWORD },
  });
  expect(response.status).toBe(201);
  return response;
}

function setRoles(token: string, userId: number, roles: unknown, headers: Record<string, string> = {}) {
  return request("PUT", `/api/v1/users/${userId}/roles`, { token, body: { roles }, headers });
}

describe("GET /roles", () => {
  it("lists the whole catalog, with each role's permissions, to platform callers", async () => {
    const response = await request("GET", "/api/v1/roles", { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body.next_cursor).toBeNull();
    expect(response.body.data.map((role: { name: string }) => role.name)).toEqual(ROLES.map((role) => role.name).sort());
    const member = response.body.data.find((role: { name: string }) => role.name === "client_member");
    expect(member).toEqual({
      role_id: expect.any(Number),
      name: "client_member",
      org_kind: "client",
      description: expect.any(String),
      permissions: [...ROLES.find((role) => role.name === "client_member")!.permissions].sort(),
    });
  });

  it("shows clients the client roles only, filters by org_kind and pages", async () => {
    const client = await registerClient();
    const response = await request("GET", "/api/v1/roles", { token: client.token });
    expect(response.body.data.map((role: { name: string }) => role.name)).toEqual(["client_admin", "client_member"]);
    const platform = await request("GET", "/api/v1/roles?org_kind=platform&limit=2", { token: admin.token });
    expect(platform.body.data.map((role: { name: string }) => role.name)).toEqual(["admin", "annotator"]);
    const next = await request("GET", `/api/v1/roles?org_kind=platform&limit=2&cursor=${platform.body.next_cursor}`, { token: admin.token });
    expect(next.body.data.map((role: { name: string }) => role.name)).toEqual(["pm", "qc"]);
  });

  it("needs user:read (403 for members and staff)", async () => {
    const client = await registerClient();
    const member = await createUser("client_member", client.org_id);
    expect((await request("GET", "/api/v1/roles", { token: member.token })).status).toBe(403);
    const qc = await createUser("qc");
    expect((await request("GET", "/api/v1/roles", { token: qc.token })).status).toBe(403);
  });
});

describe("GET /permissions", () => {
  it("lists the permission catalog by name in one round trip", async () => {
    const response = await request("GET", "/api/v1/permissions?limit=200", { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body.data.map((permission: { name: string }) => permission.name)).toEqual(PERMISSIONS.map((permission) => permission.name).sort());
    const client = await registerClient();
    expect((await request("GET", "/api/v1/permissions?limit=1", { token: client.token })).body.data).toHaveLength(1);
  });
});

describe("PUT /users/{user_id}/roles", () => {
  it("replaces a user's roles, audited, in one round trip; the next sign-in carries them", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const response = await setRoles(client.token, created.body.user_id, ["client_admin", "client_member", "client_admin"], {
      "if-match": created.headers.get("etag")!,
    });
    expect(response.status).toBe(200);
    expect(response.roundTrips).toBe(1);
    expect(response.body).toMatchObject({ user_id: created.body.user_id, roles: ["client_admin", "client_member"] });
    expect(response.headers.get("etag")).not.toBe(created.headers.get("etag"));

    const events = await db.execute(sql`select actor_id, before, after from event_log
      where entity_type = 'user' and entity_id = ${created.body.user_id} and action = 'user.set_roles'`);
    expect(events.rows).toEqual([
      { actor_id: client.user_id, before: { roles: ["client_member"] }, after: { roles: ["client_admin", "client_member"], sessions_revoked: 0 } },
    ]);

    const tokens = await login(created.body.email);
    const me = await request("GET", "/api/v1/auth/me", { token: tokens.access_token });
    expect(me.body.roles).toEqual(["client_admin", "client_member"]);
    expect(me.body.permissions).toContain("user:manage");

    const cleared = await setRoles(client.token, created.body.user_id, []);
    expect(cleared.body.roles).toEqual([]);
    expect((await request("GET", `/api/v1/users/${created.body.user_id}`, { token: client.token })).body.roles).toEqual([]);
  });

  it("lets platform admins grant platform roles to platform people", async () => {
    const staff = await createUser("annotator");
    const response = await setRoles(admin.token, staff.user_id, ["reviewer", "qc"]);
    expect(response.status).toBe(200);
    expect(response.body.roles).toEqual(["qc", "reviewer"]);
  });

  it("judges roles: unknown 422 with its path, platform roles 403 for clients, wrong kind 422; nothing changes", async () => {
    const client = await registerClient();
    const created = await createClientUser(client);
    const unknown = await setRoles(client.token, created.body.user_id, ["ruler"]);
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ path: "body.roles.0", message: "no role is named ruler" }]);
    expect((await setRoles(client.token, created.body.user_id, ["admin"])).status).toBe(403);
    const wrongKind = await setRoles(admin.token, created.body.user_id, ["client_member", "pm"]);
    expect(wrongKind.status).toBe(422);
    expect(wrongKind.body.errors).toEqual([{ path: "body.roles.1", message: "pm is a role for platform organizations" }]);
    const invalid = await setRoles(client.token, created.body.user_id, "client_admin");
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ path: "body.roles" })]);
    expect((await request("GET", `/api/v1/users/${created.body.user_id}`, { token: client.token })).body.roles).toEqual(["client_member"]);
  });

  it("refuses your own roles (403), a stale If-Match (412), members (403) and other organizations (404)", async () => {
    const client = await registerClient();
    expect((await setRoles(client.token, client.user_id, ["client_member"])).status).toBe(403);
    const created = await createClientUser(client);
    await setRoles(client.token, created.body.user_id, ["client_admin"]);
    const stale = await setRoles(client.token, created.body.user_id, ["client_member"], { "if-match": created.headers.get("etag")! });
    expect(stale.status).toBe(412);
    expect(stale.roundTrips).toBe(1);
    const member = await createUser("client_member", client.org_id);
    expect((await setRoles(member.token, created.body.user_id, ["client_member"])).status).toBe(403);
    const other = await registerClient();
    expect((await setRoles(other.token, created.body.user_id, ["client_member"])).status).toBe(404);
    const pm = await createUser("pm");
    expect((await setRoles(pm.token, created.body.user_id, ["client_member"])).status).toBe(404);
    expect((await request("GET", `/api/v1/users/${created.body.user_id}`, { token: client.token })).body.roles).toEqual(["client_admin"]);
  });
});
